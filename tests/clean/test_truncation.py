"""What the clean stage's size bounds cut is said in the record (``truncated``), never silent."""

from __future__ import annotations

import pytest

from workers.bench.adversarial import MARKER, PAGES
from workers.clean import clean_page, clean_page_bytes
from workers.clean.charset import MAX_PAGE_BYTES
from workers.clean.normalize import MAX_LINE_CHARS, MAX_LINES, page_lines
from workers.clean.page import MAX_PAGE_CHARS
from workers.clean.readable import MAX_NODES
from workers.clean.record import cleaned_record
from workers.clean.truncation import LIMITS, Truncation
from workers.contracts import validator
from workers.extract.record import enriched_record

PAGE_BY_NAME = {p.name: p for p in PAGES}
SENTENCE = "市は二十日、新しい図書館を来年春に開くと発表した。"


def test_a_page_within_the_bounds_says_nothing_was_cut() -> None:
    text = "\n".join(f"{SENTENCE[:-1]}、{i}回目の説明をした。" for i in range(20))
    page = clean_page(text, "text/plain")
    assert page.text and page.truncated is None
    html = "<html><body>" + f"<p>{SENTENCE}</p>" * 20 + "</body></html>"
    assert clean_page(html, "text/html").truncated is None


@pytest.mark.parametrize(("chars", "what"), [(200_000, "あ"), (1_000_000, "漢"), (3_000_000, "漢")])
def test_an_over_long_line_is_cut_and_said(chars: int, what: str) -> None:
    """The issue's pages: a 200 kB line without punctuation, 1 MB and 3 MB lines of kanji."""
    body = SENTENCE + "\n" + what * chars
    page = clean_page(body, "text/plain")
    assert page.truncated is not None
    kept = min(chars, MAX_PAGE_CHARS - len(SENTENCE) - 1)
    assert page.truncated["line_chars"] == {"lines": 1, "original": kept, "kept": MAX_LINE_CHARS}
    if chars + len(SENTENCE) + 1 > MAX_PAGE_CHARS:
        assert page.truncated["page_chars"] == {"original": len(body), "kept": MAX_PAGE_CHARS}
    assert what * MAX_LINE_CHARS in page.text


def test_too_many_lines_are_cut_and_said() -> None:
    body = "\n".join(f"{SENTENCE}{i}" for i in range(MAX_LINES + 300))
    page = clean_page(body, "text/plain")
    assert page.truncated == {"lines": {"original": MAX_LINES + 300, "kept": MAX_LINES}}
    # blank lines past the bound are nothing lost
    cuts = Truncation()
    page_lines("a\n" * 10 + "\n" * (MAX_LINES + 10), cuts)
    assert not cuts


def test_an_html_page_with_more_elements_than_the_extractor_reads_says_so() -> None:
    html = PAGE_BY_NAME["siblings-100k"].build()
    page = clean_page(html, "text/html")
    assert page.truncated is not None and page.truncated["elements"]["kept"] == MAX_NODES
    assert "東京" in page.text and MARKER not in page.text  # the marker is past the bound


def test_the_entity_expansion_page_says_its_text_was_cut() -> None:
    html = PAGE_BY_NAME["entities-400k"].build()
    page = clean_page(html, "text/html")
    assert MARKER in page.text
    assert page.truncated is not None
    assert page.truncated["page_chars"] == {"original": len(html), "kept": MAX_PAGE_CHARS}
    line = page.truncated["line_chars"]
    assert line["lines"] == 1 and line["original"] > 200_000 and line["kept"] == MAX_LINE_CHARS


def test_undecoded_bytes_over_the_bound_are_said() -> None:
    raw = (SENTENCE * 40_000).encode()
    assert len(raw) > MAX_PAGE_BYTES
    page = clean_page_bytes(raw, "text/plain")
    assert page.truncated is not None
    assert page.truncated["page_bytes"] == {"original": len(raw), "kept": MAX_PAGE_BYTES}


def test_truncated_goes_into_the_cleaned_and_enriched_records_and_their_schemas() -> None:
    raw = {"id": "t", "url": "https://x.test/t", "body": SENTENCE + "\n" + "漢" * 30_000}
    page = clean_page(raw["body"], "text/plain")
    cleaned = cleaned_record(raw, page, 1.0)
    assert cleaned["truncated"] == {
        "line_chars": {"lines": 1, "original": 30_000, "kept": MAX_LINE_CHARS}
    }
    validator("cleaned-article")(cleaned)
    enriched = enriched_record(cleaned, [])
    assert enriched["truncated"] == cleaned["truncated"]
    validator("enriched-article")(enriched)
    whole = cleaned_record(raw | {"body": SENTENCE}, clean_page(SENTENCE, "text/plain"), 1.0)
    assert whole["truncated"] is None
    validator("cleaned-article")(whole)


@pytest.mark.parametrize(
    "bad",
    [{}, {"lines": {"kept": 1}}, {"line_chars": {"original": 5, "kept": 1}},
     {"page_chars": {"original": 1, "kept": -1}}, {"other": {"kept": 1}}, "yes"],
)  # fmt: skip
def test_the_schemas_reject_a_malformed_truncated_field(bad: object) -> None:
    cleaned = cleaned_record(
        {"id": "t", "url": "u", "body": SENTENCE}, clean_page(SENTENCE, "text/plain"), 1.0
    )
    records = {"cleaned-article": cleaned, "enriched-article": enriched_record(cleaned, [])}
    for name, record in records.items():
        with pytest.raises(Exception):  # noqa: B017 - the schema's validation error
            validator(name)({**record, "truncated": bad})


def test_every_limit_reported_is_one_the_schema_and_metrics_know() -> None:
    import orjson

    from workers.contracts import load_schema

    props = load_schema("cleaned-article")["$defs"]["truncated"]["properties"]
    assert set(props) == set(LIMITS)
    assert orjson.dumps(Truncation().as_record()) == b"null"
