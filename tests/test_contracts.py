"""Ingress validation of raw records (no broker)."""

from __future__ import annotations

import orjson
import pytest

from workers.contracts import RecordError, decode_raw, default_article_id, validator


def raw(**fields: object) -> bytes:
    return orjson.dumps({"url": "https://example.test/a", "body": "本文です。", **fields})


def test_valid_record_gets_a_stable_id_from_its_url() -> None:
    record = decode_raw(raw(), 1_000_000)
    assert record["id"] == default_article_id("https://example.test/a")
    assert decode_raw(raw(), 1_000_000)["id"] == record["id"]
    assert decode_raw(raw(id="given"), 1_000_000)["id"] == "given"


@pytest.mark.parametrize(
    ("value", "error_class"),
    [
        (None, "tombstone"),
        (b"not json", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (orjson.dumps({"url": "u"}), "invalid_record"),
        (orjson.dumps({"body": "b"}), "invalid_record"),
        (orjson.dumps({"url": 3, "body": "b"}), "invalid_record"),
        (raw(body="   \n "), "empty_body"),
        (raw(content_type="application/pdf"), "invalid_record"),
        (b"x" * 2000, "too_large"),
    ],
)
def test_bad_records_raise_a_classified_error(value: bytes | None, error_class: str) -> None:
    with pytest.raises(RecordError) as err:
        decode_raw(value, 1000)
    assert err.value.error_class == error_class
    assert err.value.reason


def test_every_schema_compiles_and_rejects_a_wrong_record() -> None:
    for name in (
        "raw-article",
        "cleaned-article",
        "enriched-article",
        "deadletter",
        "mention-delta",
    ):
        check = validator(name)
        with pytest.raises(Exception):  # noqa: B017 - any validation error
            check({"unexpected": True})
