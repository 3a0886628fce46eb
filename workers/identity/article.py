"""One article's mentions grouped into entities, before anything learned from other articles.

Rows are the extractor's (text, type, start, end, normalized): ``normalized`` already joins a
later short mention to an earlier full one (canonical.resolve_aliases). Here, in one pass over
the article's names, whatever their order:

1. a known name (``known.py``) takes its table key, and its type when the model typed it
   otherwise (立民 is a party wherever it stands);
2. a name in brackets right after another joins it (北大西洋条約機構（NATO）, 日本放送協会(NHK));
3. a short form joins the one full form of the same type it abbreviates (``names.abbreviates``:
   日本銀行 -> 日銀, 経済産業省 -> 経産省, 日本維新の会 -> 維新, 岸田文雄 -> 岸田), before or
   after it; one that fits two full forms joins neither.

Each group's key is its table key, or ``TYPE:`` + its longest name. ``evidence`` says what the
article teaches the alias book (``book.py``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from workers.identity.book import alias_entry, derived_shorts, name_entry
from workers.identity.known import KnownNames
from workers.identity.names import MAX_SHORT, abbreviates, all_kanji, parts

#: (text, type, start, end, normalized): workers.extract.EntityRow
Row = tuple[str, str, int, int, str]
_OPEN, _CLOSE = "（(", "）)"


class Mention(NamedTuple):
    kind: str
    name: str  # the row's normalized form
    own: str  # NFKC of the written text
    known: str | None  # table key, if a known name
    key: str  # its own key: the table key or TYPE:name
    evidence: tuple[str, ...]  # what it teaches the book when it stands for itself


#: Mentions by (type, normalized, text): the same names come back article after article.
_CACHE_MAX = 50_000
_cache: dict[tuple[str, str, str], Mention] = {}


def mention_of(row: Row, known: KnownNames) -> Mention:
    text, kind, _, _, normalized = row
    got = _cache.get((kind, normalized, text))
    if got is None:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        got = _cache[(kind, normalized, text)] = _mention(kind, normalized, text, known)
    return got


def _mention(kind: str, normalized: str, text: str, known: KnownNames) -> Mention:
    own = normalized if text == normalized else unicodedata.normalize("NFKC", text)
    keys = known.keys.get
    key = keys((kind, normalized)) or (keys((kind, own)) if own != normalized else None)
    if key is None:
        other = known.only_type(normalized) or known.only_type(own)
        if other is not None and other != kind:
            kind = other
            key = keys((kind, normalized)) or keys((kind, own))
    own_key = key or f"{kind}:{normalized}"
    return Mention(
        kind, normalized, own, key, own_key, _teaches(kind, normalized, own, key, own_key, known)
    )


def _teaches(
    kind: str, name: str, own: str, known_key: str | None, key: str, known: KnownNames
) -> tuple[str, ...]:
    """The entries a mention gives when its group's key is its own key."""
    keys = known.keys.get
    out = []
    if (
        known_key is None
        and full_name(key)
        and keys((kind, key.partition(":")[2])) is None
        and derived_shorts(key)  # a name no later short form can stand for teaches nothing
    ):
        out.append(name_entry(key))
    if len(name) >= 2 and key != f"{kind}:{name}" and keys((kind, name)) != key:
        out.append(alias_entry(f"{kind}:{name}", key))
    if own != name and len(own) >= 2 and key != f"{kind}:{own}" and keys((kind, own)) != key:
        out.append(alias_entry(f"{kind}:{own}", key))
    return tuple(out)


class _Groups:
    """Union-find over mentions; two groups with different table keys never join."""

    def __init__(self, mentions: list[Mention]) -> None:
        self.parent = list(range(len(mentions)))
        self.known: list[str | None] = [m.known for m in mentions]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a == b:
            return
        ka, kb = self.known[a], self.known[b]
        if ka is not None and kb is not None and ka != kb:
            return
        self.parent[b] = a
        self.known[a] = ka or kb


class ArticleEntities(NamedTuple):
    kinds: list[str]  # per row: its type (a known name's type wins)
    keys: list[str]  # per row: its group's key
    evidence: Sequence[str]  # alias-book entries the article gives


def group(text: str, rows: Sequence[Row], known: KnownNames) -> ArticleEntities:
    """The article's entities (see the module docstring)."""
    mentions = [mention_of(r, known) for r in rows]
    if len(mentions) == 1:  # one name: nothing to join
        m = mentions[0]
        return ArticleEntities([m.kind], [m.key], m.evidence)
    first: dict[tuple[str, str], int] = {}
    for i, m in enumerate(mentions):
        first.setdefault((m.kind, m.name), i)
    links: list[tuple[int, int]] = []
    if "(" in text or "（" in text:
        links += _brackets(text, rows, mentions)
    fits = _abbreviations(first, known) if len(first) > 1 else []
    if not links and not fits and len(first) == len(mentions):
        # every name once and none joined (the common case): no grouping needed
        alone = [e for m in mentions for e in m.evidence]
        return ArticleEntities([m.kind for m in mentions], [m.key for m in mentions], alone)
    groups = _Groups(mentions)
    for i, m in enumerate(mentions):  # same type and name: one group
        j = first[(m.kind, m.name)]
        if j != i:
            groups.join(j, i)
    for i, j in links:
        groups.join(i, j)
    # a short form joins the full form it fits; one that fits several joins them only when
    # they are one entity already (東京電力 and 東京電力ホールディングス for 東電)
    for short, fulls in sorted(fits, key=lambda f: len(f[1])):
        targets = {groups.find(f) for f in fulls}
        if len(targets) == 1:
            groups.join(targets.pop(), short)
    names: dict[int, str] = {}  # group -> its longest name
    roots = [groups.find(i) for i in range(len(mentions))]
    for m, g in zip(mentions, roots, strict=True):
        best = names.get(g)
        if best is None or len(m.name) > len(best):
            names[g] = m.name
    keys: list[str] = []
    evidence: list[str] = []
    for m, g in zip(mentions, roots, strict=True):
        key = groups.known[g] or f"{m.kind}:{names[g]}"
        keys.append(key)
        if key == m.key:
            evidence.extend(m.evidence)
        else:
            evidence.extend(_teaches(m.kind, m.name, m.own, m.known, key, known))
    return ArticleEntities([m.kind for m in mentions], keys, list(dict.fromkeys(evidence)))


def _brackets(text: str, rows: Sequence[Row], mentions: list[Mention]) -> list[tuple[int, int]]:
    """NAME（OTHER）: OTHER is NAME's alias when both are of one type."""
    out = []
    for i in range(len(rows) - 1):
        a, b = rows[i], rows[i + 1]
        end = a[3]
        if (
            end < len(text)
            and text[end] in _OPEN
            and b[2] == end + 1
            and b[3] < len(text)
            and text[b[3]] in _CLOSE
            and mentions[i].kind == mentions[i + 1].kind
        ):
            out.append((i, i + 1))
    return out


def _abbreviations(
    first: dict[tuple[str, str], int], known: KnownNames
) -> list[tuple[int, list[int]]]:
    """(short, [full, ...]) mentions: each short name and the full names of its type it
    abbreviates (order-free); a place name (日本 of 日本銀行) is no short form of an
    organisation. A short form shares its first character with its full name, so with many
    names only those holding that character are tried."""
    names = list(first)
    if len(names) > 8:
        starts = {name[0] for _, name in names if len(name) <= MAX_SHORT}
        holding: dict[tuple[str, str], list[str]] = {}  # (type, character) -> names with it
        for kind, name in names:
            for ch in starts.intersection(name):
                holding.setdefault((kind, ch), []).append(name)
    out = []
    for kind, short in names:
        if len(short) > MAX_SHORT:
            continue
        if len(names) > 8:
            candidates = holding.get((kind, short[0]), ())
        else:
            first_char = short[0]
            candidates = [
                f
                for k, f in names
                if k == kind and (f[0] == first_char or short in f or first_char == "J")
            ]
        fulls = [
            first[(kind, full)]
            for full in candidates
            if len(full) > len(short) and abbreviates(short, full, kind)
        ]
        if fulls and not (kind != "LOCATION" and known.only_type(short) == "LOCATION"):
            out.append((first[(kind, short)], fulls))
    return out


def full_name(key: str) -> bool:
    """Whether a key names an entity fully enough to be recognised later by a short form: a
    person's name in parts or of three kanji or more, an organisation's of three characters or
    more (a place is only ever joined through the tables)."""
    kind, _, name = key.partition(":")
    if kind == "PERSON":
        if "・" in name or "=" in name or "･" in name or "＝" in name:
            return len(parts(name)) > 1
        return len(name) >= 3 and all_kanji(name)
    return kind == "ORGANIZATION" and len(name) >= 3
