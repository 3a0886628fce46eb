"""The structural (Readability-style) HTML extractor on synthetic pages written for these tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from workers.clean import clean_page
from workers.clean.html import parse
from workers.clean.readable import MAX_NODES, build, extract, text_chars

BODY_JA = [
    "市は二十日、老朽化した中央図書館を建て替え、二〇二七年春に新館を開くと発表した。",
    "新館は地上四階建てで、蔵書は現在の一・五倍の約六十万冊に増え、学習室や子ども向けの読書スペースも広くする。",
    "総事業費は約八十億円を見込み、国の補助金と市債でまかなう。工事中は駅前の仮設館で貸し出しを続ける。",
    "市長は記者会見で「誰もが長く過ごせる、まちの居場所にしたい」と述べ、市民の意見を設計に反映させる考えを示した。",
]
NAV = ["ホーム", "ニュース", "経済", "スポーツ", "エンタメ", "天気"]
RELATED = [
    "駅前再開発、来年度に着工へ 市が計画案",
    "市立中学校の給食費、無償化を検討",
    "図書館の夜間開館、利用者が倍増",
]
COMMENTS = [
    "楽しみです。駐車場も広くしてほしい。",
    "税金の使い方として本当に正しいのか、もっと議論が必要だと思います。",
]


def japanese_news_page() -> str:
    """A news page as sites build them: header nav, breadcrumbs, article with headline and
    byline, an aside with a ranking, related links, comments and a footer."""
    nav = "".join(f'<li><a href="/{i}">{t}</a></li>' for i, t in enumerate(NAV))
    related = "".join(f'<li><a href="/r/{i}">{t}</a></li>' for i, t in enumerate(RELATED))
    ranking = "".join(f'<li><a href="/k/{i}">{t}…</a></li>' for i, t in enumerate(RELATED))
    comments = "".join(f'<div class="comment"><p>{c}</p></div>' for c in COMMENTS)
    paragraphs = "".join(f"<p>{p}</p>" for p in BODY_JA)
    return f"""<!doctype html><html lang="ja"><head><meta charset="utf-8">
<title>中央図書館、2027年春に新館 | みらい新聞</title>
<meta property="og:title" content="中央図書館、2027年春に新館">
<meta property="article:published_time" content="2024-03-20T10:30:00+09:00">
<script>var ads = "広告のスクリプト";</script><style>.x{{color:red}}</style></head>
<body><header class="site-header"><div class="logo">みらい新聞</div><nav><ul>{nav}</ul></nav>
</header><div class="breadcrumbs"><a href="/">ホーム</a> &gt; <a href="/local">地域</a></div>
<div class="wrapper"><main><article class="article-body">
<h1>中央図書館、2027年春に新館</h1><div class="byline">文・山田花子</div>
<div class="text">{paragraphs}</div>
<div class="share"><a href="#">シェア</a><a href="#">ツイート</a></div>
</article>
<section class="related"><h2>関連記事</h2><ul>{related}</ul></section>
<section id="comments"><h2>コメント</h2>{comments}</section></main>
<aside class="sidebar"><h2>アクセスランキング</h2><ol>{ranking}</ol></aside></div>
<footer><p>© 2024 みらい新聞社 All rights reserved.</p></footer></body></html>"""


def test_japanese_news_page_keeps_the_article_only() -> None:
    page = clean_page(japanese_news_page(), "text/html")
    assert page.text.splitlines() == BODY_JA
    assert page.title == "中央図書館、2027年春に新館"
    assert page.published_at == "2024-03-20T10:30:00+09:00"


def test_japanese_page_without_class_hints() -> None:
    """Without content/sidebar/related class names the article still wins on its length and
    its 、。 alone, and navigation and the ranking stay out. (A related-links list inside the
    same <main> is kept, as Readability keeps lists: a known limit of the algorithm.)"""
    html = japanese_news_page()
    for hint in ('class="text"', 'class="article-body"', 'class="sidebar"', 'class="related"',
                 'class="site-header"', 'class="breadcrumbs"'):  # fmt: skip
        html = html.replace(hint, "")
    lines = clean_page(html, "text/html").text.splitlines()
    assert lines[: len(BODY_JA)] == BODY_JA
    for furniture in [*NAV, *(f"{t}…" for t in RELATED), *COMMENTS]:
        assert furniture not in lines


def test_cjk_characters_weigh_like_words() -> None:
    assert text_chars("abc") == 3
    assert text_chars("図書館") == 9


def test_article_split_over_sibling_blocks() -> None:
    """Paragraphs in sibling containers (a common CMS layout) are joined back."""
    para = "The council approved the plan on Monday, after a long debate, by nine votes to two. "
    blocks = "".join(
        f'<div class="story-part"><p>{para * 3}</p><p>{para * 2}</p></div>' for _ in range(3)
    )
    html = f"<html><body><div id='nav'><a href='/'>Home</a></div><div>{blocks}</div></body></html>"
    text = clean_page(html, "text/html").text
    assert text.count("nine votes") == 15
    assert "Home" not in text


def test_hidden_elements_are_dropped() -> None:
    para = "<p>" + "Readers saw this sentence, and the next one, in the article. " * 8 + "</p>"
    html = (
        f"<html><body><article>{para}<p style='display:none'>Secret hidden line.</p>"
        f"<div hidden>Also hidden text here, quite long indeed.</div>{para}</article></body></html>"
    )
    text = clean_page(html, "text/html").text
    assert "hidden" not in text.lower()
    assert "Readers saw" in text


def test_page_with_no_article() -> None:
    links = "".join(f"<li><a href='/{i}'>Section {i}</a></li>" for i in range(40))
    html = f"<html><body><nav><ul>{links}</ul></nav><form><input name=q></form></body></html>"
    text = clean_page(html, "text/html").text
    assert len(text) < 100


def test_deep_nesting() -> None:
    depth = 3000
    para = "<p>" + "深い入れ子の中にある本文の段落です。読点、句点を含みます。" * 6 + "</p>"
    html = "<html><body>" + "<div>" * depth + para * 3 + "</div>" * depth + "</body></html>"
    started = time.perf_counter()
    page = clean_page(html, "text/html")
    assert time.perf_counter() - started < 5
    assert "深い入れ子の中にある本文の段落です。" in page.text


def test_five_megabyte_page_bounded_nodes_and_time() -> None:
    row = (
        "<div class='item'><a href='/x'>link</a><p>" + "本文の繰り返しです。" * 20 + "</p></div>\n"
    )
    html = "<html><body>" + row * (5_000_000 // len(row.encode()) + 1) + "</body></html>"
    assert len(html.encode()) >= 5_000_000
    started = time.perf_counter()
    tree = parse(html)
    assert tree.body is not None
    assert len(build(tree.body, prune_unlikely=True)) <= MAX_NODES
    result = extract(tree)
    assert time.perf_counter() - started < 10
    assert result.lines


@pytest.mark.parametrize("html", ["", "<html></html>", "<p>短い</p>", "<body>\n</body>"])
def test_tiny_and_empty_pages(html: str) -> None:
    result = extract(html)
    assert isinstance(result.lines, list)


def test_title_heading_dropped_but_subheadings_kept() -> None:
    para = "<p>" + "A paragraph of the article body, long enough to be scored, with commas. " * 6
    html = (
        "<html><head><title>Big News Today | Site</title></head><body><article>"
        f"<h1>Big News Today</h1>{para}</p><h2>What happens next</h2>{para}</p>"
        "</article></body></html>"
    )
    tree = parse(html)
    lines = extract(tree, "Big News Today").lines
    assert "Big News Today" not in lines
    assert "What happens next" in lines


def test_class_string_memo_is_bounded() -> None:
    from workers.clean.readable import _MEMO_KEY_CHARS, _MEMO_SIZE, _memo_short

    calls: list[str] = []

    @_memo_short
    def upper(key: str) -> str:
        calls.append(key)
        return key.upper()

    assert upper("nav") == upper("nav") == "NAV" and calls == ["nav"]
    long_key = "x" * (_MEMO_KEY_CHARS + 1)  # long strings are computed, never kept
    assert upper(long_key) == upper(long_key) and calls.count(long_key) == 2
    for i in range(_MEMO_SIZE + 1):  # a full cache starts over instead of growing
        upper(f"c{i}")
    upper("nav")
    assert calls.count("nav") == 2


def test_conditional_cleaning_looks_at_each_node_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deep wrappers around many short comma-less paragraphs: every wrapper is cleaned
    conditionally, and each used to walk its whole subtree (nodes x depth visits, 2-3 s for
    190 x 20,000). Counted bottom-up, each node is visited a few times per attempt."""
    from workers.clean import readable

    depth, leaves = 150, 2_000
    html = (
        "<html><body>" + "<div>" * depth + "<p>東京大阪名古屋札幌福岡</p>" * leaves
        + "</div>" * depth + "</body></html>"
    )  # fmt: skip
    visits = 0
    real_walk = readable.walk

    def counting_walk(node: readable.Node, dead: set[int]) -> Iterator[readable.Node]:
        nonlocal visits
        for n in real_walk(node, dead):
            visits += 1
            yield n

    monkeypatch.setattr(readable, "walk", counting_walk)
    result = extract(parse(html))
    assert len(result.lines) == leaves
    assert visits < 20 * (depth + leaves)  # before: over depth x leaves = 300,000
