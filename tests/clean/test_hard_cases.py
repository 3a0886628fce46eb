"""Hard inputs: legacy Japanese charsets, pages without an article, huge and empty pages."""

from __future__ import annotations

import time

import pytest

from workers.clean import clean_page, clean_page_bytes

ARTICLE = [
    "市の図書館は来月から開館時間を午後九時まで延ばすと発表した。利用者の要望が多かったためだという。",
    "館長は記者会見で、夜間の利用が増えれば学生や働く人にも使いやすくなると話し、職員の配置も見直す考えを示した。",
    "一方で、光熱費の増加を心配する声もあり、市は半年後に利用状況を調べて続けるかどうかを決める方針だ。",
]


def html_page(charset: str) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE)
    return (
        f'<html lang="ja"><head><meta charset="{charset}"><title>図書館の夜間開館 | 地域ニュース'
        f"</title></head><body><nav><a href='/'>ホーム</a></nav><article><h1>図書館、夜間も開館へ"
        f"</h1>{paragraphs}</article></body></html>"
    )


@pytest.mark.parametrize(("label", "codec"), [("Shift_JIS", "cp932"), ("EUC-JP", "euc_jp")])
def test_legacy_japanese_charset_declared(label: str, codec: str) -> None:
    page = clean_page_bytes(html_page(label).encode(codec), "text/html")
    for paragraph in ARTICLE:
        assert paragraph in page.text
    assert page.title == "図書館、夜間も開館へ"


@pytest.mark.parametrize("codec", ["cp932", "euc_jp"])
def test_legacy_japanese_charset_undeclared_or_wrong(codec: str) -> None:
    raw = html_page("").replace('<meta charset="">', "").encode(codec)
    page = clean_page_bytes(raw, "text/html", declared_charset="iso-8859-1")
    assert ARTICLE[1] in page.text


def test_broken_bytes_do_not_raise() -> None:
    raw = html_page("utf-8").encode("utf-8")
    raw = raw[:200] + b"\xff\xfe\x80" + raw[200:]
    page = clean_page_bytes(raw, "text/html", declared_charset="utf-8")
    assert ARTICLE[2] in page.text


def test_malformed_markup_still_yields_the_text() -> None:
    broken = html_page("utf-8").replace("</p>", "").replace("</article>", "<div><span>")
    page = clean_page(broken, "text/html")
    assert ARTICLE[0] in page.text


def test_page_with_no_article_text_path() -> None:
    lines = ["ホーム", "ログイン", "会員登録", "お問い合わせ", "利用規約", "© 2024 Example"]
    assert clean_page("\n".join(lines), "text/plain").text == ""


def test_page_with_no_article_html_path() -> None:
    html = "<html><body><div><img src='a.png'></div><form><input name=q></form></body></html>"
    page = clean_page(html, "text/html")
    assert page.text == ""


def test_all_navigation_page() -> None:
    sections = ["ニュース", "ビジネス", "スポーツ", "エンタメ", "ライフ", "テクノロジー"]
    teasers = [f"{s}の最新の話題をまとめて紹介する特集ページはこちら…" for s in sections]
    lines = [*sections, *teasers, *[str(i) for i in range(1, 11)], *sections]
    assert clean_page("\n".join(lines), "text/plain").text == ""


def test_five_megabyte_page_bounded_time() -> None:
    filler = "<div><a href='/x'>link</a> <p>" + "長い本文の繰り返しです。" * 40 + "</p></div>\n"
    html = "<html><body>" + filler * (5_000_000 // len(filler.encode()) + 1) + "</body></html>"
    assert len(html.encode()) >= 5_000_000
    started = time.perf_counter()
    page = clean_page(html, "text/html")
    clean_page_bytes(html.encode(), "text/html")
    clean_page(html.replace("<", " "), "text/plain")
    assert time.perf_counter() - started < 20
    assert page.text


@pytest.mark.parametrize("body", ["", "   \n\n ", "\ufeff"])
@pytest.mark.parametrize("kind", ["text/html", "text/plain", None])
def test_empty_input(body: str, kind: str | None) -> None:
    page = clean_page(body, kind)
    assert page.text == ""
    assert page.published_at is None


def test_empty_bytes() -> None:
    assert clean_page_bytes(b"").text == ""
