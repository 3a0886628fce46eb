"""Markup bounds before lexbor parses a page (workers.clean.markup): what is cut, what is kept.

Behaviour, not speed: lexbor's tree stays within the bounds on the shapes that made it
quadratic, text survives, and pages within the bounds come back as the very same object.
Speed figures: ``newsflow bench --adversarial`` (docs/benchmark.md).
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from workers.bench.adversarial import MARKER, PAGES
from workers.bench.corpus import generate_pages
from workers.clean import clean_page
from workers.clean._markup import bound
from workers.clean.markup import MAX_ATTRIBUTES, MAX_DEPTH, MAX_FORMATTING, bound_markup
from workers.clean.readable import MAX_DEPTH as READABLE_MAX_DEPTH

PAGE_BY_NAME = {p.name: p for p in PAGES}


def depth(html: str) -> int:
    """Depth of lexbor's element tree (<html> at 1)."""
    tree = LexborHTMLParser(html)
    best, stack = 0, [(tree.root, 1)]
    while stack:
        node, d = stack.pop()
        best = max(best, d)
        child = node.child if node is not None else None
        while child is not None:
            if child.tag and child.tag[0] != "-":
                stack.append((child, d + 1))
            child = child.next
    return best


def elements(html: str) -> int:
    root = LexborHTMLParser(html).root
    assert root is not None
    return sum(1 for n in root.traverse() if n.tag and n.tag[0] != "-")


def test_the_bound_is_above_the_extractors_own_flattening() -> None:
    # readable flattens past its MAX_DEPTH anyway: a page under both bounds is read the same
    assert MAX_DEPTH > READABLE_MAX_DEPTH


def test_pages_within_the_bounds_come_back_as_they_are() -> None:
    pages = [p["body"] for p in generate_pages(30, seed=4, kind="html")]
    pages.append("<html><body>" + "<div>" * (MAX_DEPTH - 10) + "x" + "</div>" * 50)
    for html in pages:
        bounded = bound_markup(html)
        assert bounded.html is html
        assert (bounded.elements_cut, bounded.attributes_cut) == (0, 0)


@pytest.mark.parametrize(
    "name", ["div-100k", "div-100k-open", "ul-li-50k", "table-30k", "span-100k", "svg-100k"]
)
def test_deep_nesting_is_flattened_before_parsing_and_the_text_stays(name: str) -> None:
    html = PAGE_BY_NAME[name].build()
    bounded = bound_markup(html)
    assert bounded.elements_cut > 10_000
    # implied elements (tbody, tr) may add a level per table: at most twice the bound
    assert depth(bounded.html) <= 2 * MAX_DEPTH
    assert MARKER in clean_page(html, "text/html").text


def test_the_cut_keeps_start_and_end_tags_paired() -> None:
    html = PAGE_BY_NAME["div-100k"].build()
    bounded = bound_markup(html).html
    assert bounded.count("<div>") == bounded.count("</div>") == MAX_DEPTH - 2  # html, body
    assert depth(bounded) == MAX_DEPTH  # the marker's <p> was past it: cut, its text kept
    assert "<p>" not in bounded and MARKER in bounded


def test_formatting_elements_waiting_to_be_reopened_are_bounded() -> None:
    """<p><b id=N>x</p>: every paragraph re-opens every <b> still in the list (lexbor made
    20,000 paragraphs into 200 million elements); past the bound new ones are cut."""
    html = "<html><body>" + "".join(f"<p><b id={i}>x</p>" for i in range(2_000))
    bounded = bound_markup(html)
    assert bounded.elements_cut == 2_000 - MAX_FORMATTING
    assert elements(bounded.html) <= 2_000 * (MAX_FORMATTING + 2) + 10
    assert LexborHTMLParser(bounded.html).body.text().count("x") == 2_000  # type: ignore[union-attr]


def test_links_are_never_cut_for_the_formatting_bound() -> None:
    """An <a> ends the open <a> (adoption agency), so links never pile up: with the list full
    of unclosed <font>s, every link is still there."""
    fonts = "".join(f"<p><font color=c{i}>x</p>" for i in range(50))
    links = "".join(f"<p><a href=/{i}>link {i}</a></p>" for i in range(50))
    bounded = bound_markup("<html><body>" + fonts + links)
    assert bounded.elements_cut == 50 - MAX_FORMATTING
    assert len(LexborHTMLParser(bounded.html).css("a")) == 50


def test_attributes_past_the_bound_are_cut_and_the_tag_stays() -> None:
    attrs = " ".join(f"data-a{i}='v>{i}'" for i in range(5_000))  # '>' inside quotes too
    html = f"<html><body><svg><path {attrs} /></svg><div {attrs}><p>{MARKER}</p></div>"
    bounded = bound_markup(html)
    assert bounded.attributes_cut == 2 * (5_000 - MAX_ATTRIBUTES)
    tree = LexborHTMLParser(bounded.html)
    div = tree.css_first("div")
    assert div is not None and len(div.attributes) == MAX_ATTRIBUTES
    assert div.attributes["data-a0"] == "v>0"
    path = tree.css_first("path")
    assert path is not None and not path.text()  # still self-closing: the <div> is not in it
    assert MARKER in clean_page(html, "text/html").text


def test_a_select_keeps_a_bounded_number_of_options() -> None:
    html = PAGE_BY_NAME["select-100k"].build()
    bounded = bound_markup(html)
    assert len(LexborHTMLParser(bounded.html).css("option")) == 1_000
    assert MARKER in clean_page(html, "text/html").text


def test_markup_in_scripts_comments_and_text_areas_is_not_counted() -> None:
    inner = "<div>" * 5_000
    wraps = [
        f"<script>{inner}</script>",
        f"<!--{inner}-->",
        f"<textarea>{inner}</textarea>",
        f"<script><!--<script>{inner}</script>--></script>",
        f"<style>{inner}</style>",
    ]
    for wrap in wraps:
        html = f"<html><body>{wrap}<p>{MARKER}</p></body></html>"
        assert bound_markup(html).html is html, wrap[:30]


def test_a_text_lt_before_a_cut_tag_cannot_open_a_new_tag() -> None:
    """'<' followed by a cut tag: what follows the cut must not join it into a tag."""
    html = "<html><body>" + "<b id=1>x<" * 50
    bounded = bound_markup(html, max_formatting=4).html
    assert "<x" not in bounded
    root = LexborHTMLParser(bounded).root
    assert root is not None
    tags = {n.tag for n in root.traverse()}
    assert tags <= {"html", "head", "body", "b", "-text"}


TAG_SOUP = [
    "<div>", "</div>", "<p>", "</p>", "<li>", "</li>", "<ul>", "</ul>", "<ol>", "<dl>", "<dt>",
    "<dd>", "</dd>", "<table>", "</table>", "<tr>", "</tr>", "<td>", "</td>", "<th>", "<tbody>",
    "<caption>", "<colgroup>", "<col>", "<b>", "</b>", "<i>", "</i>", "<a href=x>", "</a>",
    "<font color=red>", "</font>", "<b id=1>", "<u>", "<s>", "<code>", "<nobr>", "<span>",
    "</span>", "<select>", "</select>", "<option>", "</option>", "<optgroup>", "<svg>", "</svg>",
    "<g>", "</g>", "<path/>", "<math>", "<mi>", "</mi>", "<mtext>", "<foreignObject>",
    "</foreignObject>", "<desc>", "<annotation-xml encoding=text/html>", "<title>", "</title>",
    "<script>", "</script>", "<!--", "-->", "<style>", "</style>", "<textarea>", "</textarea>",
    "<template>", "</template>", "<form>", "</form>", "<button>", "</button>", "<h1>", "</h1>",
    "<h2>", "<br>", "</br>", "<img>", "<input>", "<hr>", "<pre>", "</pre>", "<section>",
    "</section>", "<ruby>", "<rt>", "<rp>", "<x-a>", "</x-a>", "<object>", "</object>",
    "<marquee>", "<applet>", "<noscript>", "</noscript>", "<xmp>", "</xmp>", "<iframe>",
    "</iframe>", "<![CDATA[x]]>", "<body>", "</body>", "<head>", "<image>", "<dialog>",
    "<center>", "<blockquote>", "<p/>", "<div/>", "x", "テキスト", " ", "<", ">", "'", '"',
]  # fmt: skip


def test_repeated_tag_soup_stays_within_the_bound() -> None:
    """Randomized (seeded): a fragment repeated 300 times may nest lexbor's tree as deep as the
    repetitions; bounded, it stays within a small multiple of the bound. The vocabulary has
    the parts of the tree-construction rules the model follows: scopes, implied end tags,
    tables, select, ruby, SVG/MathML with integration points, the adoption agency, reopened
    formatting elements and their markers, templates (a wider, slower search of the same kind
    is described in docs/fault-tolerance.md)."""
    rng = random.Random(15)
    max_depth, max_formatting = 16, 4
    worst = 0
    for _ in range(400):
        fragment = "".join(rng.choice(TAG_SOUP) for _ in range(rng.randint(1, 12)))
        html = "<html><body>" + fragment * 300
        bounded = bound_markup(html, max_depth=max_depth, max_formatting=max_formatting)
        worst = max(worst, depth(bounded.html))
        assert worst <= 3 * max_depth + max_formatting, fragment
    assert worst > max_depth  # the soup did reach the bound


QUOTED = "<b a=1 c d='>' e=\"f\">"


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(st.sampled_from([*TAG_SOUP, QUOTED, "&amp;"]), max_size=80))
def test_cuts_are_whole_tags_or_attributes_inside_a_tag(parts: list[str]) -> None:
    html = "<html><body>" + "".join(parts) * 20
    cuts, _, _ = bound(html, 8, 2, 3, 1)
    ends = [m.end() for m in re.finditer(">", html)]
    for k in range(0, len(cuts), 3):
        start, end = cuts[k], cuts[k + 1]
        assert start < end
        if html[start] == "<":
            assert html[end - 1] == ">"  # a whole tag (or a run of them)
        else:  # attributes: inside one tag, which goes on after the cut
            assert html.rfind("<", 0, start) > html.rfind(">", 0, start)
            assert html[end:].lstrip()[:1] in (">", "/")
    assert ends  # the soup has tags at all


def test_tags_of_one_page_are_cut_in_one_pass_not_per_tag() -> None:
    """A page cut at many places comes back as a few merged ranges, not one per tag."""
    html = PAGE_BY_NAME["div-100k"].build()
    cuts, elements_cut, _ = bound(html, MAX_DEPTH, MAX_FORMATTING, 1000, MAX_ATTRIBUTES)
    assert elements_cut == 100_000 - (MAX_DEPTH - 2) + 1  # and the marker's <p>
    assert len(cuts) // 3 == 2  # the run of start tags and the run of end tags
