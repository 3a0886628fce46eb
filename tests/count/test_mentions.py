"""The count logic without a broker: re-crawls, replays, partitions, windows."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from tests.helpers.stage_doubles import CountTables
from workers.count import hour_bucket, partition_for

T0 = 1_718_850_000.0  # an arbitrary produce time


def article(mentions: dict[str, int], content: str = "v1", produced: float = T0) -> dict[str, Any]:
    return {
        "id": "a",
        "content_hash": content,
        "mentions": mentions,
        "timestamps": {"produced": produced},
    }


def test_first_version_counts_every_mention() -> None:
    t = CountTables()
    t.count(article({"PERSON:プーチン": 3, "LOCATION:ロシア": 2}), offset=0)
    assert t.totals() == {"PERSON:プーチン": 3, "LOCATION:ロシア": 2}
    assert t.type_totals() == {"PERSON": 3, "LOCATION": 2}


def test_same_content_again_is_counted_once() -> None:
    t = CountTables()
    t.count(article({"PERSON:プーチン": 3}), offset=0)
    t.count(article({"PERSON:プーチン": 3}), offset=1)
    assert t.totals() == {"PERSON:プーチン": 3}


def test_new_content_moves_counts_from_old_version_to_new() -> None:
    t = CountTables()
    t.count(article({"PERSON:プーチン": 3, "LOCATION:ロシア": 1}, "v1"), offset=0)
    t.count(article({"PERSON:プーチン": 1, "LOCATION:北朝鮮": 2}, "v2"), offset=1)
    assert t.totals() == {"PERSON:プーチン": 1, "LOCATION:北朝鮮": 2}
    assert t.type_totals() == {"PERSON": 1, "LOCATION": 2}


def test_replaying_records_after_a_crash_never_double_counts() -> None:
    versions = [
        article({"PERSON:A": 1, "LOCATION:X": 2}, "v1"),
        article({"PERSON:A": 2}, "v2"),
        article({"PERSON:B": 1, "LOCATION:X": 1}, "v3"),
    ]
    once = CountTables()
    for offset, art in enumerate(versions):
        once.count(art, offset)
    replayed = CountTables()
    for offset in range(len(versions)):  # crash after each record, replay from the start
        for o in range(offset + 1):
            replayed.count(versions[o], o)
    assert replayed.totals() == once.totals() == {"PERSON:B": 1, "LOCATION:X": 1}


def test_random_replays_match_a_single_pass() -> None:
    rng = random.Random(7)
    keys = [f"PERSON:p{i}" for i in range(6)] + [f"LOCATION:l{i}" for i in range(6)]
    stream = []
    for offset in range(200):
        mentions = Counter(rng.choice(keys) for _ in range(rng.randint(0, 5)))
        art = article(dict(mentions), f"h{rng.randint(0, 3)}", T0 + 600 * offset)
        art["id"] = f"a{rng.randint(0, 9)}"
        stream.append(art)
    once = CountTables()
    for offset, art in enumerate(stream):
        once.count(art, offset)
    replayed = CountTables()
    committed = 0
    while committed < len(stream):
        crash_at = min(len(stream), committed + rng.randint(1, 30))
        for offset in range(committed, crash_at):
            replayed.count(stream[offset], offset)
        committed = rng.randint(committed, crash_at)  # some progress was committed
    assert replayed.totals() == once.totals()
    assert replayed.type_totals() == once.type_totals()


def test_hourly_buckets_follow_the_produce_time() -> None:
    t = CountTables()
    t.count(article({"PERSON:A": 2}, "v1", produced=T0), offset=0)
    t.count(article({"PERSON:A": 5}, "v2", produced=T0 + 3600), offset=1)
    hours = t.entities["PERSON:A"]["hours"]
    assert hours == {hour_bucket(T0 + 3600): 5}
    assert t.entities["PERSON:A"]["total"] == 5


def test_murmur2_is_kafkas() -> None:
    from aiokafka.partitioner import murmur2 as kafka_murmur2

    from workers.count.mentions import murmur2

    rng = random.Random(3)
    for n in range(64):
        data = bytes(rng.randrange(256) for _ in range(n))
        assert murmur2(data) == kafka_murmur2(data), data


def test_partition_matches_kafkas_default_partitioner() -> None:
    import orjson
    from aiokafka.partitioner import DefaultPartitioner

    for key in ["PERSON:プーチン", "LOCATION:ロシア", "PERSON"]:
        expected = DefaultPartitioner()(orjson.dumps(key), list(range(8)), list(range(8)))
        assert partition_for(key, 8) == expected


def with_forms(forms: dict[str, list[str]], content: str, produced: float = T0) -> dict[str, Any]:
    """An enriched record whose entity ``key`` was written as each of ``forms[key]``."""
    entities = [{"key": k, "text": f} for k, fs in forms.items() for f in fs]
    art = article(dict(Counter(e["key"] for e in entities)), content, produced)
    art["entities"] = entities
    return art


def test_each_key_counts_the_forms_it_was_written_in() -> None:
    us = "LOCATION:アメリカ合衆国"
    t = CountTables()
    t.count(with_forms({us: ["米", "米", "米国"]}, "v1"), offset=0)
    assert t.entities[us]["forms"] == {"米": 2, "米国": 1}
    t.count(with_forms({us: ["米", "米", "米国"]}, "v1"), offset=1)  # same content: nothing
    assert t.entities[us]["forms"] == {"米": 2, "米国": 1}
    # a new version written otherwise with as many mentions moves the forms, not the total
    t.count(with_forms({us: ["アメリカ", "米", "米"]}, "v2"), offset=2)
    assert t.entities[us]["total"] == 3
    assert t.entities[us]["forms"] == {"米": 2, "アメリカ": 1}


def test_forms_survive_replays_and_always_sum_to_the_total() -> None:
    rng = random.Random(3)
    keys = ["LOCATION:日本", "ORGANIZATION:日本銀行"]
    forms = {
        "LOCATION:日本": ["日本", "日", "ニッポン"],
        "ORGANIZATION:日本銀行": ["日銀", "日本銀行"],
    }
    stream = []
    for offset in range(150):
        chosen: dict[str, list[str]] = {}
        for _ in range(rng.randint(0, 4)):
            k = rng.choice(keys)
            chosen.setdefault(k, []).append(rng.choice(forms[k]))
        art = with_forms(chosen, f"h{rng.randint(0, 3)}", T0 + 600 * offset)
        art["id"] = f"a{rng.randint(0, 5)}"
        stream.append(art)
    once = CountTables()
    for offset, art in enumerate(stream):
        once.count(art, offset)
    replayed = CountTables()
    committed = 0
    while committed < len(stream):
        crash_at = min(len(stream), committed + rng.randint(1, 20))
        for offset in range(committed, crash_at):
            replayed.count(stream[offset], offset)
        committed = rng.randint(committed, crash_at)
    assert replayed.entities == once.entities
    for value in once.entities.values():
        assert sum(value.get("forms", {}).values()) == value["total"]
