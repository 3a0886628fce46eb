"""Export rows and files without a broker: entity identity fallbacks, times, file names, and
what a killed exporter leaves behind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from workers.export.files import (
    FileRange,
    clean_partition,
    durable_offset,
    parse_name,
    write_pair,
)
from workers.export.rows import Rows, entity_canonical, entity_key, iso_micros

ENTITY = {"text": "プーチン氏", "type": "PERSON", "start": 0, "end": 5, "normalized": "プーチン"}


def record(i: int, entities: list[dict] | None = None) -> dict:
    return {
        "id": f"a{i}",
        "url": f"https://x.jp/{i}",
        "title": f"記事{i}",
        "published_at": "2024-06-20T11:39:00+09:00",
        "fetched_at": "2024-06-20T02:45:00Z",
        "text": "プーチン氏が訪問した。",
        "entities": [ENTITY] if entities is None else entities,
        "timestamps": {"produced": 1718851500.25, "enriched": 1718851501.5},
    }


def test_entity_identity_uses_key_and_canonical_when_present() -> None:
    assert entity_key(ENTITY) == "PERSON:プーチン"
    assert entity_canonical(ENTITY) == "プーチン"
    new = {**ENTITY, "key": "PERSON:ウラジーミル・プーチン", "canonical": "ウラジーミル・プーチン"}
    assert entity_key(new) == "PERSON:ウラジーミル・プーチン"
    assert entity_canonical(new) == "ウラジーミル・プーチン"


def test_iso_times_become_utc_microseconds() -> None:
    jst = iso_micros("2024-06-20T11:39:00+09:00")
    assert jst == int(dt.datetime(2024, 6, 20, 2, 39, tzinfo=dt.UTC).timestamp() * 1e6)
    assert iso_micros("2024-06-20T02:39:00Z") == jst
    assert iso_micros("2024-06-20T02:39:00") == jst  # naive: taken as UTC
    assert iso_micros("昨日") is None and iso_micros(None) is None


def test_file_names_carry_topic_partition_offsets_and_hour() -> None:
    hour = int(dt.datetime(2024, 6, 20, 11, tzinfo=dt.UTC).timestamp()) // 3600
    fr = FileRange("my-topic.enriched", 3, 120, 199, hour)
    assert fr.folder == "date=2024-06-20/hour=11"
    assert parse_name(fr.name) == ("my-topic.enriched", 3, 120, 199)
    assert parse_name("notes.parquet") is None and parse_name(f".{fr.name}.tmp") is None


def _rows(first: int, last: int, entities: list[dict] | None = None) -> Rows:
    rows = Rows()
    for offset in range(first, last + 1):
        rows.add(record(offset, entities), 0, offset, 1718851500000)
    return rows


def test_a_written_pair_is_readable_and_says_which_records_it_holds(tmp_path: Path) -> None:
    fr = FileRange("t", 0, 0, 2, 477458)
    articles = write_pair(tmp_path, fr, _rows(0, 2))
    table = pq.read_table(articles)
    assert table.column("id").to_pylist() == ["a0", "a1", "a2"]
    assert table.column("kafka_offset").to_pylist() == [0, 1, 2]
    published = table.column("published_at").to_pylist()[0]
    assert published == dt.datetime(2024, 6, 20, 2, 39, tzinfo=dt.UTC)
    meta = table.schema.metadata
    assert meta[b"newsflow.first_offset"] == b"0" and meta[b"newsflow.last_offset"] == b"2"
    mentions = pq.read_table(fr.path(tmp_path, "mentions"))
    assert mentions.column("entity_key").to_pylist() == ["PERSON:プーチン"] * 3
    assert mentions.column("article_id").to_pylist() == ["a0", "a1", "a2"]
    assert durable_offset(tmp_path, "t", 0) == 3
    assert durable_offset(tmp_path, "t", 1) is None


def test_a_range_without_mentions_has_an_articles_file_only(tmp_path: Path) -> None:
    fr = FileRange("t", 0, 0, 1, 477458)
    write_pair(tmp_path, fr, _rows(0, 1, entities=[]))
    assert fr.path(tmp_path, "articles").exists()
    assert not fr.path(tmp_path, "mentions").exists()


def test_clean_partition_removes_what_a_kill_left_half_written(tmp_path: Path) -> None:
    done = FileRange("t", 0, 0, 2, 477458)
    write_pair(tmp_path, done, _rows(0, 2))
    # killed between the two renames of the next range: its mentions file is there, alone
    orphan = FileRange("t", 0, 3, 5, 477458)
    write_pair(tmp_path, orphan, _rows(3, 5))
    orphan.path(tmp_path, "articles").unlink()
    # killed while writing: a temporary file
    tmp = done.path(tmp_path, "articles").with_name(f".{FileRange('t', 0, 6, 9, 477458).name}.tmp")
    tmp.write_bytes(b"PAR1 half")
    other = FileRange("t", 1, 0, 0, 477458)  # another partition's files are not touched
    write_pair(tmp_path, other, _rows(0, 0))
    other.path(tmp_path, "articles").unlink()
    removed = clean_partition(tmp_path, "t", 0)
    assert sorted(removed) == sorted([orphan.path(tmp_path, "mentions"), tmp])
    assert done.path(tmp_path, "mentions").exists() and other.path(tmp_path, "mentions").exists()
    assert durable_offset(tmp_path, "t", 0) == 3
