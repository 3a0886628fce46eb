"""Readability-style main-content extraction on selectolax (lexbor), in one pass over the DOM.

Why this shape: the published Readability algorithm (paragraph scoring by text length and
commas, ancestor score propagation, link density, class/id hints, sibling inclusion, then
conditional cleaning of the chosen subtree) is general across news and blog sites and languages.
Lexbor parses in C; the page is then copied once into a compact Python tree (scripts, styles and
other non-text subtrees dropped) on which every step runs without going back to the DOM, which
keeps it at a few milliseconds per page. Japanese has no spaces and few commas in the Latin
sense: 、。， count as commas and a CJK character counts as three characters (about one word).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from workers.clean.boilerplate import _TOKEN, cjk_chars


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Subtrees that never hold article text (dropped while copying the DOM).
_SKIP = _words(
    "script style noscript template svg canvas head select textarea button option "
    "datalist dialog map audio video picture source track title meta link"
)
#: HTML5 elements that are page furniture by definition; skipped with the unlikely classes.
_SECTIONING_FURNITURE = _words("nav aside footer")
#: Kept as empty leaves: they count for conditional cleaning but carry no text.
_LEAF = _words("img iframe object embed input br hr")
_DIV_TO_P = _words("blockquote dl div img ol p pre table ul")
_TO_SCORE = _words("section h2 h3 h4 h5 h6 p td pre")
_INLINE = _words(
    "a abbr b bdi bdo big cite code data del dfn em font i ins kbd label mark nobr q rp rt ruby "
    "s samp small span strike strong sub sup time tt u var wbr"
)
#: Inline formatting flattened into the parent while copying (no effect on any score).
_FLATTEN = _words(
    "a span b i em strong font small big sup sub cite abbr time label u s mark strike tt q dfn "
    "kbd samp var bdi bdo nobr ins del data"
)
_HEADINGS = _words("h1 h2 h3 h4 h5 h6")
_TAG_BASE = {"div": 5, "pre": 3, "td": 3, "blockquote": 3, "address": -3, "ol": -3, "ul": -3,
             "dl": -3, "dd": -3, "dt": -3, "li": -3, "form": -3, "h1": -5, "h2": -5, "h3": -5,
             "h4": -5, "h5": -5, "h6": -5, "th": -5}  # fmt: skip
#: Removed from the chosen article whatever their content (Readability's prepArticle).
_DROP_IN_ARTICLE = _words("object embed footer link aside iframe input nav")

# Readability's class/id vocabulary (general web-authoring conventions, not site strings).
_UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|"
    r"gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|"
    r"sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote"
)
_MAYBE = re.compile(r"and|article|body|content|main|shadow")
_UNLIKELY_ROLES = _words("menu menubar complementary navigation alert alertdialog dialog")
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|"
    r"masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|"
    r"sponsor|shopping|tags|widget"
)
_POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story"
)
_BYLINE = re.compile(r"byline|author|dateline|writtenby|p-author")
_SHARE = re.compile(r"(?:\b|_)(?:share|sharedaddy)(?:\b|_)")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)

_SENTENCE = re.compile(r"\.(?: |$)|[。！？]")
_SPACES = re.compile(r"[ \t\r\n\f\u00a0\u3000]+")

#: Readability's thresholds: paragraphs shorter than this are not scored; an article shorter
#: than ``MIN_ARTICLE_CHARS`` makes the extractor retry with fewer assumptions.
MIN_PARAGRAPH_CHARS = 25
MIN_ARTICLE_CHARS = 500
#: A CJK character counts as this many characters of length (one word, like ~3 Latin chars).
CJK_CHAR_WEIGHT = 3
#: Nodes deeper than this are flattened into their ancestor (bounded recursion and work).
MAX_DEPTH = 200
#: At most this many DOM nodes are copied, and at most ``MAX_VISITED`` DOM nodes (elements and
#: text, flattened or not) looked at (bounded time on huge pages); the cut is said in the
#: record (``truncated.elements``).
MAX_NODES = 60_000
MAX_VISITED = 500_000

STRIP_UNLIKELY, WEIGHT_CLASSES, CLEAN_CONDITIONALLY = 1, 2, 4
_ALL_FLAGS = STRIP_UNLIKELY | WEIGHT_CLASSES | CLEAN_CONDITIONALLY


class Node:
    """One element of the compact tree, with the totals of the text below it."""

    __slots__ = (
        "byline",
        "chars",
        "commas",
        "depth",
        "ekids",
        "has_block",
        "href_hash",
        "i",
        "in_table",
        "kids",
        "link_chars",
        "match",
        "own_chars",
        "own_commas",
        "own_link",
        "parent",
        "role",
        "score",
        "scored",
        "tag",
        "unlikely",
    )  # fmt: skip

    commas: int
    has_block: bool

    def __init__(
        self, tag: str, parent: Node | None, i: int, match: str = "", in_table: bool = False
    ) -> None:
        # Totals (chars, link_chars, commas, has_block) and scores are set by total_up and
        # score_candidates before anything reads them; set here only what copying knows.
        self.tag, self.parent, self.i, self.match, self.in_table = tag, parent, i, match, in_table
        self.kids: list[Node | str] = []
        self.ekids: list[Node] = []
        self.own_chars, self.own_link, self.own_commas = 0.0, 0.0, 0
        self.role = ""
        self.href_hash = self.byline = self.unlikely = self.scored = False
        self.depth: int = parent.depth + 1 if parent is not None else 0
        self.chars = self.link_chars = self.score = 0.0

    def elements(self) -> list[Node]:
        return self.ekids


def text_chars(text: str) -> float:
    """Length of a text for scoring: spaces collapsed, a CJK character weighing a word."""
    if "\n" in text or "  " in text or "\t" in text:
        n = len(" ".join(text.split()))
    else:
        n = len(text.strip())
    if not text.isascii():
        n += (CJK_CHAR_WEIGHT - 1) * cjk_chars(text)
    return n


def _commas(text: str) -> int:
    """Commas, counting the CJK comma and full stop (、。) as Readability counts ','."""
    if text.isascii():
        return text.count(",")
    # Five C calls, no generator: this runs for every text node.
    return (
        text.count(",") + text.count("、") + text.count("，") + text.count("。") + text.count("،")
    )


_T = TypeVar("_T")

#: The class-string caches hold at most this many strings of at most this many characters.
_MEMO_SIZE, _MEMO_KEY_CHARS = 4096, 200


def _memo_short(fn: Callable[[str], _T]) -> Callable[[str], _T]:
    """Memoize a pure str -> value function for short strings, in a dict emptied when full:
    pages are untrusted, so neither long nor endlessly new strings may grow the process."""
    cache: dict[str, _T] = {}

    def memoized(key: str) -> _T:
        got = cache.get(key)
        if got is None:  # no cached function returns None
            got = fn(key)
            if len(key) <= _MEMO_KEY_CHARS:
                if len(cache) >= _MEMO_SIZE:
                    cache.clear()
                cache[key] = got
        return got

    return memoized


@_memo_short
def _class_hints(match: str) -> tuple[bool, bool]:
    """(unlikely, byline) as a "class id" string says. Cached: class names repeat within a
    page (list items, menu entries) and across a site's pages, and these regexes are slow."""
    unlikely = _UNLIKELY.search(match) is not None and _MAYBE.search(match) is None
    return unlikely, _BYLINE.search(match) is not None


def build(root: LexborNode, prune_unlikely: bool) -> list[Node]:
    """The nodes of ``build_tree`` (document order)."""
    return build_tree(root, prune_unlikely)[0]


def build_tree(root: LexborNode, prune_unlikely: bool) -> tuple[list[Node], bool]:
    """Copy the DOM below ``root`` into a compact tree; returns its nodes in document order,
    and whether the whole DOM was copied (False: a size bound stopped it).

    Hidden subtrees are left out, and so are unlikely candidates (class/id/role of page
    furniture; <nav>, <aside>, <footer>) when ``prune_unlikely``: most of a page's markup is
    navigation, so this is where the time goes. Inline formatting elements (span, b, em, ...)
    are flattened into their parent: they change no score (text under <a> counts as link
    text of the parent). Iterative (no recursion limit on
    deep pages); nodes past ``MAX_DEPTH`` are flattened too, and copying stops after
    ``MAX_NODES`` nodes or ``MAX_VISITED`` DOM nodes."""
    top = Node(root.tag or "body", None, 0)
    nodes = [top]
    # (next DOM node to copy, the tree node it goes into, link weight of the text there)
    stack: list[tuple[LexborNode | None, Node, float]] = [(root.first_child, top, 0.0)]
    visits_left = MAX_VISITED
    while stack:
        dom, parent, link = stack.pop()
        if dom is None:
            continue
        visits_left -= 1
        if not visits_left:
            return nodes, False
        stack.append((dom.next, parent, link))
        tag = dom.tag
        if tag == "-text":
            text = dom.text_content
            if not text or text.isspace():
                if text:
                    parent.kids.append(" ")
                continue
            parent.kids.append(text)  # raw: whitespace is collapsed when rendering
            chars = text_chars(text)
            parent.own_chars += chars
            if link:
                parent.own_link += chars * link
            parent.own_commas += text.count(",") if text.isascii() else _commas(text)
            continue
        if tag is None or tag[0] == "-" or tag in _SKIP:
            continue
        if len(nodes) >= MAX_NODES:
            return nodes, False
        if prune_unlikely and tag in _SECTIONING_FURNITURE:
            continue
        match = role = ""
        byline = href_hash = unlikely = False
        attrs = dom.attributes
        if attrs:
            get = attrs.get
            cls, ident = get("class"), get("id")
            unlikely_class = byline_class = False
            if cls or ident:
                match = f"{cls or ''} {ident or ''}".lower()
                unlikely_class, byline_class = _class_hints(match)
            style = get("style")
            if (
                "hidden" in attrs
                or (style and _HIDDEN_STYLE.search(style))
                or (get("aria-hidden") == "true" and "fallback-image" not in match)
            ):
                continue
            role = (get("role") or "").lower()
            unlikely = (
                not parent.in_table and tag != "a" and (role in _UNLIKELY_ROLES or unlikely_class)
            )
            if unlikely and prune_unlikely:
                continue
            byline = byline_class or get("rel") == "author" or ("author" in (get("itemprop") or ""))
            href_hash = tag == "a" and (get("href") or "").startswith("#")
        if tag == "a":  # Readability: in-page ("#") links weigh 0.3
            link = 0.3 if href_hash else 1.0
        if (tag in _FLATTEN and not unlikely and not byline) or (
            parent.depth >= MAX_DEPTH and tag not in _LEAF
        ):
            stack.append((dom.first_child, parent, link))
            continue
        node = Node(tag, parent, len(nodes), match, parent.in_table or tag in ("table", "code"))
        if attrs:
            node.role, node.byline, node.unlikely = role, byline, unlikely
            node.href_hash = href_hash
        nodes.append(node)
        parent.kids.append(node)
        parent.ekids.append(node)
        if tag not in _LEAF:
            stack.append((dom.first_child, node, link))
    return nodes, True


def total_up(nodes: list[Node], dead: set[int]) -> None:
    """Text length, link text length, commas and block-ness of every live node (children first)."""
    for node in reversed(nodes):
        chars, link, commas, block = node.own_chars, node.own_link, node.own_commas, False
        for kid in node.ekids:
            if kid.i not in dead:
                chars += kid.chars
                link += kid.link_chars
                commas += kid.commas
                block = block or kid.has_block or kid.tag in _DIV_TO_P
        node.chars, node.link_chars, node.commas, node.has_block = chars, link, commas, block


def link_density(node: Node) -> float:
    return node.link_chars / node.chars if node.chars else 0.0


def class_weight(node: Node, flags: int) -> int:
    if not flags & WEIGHT_CLASSES or not node.match:
        return 0
    return _match_weight(node.match)


@_memo_short
def _match_weight(match: str) -> int:
    """Readability's class weight of a "class id" string (cached like ``_class_hints``)."""
    cls, _, ident = match.rpartition(" ")
    weight = 0
    for part in (cls, ident):
        if part:
            weight -= 25 if _NEGATIVE.search(part) else 0
            weight += 25 if _POSITIVE.search(part) else 0
    return weight


def _init_score(node: Node, flags: int) -> None:
    if not node.scored:
        node.scored = True
        node.score = _TAG_BASE.get(node.tag, 0) + class_weight(node, flags)


def _paragraphs(nodes: list[Node], dead: set[int]) -> Iterator[tuple[Node, float, int, bool]]:
    """(parent, chars, commas, as_div_run) of every scorable paragraph: p/td/pre/section/h2-6,
    divs without block children (Readability turns them into <p>), and runs of inline content
    directly inside a div that has block children (Readability wraps those in <p>)."""
    for node in nodes:
        if node.i in dead or node.parent is None:
            continue
        if node.tag in _TO_SCORE or (node.tag == "div" and not node.has_block):
            yield node.parent, node.chars, node.commas, False
        if node.tag == "div" and node.has_block:
            chars, commas, brs = 0.0, 0, 0
            for kid in node.kids:
                if isinstance(kid, str):
                    if kid != " ":
                        chars += text_chars(kid)
                        commas += _commas(kid)
                        brs = 0
                    continue
                if kid.i in dead:
                    continue
                if kid.tag == "br":
                    brs += 1
                    if brs < 2:
                        continue
                elif kid.tag in _INLINE and not kid.has_block:
                    chars, commas, brs = chars + kid.chars, commas + kid.commas, 0
                    continue
                if chars:
                    yield node, chars, commas, True
                chars, commas, brs = 0.0, 0, 0
            if chars:
                yield node, chars, commas, True


def _ancestors(node: Node | None, limit: int) -> list[Node]:
    out: list[Node] = []
    while node is not None and node.parent is not None and len(out) < limit:
        out.append(node)
        node = node.parent
    return out


def score_candidates(nodes: list[Node], dead: set[int], flags: int) -> list[Node]:
    """Readability's scoring: each paragraph's score goes to 5 ancestors, divided by distance;
    each candidate is then scaled down by its link density."""
    for node in nodes:
        node.scored, node.score = False, 0.0
    candidates: list[Node] = []
    for parent, chars, commas, _ in _paragraphs(nodes, dead):
        if chars < MIN_PARAGRAPH_CHARS:
            continue
        score = 2 + commas + min(int(chars // 100), 3)
        for level, anc in enumerate(_ancestors(parent, 5)):
            if not anc.scored:
                _init_score(anc, flags)
                candidates.append(anc)
            anc.score += score / (1 if level == 0 else 2 if level == 1 else level * 3)
    for cand in candidates:
        cand.score *= 1 - link_density(cand)
    return candidates


def _shares_ancestor(top: Node, others: list[Node]) -> Node:
    lists = [set(id(a) for a in _ancestors(o.parent, 1_000)) for o in others]
    if len(lists) < 3:
        return top
    parent = top.parent
    while parent is not None and parent.parent is not None:
        if sum(id(parent) in s for s in lists) >= 3:
            return parent
        parent = parent.parent
    return top


def pick_top(candidates: list[Node], flags: int) -> Node | None:
    """Best candidate, moved up to a common ancestor of near-equal rivals or to a parent that
    scores higher (text split over several containers), then past single-child wrappers."""
    if not candidates:
        return None
    ranked = sorted(candidates, key=lambda n: n.score, reverse=True)[:5]
    top = ranked[0]
    if top.parent is None or top.score <= 0:
        return None
    rivals = [c for c in ranked[1:] if c.score / top.score >= 0.75]
    top = _shares_ancestor(top, rivals)
    _init_score(top, flags)
    last, threshold = top.score, top.score / 3
    parent = top.parent
    while parent is not None and parent.parent is not None:
        if not parent.scored:
            parent = parent.parent
            continue
        if parent.score < threshold:
            break
        if parent.score > last:
            top = parent
            break
        last = parent.score
        parent = parent.parent
    while top.parent is not None and top.parent.parent is not None:
        if sum(1 for _ in top.parent.elements()) != 1:
            break
        top = top.parent
    _init_score(top, flags)
    return top


def _is_paragraph(node: Node) -> bool:
    return node.tag == "p" or (node.tag == "div" and not node.has_block)


def with_siblings(top: Node, dead: set[int]) -> list[Node]:
    """The top candidate and the siblings that score close to it or read like paragraphs."""
    if top.parent is None:
        return [top]
    threshold = max(10.0, top.score * 0.2)
    top_class = top.match.rpartition(" ")[0]
    out = []
    for sib in top.parent.elements():
        if sib.i in dead:
            continue
        if sib is top:
            out.append(sib)
            continue
        bonus = top.score * 0.2 if top_class and sib.match.rpartition(" ")[0] == top_class else 0
        if sib.scored and sib.score + bonus >= threshold:
            out.append(sib)
        elif _is_paragraph(sib):
            density = link_density(sib)
            long_prose = sib.chars > 80 and density < 0.25
            if long_prose or (
                0 < sib.chars <= 80 and density == 0 and _SENTENCE.search(inner_text(sib, dead))
            ):
                out.append(sib)
    return out


def walk(node: Node, dead: set[int]) -> Iterator[Node]:
    """Live descendants of ``node`` (itself included), in document order."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        stack.extend(k for k in reversed(cur.ekids) if k.i not in dead)


def inner_text(node: Node, dead: set[int]) -> str:
    parts: list[str] = []
    for cur in walk(node, dead):
        parts.extend(k for k in cur.kids if isinstance(k, str))
    return _SPACES.sub(" ", "".join(parts)).strip()


#: What conditional cleaning counts below a node: <p>, <img>, <li>, <input>, embeds
#: (object/embed/iframe), and the text length of headings.
_Counts = tuple[int, int, int, int, int, float]
_NO_COUNTS: _Counts = (0, 0, 0, 0, 0, 0.0)
_COUNTED = {"p": 0, "img": 1, "li": 2, "input": 3, "object": 4, "embed": 4, "iframe": 4}


def _own_counts(node: Node) -> _Counts:
    tag = node.tag
    k = _COUNTED.get(tag)
    if k is not None:
        return (int(k == 0), int(k == 1), int(k == 2), int(k == 3), int(k == 4), 0.0)
    if tag in _HEADINGS:
        return (0, 0, 0, 0, 0, node.chars)
    return _NO_COUNTS


def _add(a: _Counts, b: _Counts) -> _Counts:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5])


def _in_figure(node: Node, memo: dict[int, bool]) -> bool:
    """Whether an ancestor of ``node`` is a <figure>. ``memo`` (node id -> is a figure or
    inside one) makes each ancestor looked at once over all the nodes of a subtree."""
    path: list[Node] = []
    cur = node.parent
    inside = False
    while cur is not None:
        got = memo.get(id(cur))
        if got is not None:
            inside = got
            break
        if cur.tag == "figure":
            memo[id(cur)] = inside = True
            break
        path.append(cur)
        cur = cur.parent
    for n in path:
        memo[id(n)] = inside
    return inside


#: (has caption/thead/th/tfoot, <tr> rows, widest row in cells) of a subtree, dead nodes too.
_TableInfo = tuple[bool, int, int]


def _table_info(node: Node, memo: dict[int, _TableInfo]) -> _TableInfo:
    """What ``_is_data_table`` looks at below ``node``, each subtree computed once (nested
    tables reuse the inner tables' figures)."""
    order: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.i in memo:
            continue
        order.append(cur)
        stack.extend(cur.ekids)
    for cur in reversed(order):  # children before parents
        marker = cur.tag in ("caption", "thead", "th", "tfoot")
        rows = 1 if cur.tag == "tr" else 0
        cols = sum(1 for k in cur.ekids if k.tag in ("td", "th")) if cur.tag == "tr" else 0
        for kid in cur.ekids:
            k_marker, k_rows, k_cols = memo[kid.i]
            marker = marker or k_marker
            rows += k_rows
            cols = max(cols, k_cols)
        memo[cur.i] = (marker, rows, cols)
    return memo[node.i]


def _is_data_table(node: Node, memo: dict[int, _TableInfo]) -> bool:
    if node.role == "presentation":
        return False
    marker, rows, cols = _table_info(node, memo)
    return marker or rows >= 10 or cols > 4 or rows * cols > 10


def _remove_conditionally(
    node: Node, counts: _Counts, in_figure: bool, dead: set[int], flags: int
) -> bool:
    """Readability's _cleanConditionally test for one table/ul/div/form inside the article;
    ``counts`` are the live subtree's (``_Counts``)."""
    weight = class_weight(node, flags)
    if weight + (node.score if node.scored else 0.0) < 0:
        return True
    if node.commas >= 10:
        return False
    c_p, c_img, c_li, c_inputs, c_embeds, heading_chars = counts
    is_list = node.tag in ("ul", "ol")
    if not is_list and node.chars:
        lists = (k for k in node.elements() if k.tag in ("ul", "ol") and k.i not in dead)
        list_chars = sum(k.chars for k in lists)
        is_list = list_chars / node.chars > 0.9
    density = link_density(node)
    length = node.chars
    heading_density = heading_chars / length if length else 0.0
    return (
        (c_img > 1 and c_p / c_img < 0.5 and not in_figure)
        or (not is_list and c_li - 100 > c_p)
        or c_inputs > c_p // 3
        or (not is_list and heading_density < 0.9 and length < 25
            and (c_img == 0 or c_img > 2) and not in_figure)
        or (not is_list and weight < 25 and density > 0.2)
        or (weight >= 25 and density > 0.5)
        or (c_embeds == 1 and length < 75)
        or c_embeds > 1
    )  # fmt: skip


def _protected(inside: list[Node], dead: set[int], tables: dict[int, _TableInfo]) -> set[int]:
    """Nodes inside a data table or <code> (as the live walks from them reach: through live
    nodes only), which conditional cleaning leaves alone. One pass, parents first."""
    protected: set[int] = set()
    for node in inside:  # document order: a node's parent comes before it
        protector = (node.tag == "table" and _is_data_table(node, tables)) or node.tag == "code"
        below = node.i not in dead and node.parent is not None and node.parent.i in protected
        if protector or below:
            protected.add(node.i)
    return protected


def prep_article(parts: list[Node], nodes: list[Node], dead: set[int], flags: int) -> None:
    """Clean the chosen subtrees: drop embeds, asides, footers, share boxes and (innermost
    first) tables, lists and divs that look like furniture rather than text.

    One pass, children before parents (linear in the subtree, however deep): each node's
    counts are summed from its live children's, and what a removal takes from the totals of
    its ancestors is passed up as each ancestor is reached (as ``_retotal_ancestors`` did
    for every removal at once)."""
    inside = [n for part in parts for n in walk(part, dead)]
    for node in inside:
        if (
            node.tag in _DROP_IN_ARTICLE
            or (node.match and _SHARE.search(node.match) and node.chars < MIN_ARTICLE_CHARS)
            or (node.tag in ("h1", "h2") and class_weight(node, flags) < 0)
        ):
            dead.add(node.i)
    total_up(inside, dead)
    if not flags & CLEAN_CONDITIONALLY:
        return
    protected = _protected(inside, dead, {})
    roots = {p.i for p in parts}
    counts: dict[int, _Counts] = {}
    # totals (chars, commas, link chars) removed below a node and not yet taken from it
    lost: dict[int, tuple[float, int, float]] = {}
    figures: dict[int, bool] = {}
    for node in reversed(inside):
        gone = lost.pop(node.i, None)
        if gone is not None:
            node.chars -= gone[0]
            node.commas -= gone[1]
            node.link_chars = max(0.0, node.link_chars - gone[2])
        removed = False
        if node.i not in dead:
            own = _own_counts(node)
            for kid in node.ekids:
                if kid.i not in dead:
                    own = _add(own, counts.get(kid.i, _NO_COUNTS))
            counts[node.i] = own
            if (
                node.i not in protected
                and node.tag in ("table", "ul", "div", "form", "fieldset")
                and _remove_conditionally(node, own, _in_figure(node, figures), dead, flags)
            ):
                dead.add(node.i)
                removed = True
        parent = node.parent
        if node.i in roots or parent is None:
            continue
        up = (node.chars, node.commas, node.link_chars) if removed else (0.0, 0, 0.0)
        if gone is not None:
            up = (up[0] + gone[0], up[1] + gone[1], up[2] + gone[2])
        if up != (0.0, 0, 0.0):
            have = lost.get(parent.i)
            lost[parent.i] = up if have is None else (
                have[0] + up[0], have[1] + up[1], have[2] + up[2])  # fmt: skip


#: Marks block boundaries while rendering (NUL never survives HTML parsing).
_BLOCK_BREAK = "\x00"
#: The control characters ``normalize.CONTROLS`` but the block mark: removed here because
#: ``split()`` below would turn some of them (VT, the separators, NEL) into spaces first.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def render(parts: list[Node], dead: set[int]) -> list[str]:
    """Text of the article, one block (paragraph, heading, list item, cell) per line."""
    out: list[str] = []
    stack: list[Node | str] = list(reversed(parts))
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        if item.i in dead:
            continue
        if item.tag in _INLINE:
            stack.extend(reversed(item.kids))
            continue
        out.append(_BLOCK_BREAK)
        stack.append(_BLOCK_BREAK)
        stack.extend(reversed(item.kids))
    text = "".join(out)
    if _CONTROL.search(text):  # removed, not spaces: they sit inside words (normalize.py)
        text = _CONTROL.sub("", text)
    lines = (" ".join(line.split()) for line in text.split(_BLOCK_BREAK))
    return [line for line in lines if line]


def _similarity(a: str, b: str) -> float:
    """Readability's text similarity: share of ``b``'s characters in tokens also in ``a``."""
    ta, tb = set(_TOKEN.findall(a.lower())), _TOKEN.findall(b.lower())
    if not ta or not tb:
        return 0.0
    unique = [t for t in tb if t not in ta]
    return 1 - len(" ".join(unique)) / len(" ".join(tb))


def _holds_blocks(node: Node) -> bool:
    """A heading left open by broken markup swallows the paragraphs after it."""
    return any(n.tag in _DIV_TO_P for n in walk(node, set()))


def _drop_title_and_byline(nodes: list[Node], title: str | None, dead: set[int]) -> None:
    """The headline and byline are page metadata, not article text (Readability drops the
    first heading that repeats the title and the first short byline element)."""
    want_title, want_byline = bool(title), True
    for node in nodes:
        if node.i in dead:
            continue
        if want_byline and node.byline:
            text = inner_text(node, dead)
            if 0 < len(text) < 100:
                dead.update(n.i for n in walk(node, dead))
                want_byline = False
                continue
        if (
            want_title
            and title
            and node.tag in ("h1", "h2")
            and not _holds_blocks(node)
            and _similarity(title, inner_text(node, dead)) > 0.75
        ):
            dead.add(node.i)
            want_title = False


@dataclass(frozen=True, slots=True)
class Extraction:
    """The article lines and how sure the extractor is that it found an article."""

    lines: list[str]
    chars: float
    fallback_body: bool
    #: False when the tree the lines come from was cut by ``MAX_NODES`` / ``MAX_VISITED``;
    #: ``elements`` is how many elements it holds.
    complete: bool = True
    elements: int = 0


def _attempt(nodes: list[Node], base_dead: set[int], flags: int, complete: bool) -> Extraction:
    dead = set(base_dead)
    total_up(nodes, dead)
    top = pick_top(score_candidates(nodes, dead, flags), flags)
    body = nodes[0]
    if top is None or top is body:
        parts = [body]
        fallback = True
    else:
        parts = with_siblings(top, dead)
        fallback = False
    prep_article(parts, nodes, dead, flags)
    chars = sum(p.chars for p in parts if p.i not in dead)
    return Extraction(render(parts, dead), chars, fallback, complete, len(nodes))


def extract(html: str | LexborHTMLParser, title: str | None = None) -> Extraction:
    """The main content of a page: Readability's loop of attempts, each dropping one
    assumption (unlikely class names, class weights, conditional cleaning) until the article
    is at least ``MIN_ARTICLE_CHARS`` long; otherwise the longest attempt."""
    tree = LexborHTMLParser(html) if isinstance(html, str) else html
    root = tree.body or tree.root
    if root is None:
        return Extraction([], 0.0, True)
    best: Extraction | None = None
    pruned: tuple[list[Node], bool] | None = None
    whole: tuple[list[Node], bool] | None = None
    for flags in (_ALL_FLAGS, _ALL_FLAGS & ~STRIP_UNLIKELY, CLEAN_CONDITIONALLY, 0):
        if flags & STRIP_UNLIKELY:
            copied = pruned = pruned or build_tree(root, prune_unlikely=True)
        else:
            copied = whole = whole or build_tree(root, prune_unlikely=False)
        nodes, complete = copied
        dead: set[int] = set()
        _drop_title_and_byline(nodes, title, dead)
        result = _attempt(nodes, dead, flags, complete)
        if result.chars >= MIN_ARTICLE_CHARS:
            return result
        if best is None or result.chars > best.chars:
            best = result
    assert best is not None
    return best
