"""What the stage processes send back (workers.stagejobs) and the records built from it."""

from __future__ import annotations

import pickle

from workers.extract import Entity, get_extractor
from workers.records import enriched_record, mention_counts
from workers.stagejobs import extract_job

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
