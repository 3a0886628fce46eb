"""Dates and titles, from page text and from HTML metadata."""

from __future__ import annotations

import pytest

from workers.clean import clean_page
from workers.clean.dates import find_date, parse_iso


@pytest.mark.parametrize(
    ("line", "japanese", "expected"),
    [
        ("2024年6月20日(木)11時39分", True, "2024-06-20T11:39:00+09:00"),
        ("2024年6月20日(木)11時39分", False, "2024-06-20T11:39:00"),
        ("2019年1月5日", True, "2019-01-05"),
        ("2/26/2015 7:11 AM PST BY STAFF", False, "2015-02-26T07:11:00-08:00"),
        ("by A Writer 22 Dec 2016", False, "2016-12-22"),
        ("February 1, 2016: 12:41 PM ET", False, "2016-02-01T12:41:00-05:00"),
        ("Posted June 3rd, 2019 at 5:30 pm", False, "2019-06-03T17:30:00"),
        ("no date in this line 42", False, None),
        ("2023年2月30日", True, None),
    ],
)
def test_find_date(line: str, japanese: bool, expected: str | None) -> None:
    assert find_date(line, japanese) == expected


def test_parse_iso_keeps_offset() -> None:
    assert parse_iso("2024-06-20T02:39:00Z") == "2024-06-20T02:39:00+00:00"
    assert parse_iso("2016-12-22T07:00:00+0900") == "2016-12-22T07:00:00+09:00"


def test_html_metadata() -> None:
    html = (
        '<html lang="en"><head><title>Library hours extended | City Times</title>'
        '<meta property="article:published_time" content="2023-11-20T18:05:00+01:00">'
        "</head><body><article><p>"
        + "The council voted to extend the library's opening hours after a survey. " * 5
        + "</p></article></body></html>"
    )
    page = clean_page(html, "text/html")
    assert page.title == "Library hours extended"
    assert page.published_at == "2023-11-20T18:05:00+01:00"
    assert "survey" in page.text


def test_html_json_ld_date() -> None:
    html = (
        '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
        '"datePublished": "2022-03-01T09:00:00Z"}</script></head><body><h1>Headline here</h1>'
        + "<p>"
        + "Body text of the article goes on for a while, with detail. " * 6
        + "</p></body></html>"
    )
    page = clean_page(html, "text/html")
    assert page.published_at == "2022-03-01T09:00:00+00:00"
    assert page.title == "Headline here"
