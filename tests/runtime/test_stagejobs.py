"""What the stage processes send back (workers.runtime.stagejobs) and the records built from it."""

from __future__ import annotations

import pickle

import pytest

from workers.contracts import RecordError
from workers.extract import Entity, get_extractor
from workers.extract.record import enriched_record, mention_counts
from workers.runtime.stagejobs import clean_job, extract_job

TEXT = (
    "岸田文雄首相は東京で記者会見し、トヨタ自動車と日本銀行の方針について述べた。"
    "首相はその後、大阪とワシントンを訪れた。東京では再び会見した。"
)


def test_extract_job_sends_plain_tuples_with_the_entity_fields_in_order() -> None:
    rows = extract_job(TEXT)
    entities = get_extractor()(TEXT)
    assert len(entities) >= 3
    assert [Entity(*row) for row in rows] == entities
    assert all(type(row) is tuple for row in rows)
    # nothing of this package in the pickle: the worker unpickles builtins only
    assert b"workers" not in pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)


def test_enriched_record_from_rows_is_the_one_from_entities() -> None:
    entities = get_extractor()(TEXT)
    cleaned = {"id": "a", "text": TEXT, "timestamps": {"produced": 1.0, "cleaned": 2.0}}
    record = enriched_record(cleaned, extract_job(TEXT))
    fields = ("text", "type", "start", "end", "normalized")
    assert [{k: e[k] for k in fields} for e in record["entities"]] == [
        e.as_dict() for e in entities
    ]
    assert all(e["key"] == f"{e['type']}:{e['canonical']}" for e in record["entities"])
    assert record["mentions"] == mention_counts(record["entities"])
    assert record["mentions"]["ORGANIZATION:日本銀行"] == 1  # a known name: its table key
    assert any(n > 1 for n in record["mentions"].values())  # a repeated entity is counted
    assert record["timestamps"]["produced"] == 1.0 and "enriched" in record["timestamps"]
    assert cleaned["timestamps"] == {"produced": 1.0, "cleaned": 2.0}  # input left alone


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("😀🎉👍" * 40, "text/plain"),  # emoji only
        ("<html><head><script>var x = 1;</script></head><body><script>go()</script></body>"
         "</html>", "text/html"),  # script only
        ("".join(chr(c) for c in range(1, 32) if c not in (9, 10, 13)) * 20, "text/plain"),
        ("<html><body><div><span> </span></div></body></html>", None),  # markup only
    ],
)  # fmt: skip
def test_a_page_with_no_text_left_is_an_empty_text_error(
    body: str, content_type: str | None
) -> None:
    with pytest.raises(RecordError) as err:
        clean_job(body, content_type)
    assert err.value.error_class == "empty_text"
    assert "no article text" in err.value.reason and f"{len(body):,}" in err.value.reason


def test_an_empty_text_after_a_cut_says_the_cut() -> None:
    """A page whose text lies past the page bound reads as empty: the reason says why."""
    body = "<html><body><script>" + "var a=1;" * 300_000 + "</script><p>市は発表した。</p>"
    with pytest.raises(RecordError) as err:
        clean_job(body, "text/html")
    assert err.value.error_class == "empty_text"
    assert "cut by page_chars" in err.value.reason and "2097152" in err.value.reason


def test_clean_job_sends_what_was_truncated() -> None:
    text, _, _, truncated = clean_job("市は二十日、発表した。\n" + "漢" * 30_000, "text/plain")
    assert text.endswith("漢" * 20_000)
    assert truncated == {"line_chars": {"lines": 1, "original": 30_000, "kept": 20_000}}
    assert clean_job("市は二十日、新しい図書館を開くと発表した。", "text/plain")[3] is None


def test_extract_job_refuses_an_empty_text() -> None:
    with pytest.raises(RecordError) as err:
        extract_job(" \n ")
    assert err.value.error_class == "empty_text"
