"""The checker on topics and tables made by hand: it passes a consistent run and catches a lost
record, a count too high or too low, the wrong re-crawl version, a lagging commit and an API
answer that disagrees with the tables. No broker: the checker is pure."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from tests.chaos.checker import Observed, Rec, WorkerTables, check
from workers.contracts import content_hash

TOPICS = {
    "raw": "c.raw", "cleaned": "c.cleaned", "enriched": "c.enriched",
    "deadletter": "c.deadletter", "mentions": "c-mentions",
}  # fmt: skip

A1 = "東京都で会見した。"
A2 = "大阪府で会見した。"
B = "山田太郎が話した。"
MENTIONS = {A1: {"LOCATION:東京都": 1}, A2: {"LOCATION:大阪府": 1}, B: {"PERSON:山田太郎": 2}}


def raw(id_: str, body: str) -> bytes:
    return orjson.dumps({"id": id_, "url": f"https://x.test/{id_}", "body": body})


def cleaned(id_: str, body: str) -> bytes:
    return orjson.dumps({"id": id_, "content_hash": content_hash(body), "text": body})


def enriched(id_: str, body: str) -> bytes:
    return orjson.dumps({"id": id_, "content_hash": content_hash(body), "mentions": MENTIONS[body]})


def letter(topic: str, partition: int, offset: int, original: Any = "x") -> bytes:
    return orjson.dumps({
        "stage": "clean" if topic == TOPICS["raw"] else "extract", "error_class": "invalid_json",
        "source": {"topic": topic, "partition": partition, "offset": offset, "key": "k"},
        "original": original,
    })  # fmt: skip


def consistent() -> Observed:
    """Article a: version A1, then A2 (a re-crawl with new content), then A1 again, so A1
    counts; article b once and again unchanged (an exact re-crawl: enriched once); one record
    that is not JSON, dead-lettered."""
    raw_recs = [
        Rec(0, 0, b"a", raw("a", A1)), Rec(0, 1, b"a", raw("a", A2)), Rec(1, 0, b"b", raw("b", B)),
        Rec(1, 1, b"x", b"not json"), Rec(1, 2, b"b", raw("b", B)), Rec(0, 2, b"a", raw("a", A1)),
    ]  # fmt: skip
    versions = [("a", A1), ("a", A2), ("b", B), ("a", A1)]
    return Observed(
        topics=TOPICS, partitions=2, raw=raw_recs,
        cleaned=[Rec(0, i, None, cleaned(i_, b)) for i, (i_, b) in enumerate(versions)],
        enriched=[Rec(0, i, None, enriched(i_, b)) for i, (i_, b) in enumerate(versions)],
        deadletter=[Rec(0, 0, b"x", letter(TOPICS["raw"], 1, 1))],
        tables=[
            WorkerTables("w0", [0], {"LOCATION:東京都": 1}, {"LOCATION": 1}),
            WorkerTables("w1", [1], {"PERSON:山田太郎": 2}, {"PERSON": 2}),
        ],
        committed={(TOPICS["raw"], 0): 3, (TOPICS["raw"], 1): 3},
        ends={(TOPICS["raw"], 0): 3, (TOPICS["raw"], 1): 3},
        api=[("top", "PERSON:山田太郎", 2, ""), ("entity", "LOCATION:大阪府", 0, "")],
    )  # fmt: skip


def test_a_consistent_run_passes() -> None:
    report = check(consistent())
    assert report.ok, report.details()
    assert (report.raw_records, report.versions, report.keys) == (6, 3, 2)
    assert report.enriched_duplicates == 1  # A1 enriched twice: the re-crawl after A2
    assert report.deadletters == {"clean/invalid_json": 1}


def test_a_record_cleaned_but_never_enriched_is_lost_and_its_counts_are_low() -> None:
    obs = consistent()
    obs.enriched = [r for r in obs.enriched if b'"b"' not in (r.value or b"")]
    obs.tables[1] = WorkerTables("w1", [1], {}, {})
    obs.api = []
    report = check(obs)
    assert not report.ok
    assert [(x.partition, x.offset, x.where, x.committed_past) for x in report.lost] == [
        (1, 0, "cleaned, never enriched", True), (1, 2, "cleaned, never enriched", True),
    ]  # fmt: skip
    # The recount has no b (it is not in the enriched topic): the tables agree with it.
    assert report.under == [] and report.over == []


def test_a_record_never_cleaned_and_not_committed_past() -> None:
    obs = consistent()
    obs.raw.append(Rec(1, 3, b"c", raw("c", B + "。")))
    obs.ends[(TOPICS["raw"], 1)] = 4
    report = check(obs)
    assert [(x.offset, x.where, x.committed_past) for x in report.lost] == [
        (3, "never cleaned", False)
    ]
    assert report.committed_lag[TOPICS["raw"]] == 1


def test_an_undecodable_record_without_a_dead_letter_is_lost() -> None:
    obs = consistent()
    obs.deadletter = []
    report = check(obs)
    assert [(x.offset, x.where) for x in report.lost] == [(1, "undecodable, no dead letter")]


def test_a_version_dead_lettered_by_a_later_stage_is_not_lost() -> None:
    obs = consistent()
    obs.raw.append(Rec(1, 3, b"d", raw("d", "長い記事")))
    obs.deadletter.append(Rec(0, 1, b"d", letter(TOPICS["cleaned"], 0, 9, orjson.dumps(
        {"id": "d", "content_hash": content_hash("長い記事")}).decode())))  # fmt: skip
    obs.committed[(TOPICS["raw"], 1)] = obs.ends[(TOPICS["raw"], 1)] = 4
    assert check(obs).ok


def test_a_record_dead_lettered_and_enriched_on_a_replay_still_counts() -> None:
    """A page that timed out (dead letter), then went through when replayed after a kill: the
    tables count it, and so must the recount."""
    obs = consistent()
    obs.raw.append(Rec(1, 3, b"s", raw("s", B)))
    obs.deadletter.append(Rec(0, 1, b"s", letter(TOPICS["raw"], 1, 3)))
    obs.enriched.append(Rec(0, 9, None, enriched("s", B)))
    obs.tables[1] = WorkerTables("w1", [1], {"PERSON:山田太郎": 4}, {"PERSON": 4})
    obs.committed[(TOPICS["raw"], 1)] = obs.ends[(TOPICS["raw"], 1)] = 4
    obs.api = []
    report = check(obs)
    assert report.ok, report.details()


def test_counts_too_high_and_too_low_are_told_apart() -> None:
    obs = consistent()
    obs.tables[0] = WorkerTables("w0", [0], {"LOCATION:東京都": 2}, {"LOCATION": 2})
    obs.tables[1] = WorkerTables("w1", [1], {"PERSON:山田太郎": 1}, {"PERSON": 1})
    obs.api = []
    report = check(obs)
    assert report.over == [("LOCATION:東京都", 2, 1)]
    assert report.under == [("PERSON:山田太郎", 1, 2)]
    assert sorted(report.type_mismatches) == [("LOCATION", 2, 1), ("PERSON", 1, 2)]
    assert not report.ok


def test_the_version_produced_last_counts_not_the_one_enriched_last() -> None:
    """Tables holding A2 (the middle version) are wrong: A1 was produced again after it."""
    obs = consistent()
    obs.tables[0] = WorkerTables("w0", [0], {"LOCATION:大阪府": 1}, {"LOCATION": 1})
    obs.api = []
    report = check(obs)
    assert report.over == [("LOCATION:大阪府", 1, 0)]
    assert report.under == [("LOCATION:東京都", 0, 1)]
    # An enriched topic whose last record of "a" is A2 is reported as out of raw order.
    obs.enriched = obs.enriched[:3]
    obs.enriched.insert(0, Rec(0, 9, None, enriched("a", A2)))
    assert check(obs).order_differs == ["a"]


def test_the_api_must_answer_what_the_tables_hold() -> None:
    obs = consistent()
    obs.api = [("top", "PERSON:山田太郎", 3, ""), ("entity", "LOCATION:東京都", None, "HTTP 400")]
    report = check(obs)
    assert len(report.api_mismatches) == 2
    assert not report.ok
    assert not check(dataclasses.replace(consistent(), top_complete=False)).ok


def test_a_partition_no_worker_serves_or_a_key_on_two_workers() -> None:
    obs = consistent()
    obs.tables[1] = WorkerTables("w1", [0], {"PERSON:山田太郎": 2, "LOCATION:東京都": 1}, {})
    report = check(obs)
    assert any("no worker serves table partitions [1]" in m for m in report.ownership)
    assert any("two workers" in m for m in report.ownership)
    assert not report.ok


def test_the_counts_follow_the_enriched_record_where_the_content_last_changed() -> None:
    """Aliases learned between two enrichments of one version give them other keys: A1's
    second enrichment (after A2) says 東京; that record is what the count stage counted."""
    obs = consistent()
    again = orjson.loads(obs.enriched[3].value or b"")
    again["mentions"] = {"LOCATION:東京": 1}
    obs.enriched[3] = Rec(0, 3, None, orjson.dumps(again))
    obs.tables[0] = WorkerTables("w0", [0], {"LOCATION:東京": 1}, {"LOCATION": 1})
    assert check(obs).ok, check(obs).details()
    obs.tables[0] = WorkerTables("w0", [0], {"LOCATION:東京都": 1}, {"LOCATION": 1})
    report = check(obs)
    assert report.over == [("LOCATION:東京都", 1, 0)] and report.under == [("LOCATION:東京", 0, 1)]


def test_an_api_answer_merged_over_keys_must_match_each_key_and_their_sum() -> None:
    obs = consistent()
    obs.tables[1] = WorkerTables("w1", [1], {"PERSON:山田太郎": 2, "PERSON:山田": 3}, {"PERSON": 5})
    obs.api = [("top", "PERSON:山田太郎", 5, "", [("PERSON:山田太郎", 2), ("PERSON:山田", 3)])]
    report = check(obs)
    assert not report.api_mismatches, report.api_mismatches
    obs.api = [("top", "PERSON:山田太郎", 6, "", [("PERSON:山田太郎", 2), ("PERSON:山田", 3)])]
    assert check(obs).api_mismatches == ["top PERSON:山田太郎: 6, its merged keys 5"]
    obs.api = [("entity", "PERSON:山田", 5, "", [("PERSON:山田太郎", 2), ("PERSON:山田", 4)])]
    assert any("merged key PERSON:山田 4" in m for m in check(obs).api_mismatches)
