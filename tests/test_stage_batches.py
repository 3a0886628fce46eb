"""The batched clean and extract stages (workers.clean.batch, workers.extract.batch) without
Kafka: each record of a batch ends where it did when records went one by one, re-crawl
decisions included, and table writes are made for the right event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import orjson
import pytest
from faust.streams import current_event

from tests.helpers.stage_doubles import Topic, event
from workers.clean.batch import CleanBatch
from workers.contracts import RecordError
from workers.extract import EntityRow
from workers.extract.batch import ExtractBatch
from workers.runtime.guard import StageTimeout
from workers.runtime.sinks import DeadLetterSink
from workers.runtime.stagejobs import clean_job
from workers.runtime.streams import acting_for
from workers.stage import chunks, distinct_runs
from workers.stats import PipelineStats

JA = "東京都の山田太郎知事は大阪で記者会見を開いた。"


class Guard:
    """Stands in for StageProcess: ``fn`` per record, an exception instance as its outcome."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.requests: list[int] = []

    async def run_many(self, batch: Sequence[tuple[Any, ...]]) -> list[Any]:
        self.requests.append(len(batch))
        out = []
        for args in batch:
            try:
                out.append(self.fn(*args))
            except Exception as exc:
                out.append(exc)
        return out


class Table(dict[Any, Any]):
    """A dict that notes which event was current at each access (Faust picks the partition)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[tuple[Any, Any]] = []
        self.writes: list[tuple[Any, Any]] = []

    def get(self, key: Any, default: Any = None) -> Any:
        self.reads.append((key, current_event()))
        return super().get(key, default)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.writes.append((key, current_event()))
        super().__setitem__(key, value)


def _stage(cls: Any, fn: Callable[..., Any], *extra: Any) -> tuple[Any, Topic, Topic, Any]:
    out, dead_topic, stats = Topic(), Topic(), PipelineStats()
    stage = cls(Guard(fn), out, DeadLetterSink(dead_topic, stats), stats, *extra)
    return stage, out, dead_topic, stats


def _letters(dead: Topic) -> list[dict[str, Any]]:
    return [orjson.loads(v) for _, v in dead.sent]


async def test_clean_batch_sends_good_records_and_dead_letters_the_rest_with_their_bytes() -> None:
    def job(body: str, content_type: str | None) -> Any:
        if "SLOW" in body:
            raise StageTimeout("no result within 3 s")
        return clean_job(body, content_type)

    stage, out, dead, stats = _stage(CleanBatch, job, 1000)
    events = [
        event({"id": "a", "url": "https://x.test/a", "body": JA}),
        event(b"\x00 not json", key=b"k"),
        event({"id": "b", "url": "https://x.test/b", "body": "SLOW" + JA}),
        event({"id": "c", "url": "https://x.test/c", "body": "あ" * 2000}),  # over 1000 bytes
        event({"id": "d", "url": "https://x.test/d", "body": JA * 2}),
    ]
    await stage(events)
    assert [k for k, _ in out.sent] == [b"a", b"d"]
    assert orjson.loads(out.sent[0][1])["timestamps"]["produced"] == events[0].message.timestamp
    letters = {d["source"]["offset"]: d for d in _letters(dead)}
    assert {o: (d["stage"], d["error_class"]) for o, d in letters.items()} == {
        events[1].message.offset: ("validate", "invalid_json"),
        events[2].message.offset: ("clean", "timeout"),
        events[3].message.offset: ("validate", "too_large"),
    }
    value = events[2].value
    assert value is not None
    assert letters[events[2].message.offset]["original"] == value.decode()
    assert stats.records_in["clean"] == 5 and stats.records_out["clean"] == 2
    assert stage.guard.requests == [3]  # one request for the batch's valid records


async def test_clean_batch_dead_letters_empty_text_and_counts_truncated_records() -> None:
    stage, out, dead, stats = _stage(CleanBatch, clean_job, 10_000_000)
    long_line = "市は二十日、発表した。\n" + "漢" * 30_000
    events = [
        event({"id": "emoji", "url": "https://x.test/e", "body": "😀🎉" * 50}),
        event({"id": "ok", "url": "https://x.test/o", "body": JA}),
        event({"id": "script", "url": "https://x.test/s", "content_type": "text/html",
               "body": "<html><body><script>var a = 1;</script></body></html>"}),
        event({"id": "long", "url": "https://x.test/l", "body": long_line}),
    ]  # fmt: skip
    await stage(events)
    assert [k for k, _ in out.sent] == [b"ok", b"long"]
    records = {orjson.loads(v)["id"]: orjson.loads(v) for _, v in out.sent}
    assert records["ok"]["truncated"] is None
    assert records["long"]["truncated"]["line_chars"]["original"] == 30_000
    letters = _letters(dead)
    assert [(d["stage"], d["error_class"]) for d in letters] == [("clean", "empty_text")] * 2
    assert all("no article text" in d["reason"] for d in letters)
    assert letters[0]["original"] == events[0].value.decode()  # type: ignore[union-attr]
    assert stats.truncated == {"line_chars": 1}
    assert stats.deadletters["empty_text"] == 2 and stats.records_out["clean"] == 2


def _cleaned(article_id: str, content_hash: str, text: str = JA) -> dict[str, Any]:
    return {
        "id": article_id, "url": f"https://x.test/{article_id}", "text": text,
        "content_hash": content_hash, "timestamps": {"produced": 1.0, "cleaned": 2.0},
    }  # fmt: skip


def _tag(text: str) -> list[EntityRow]:
    if text.startswith("FAIL"):
        raise RecordError("stage_crashed", "stage process died")
    return [("東京", "LOCATION", 0, 2, "東京")] if "東京" in text else []


def _one_by_one(records: list[tuple[dict[str, Any], int]]) -> tuple[list[Any], list[Any], dict]:
    """Reference: the same records through the stage one event per batch."""
    table = Table()
    stage, out, dead, _ = _stage(ExtractBatch, _tag, table, acting_for)

    async def go() -> None:
        for rec, partition in records:
            await stage([event(rec, partition=partition)])

    asyncio.run(go())
    return (
        [orjson.loads(v)["content_hash"] for _, v in out.sent],
        [d["error_class"] for d in _letters(dead)],
        {k: v["hash"] for k, v in table.items()},
    )


@pytest.mark.parametrize(
    "versions",
    [
        [("a", "h1"), ("a", "h1")],  # exact re-crawl in the same batch: the second is skipped
        [("a", "h1"), ("a", "h2"), ("a", "h1")],  # new content, then back: all three go through
        [("FAIL", "h1"), ("FAIL", "h1")],  # the first failed: the second is not a re-crawl of it
        [("a", "h1"), ("FAIL", "h2"), ("a", "h2"), ("a", "h2")],
    ],
)
def test_extract_batch_decides_versions_of_one_article_in_order(
    versions: list[tuple[str, str]],
) -> None:
    records = [
        (_cleaned("x", h, text=("FAIL" if t == "FAIL" else "") + JA), 0) for t, h in versions
    ]
    want = _one_by_one(records)
    table = Table()
    stage, out, dead, stats = _stage(ExtractBatch, _tag, table, acting_for)
    asyncio.run(stage([event(rec, partition=p) for rec, p in records]))
    got = (
        [orjson.loads(v)["content_hash"] for _, v in out.sent],
        [d["error_class"] for d in _letters(dead)],
        {k: v["hash"] for k, v in table.items()},
    )
    assert got == want
    assert stats.records_in["extract"] == len(versions)
    assert stats.records_out["extract"] + stats.records_out["extract_skipped"] + sum(
        stats.deadletters.values()
    ) == len(versions)


async def test_extract_batch_reads_and_writes_the_table_for_the_record_it_is_doing() -> None:
    table = Table()
    stage, out, dead, stats = _stage(ExtractBatch, _tag, table, acting_for)
    events = [
        event(_cleaned("a", "h1"), partition=0),
        event(_cleaned("b", "h1"), partition=1),
        event(b"{broken", partition=1),
        event(_cleaned("a", "h2"), partition=0),
        event(_cleaned("c", "h1", text="FAIL"), partition=1),
        event(_cleaned("b", "h1"), partition=1),  # exact re-crawl of b
    ]
    await stage(events)
    assert [orjson.loads(v)["id"] for _, v in out.sent] == ["a", "b", "a"]
    assert table.writes == [("a", events[0]), ("b", events[1]), ("a", events[3])]
    assert all(key == orjson.loads(ev.value)["id"] for key, ev in table.reads)
    assert table["a"]["source"] == [0, events[3].message.offset]
    assert [d["error_class"] for d in _letters(dead)] == ["stage_error", "stage_crashed"]
    assert stats.records_out["extract_skipped"] == 1 and stats.records_out["extract"] == 3
    assert len(stats.latencies_s) == 3
    assert stage.guard.requests == [2, 2]  # a second "a" starts a new run; b is skipped


def test_chunks_bound_the_size_of_a_request() -> None:
    sizes = [3, 3, 3, 10, 1, 1]
    runs = [list(c) for c in chunks(sizes, lambda n: n, 6)]
    assert runs == [[3, 3], [3], [10], [1, 1]]
    assert list(chunks([], lambda n: n, 6)) == []


def test_distinct_runs_cut_where_a_key_repeats() -> None:
    runs = [list(r) for r in distinct_runs(list("abcadbb"), lambda c: c)]
    assert runs == [list("abc"), list("adb"), ["b"]]
    assert list(distinct_runs([], lambda c: c)) == []


async def test_a_failure_of_the_batch_code_dead_letters_the_records_still_open() -> None:
    """The net under the per-record handling: nothing of a batch is acked without a trace."""

    class Broken(Guard):
        async def run_many(self, batch: Sequence[tuple[Any, ...]]) -> list[Any]:
            raise RuntimeError("a bug in the batch code")

    stage, out, dead, _ = _stage(CleanBatch, clean_job, 1000)
    stage.guard = Broken(clean_job)
    events = [
        event({"id": "a", "url": "https://x.test/a", "body": JA}),
        event(b"[1]"),
        event({"id": "b", "url": "https://x.test/b", "body": JA}),
    ]
    await stage(events)
    assert out.sent == []
    letters = {d["source"]["offset"]: d["error_class"] for d in _letters(dead)}
    assert letters == {
        events[0].message.offset: "stage_error",
        events[1].message.offset: "not_an_object",  # dead-lettered once, before the failure
        events[2].message.offset: "stage_error",
    }


async def test_extract_writes_a_recrawl_state_only_once_its_record_is_delivered() -> None:
    """The state says "this content was enriched": written before the enriched record is
    acknowledged, a crash in between would make the replay look like an exact re-crawl."""
    table = Table()
    stage, out, _, _ = _stage(ExtractBatch, _tag, table, acting_for)
    loop = asyncio.get_running_loop()
    delivery: asyncio.Future[Any] = loop.create_future()
    out.deliveries = [delivery]
    task = asyncio.create_task(stage([event(_cleaned("a", "h1"))]))
    for _ in range(20):
        await asyncio.sleep(0)
    assert len(out.sent) == 1 and not task.done()
    assert table.writes == []  # the record is sent, not yet acknowledged: no state
    delivery.set_result(None)
    await task
    assert [key for key, _ in table.writes] == ["a"]


async def test_a_record_the_broker_refuses_dead_letters_its_input_and_writes_no_state() -> None:
    from aiokafka.errors import MessageSizeTooLargeError

    table = Table()
    stage, out, dead, _ = _stage(ExtractBatch, _tag, table, acting_for)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    refused.set_exception(MessageSizeTooLargeError())
    out.deliveries = [refused]
    events = [event(_cleaned("a", "h1")), event(_cleaned("b", "h1"))]
    await stage(events)
    assert [orjson.loads(v)["id"] for _, v in out.sent] == ["a", "b"]
    letters = _letters(dead)
    assert [(d["source"]["offset"], d["error_class"]) for d in letters] == [
        (events[0].message.offset, "output_refused")
    ]
    assert [key for key, _ in table.writes] == ["b"]


async def test_a_send_that_fails_for_the_broker_is_sent_again_until_delivered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aiokafka.errors import KafkaTimeoutError, NotLeaderForPartitionError

    from workers.runtime import sinks

    monkeypatch.setattr(sinks.Backoff, "next_delay", lambda self: 0.0)
    stage, out, dead, _ = _stage(CleanBatch, clean_job, 1000)
    loop = asyncio.get_running_loop()
    failures = []
    for exc in (KafkaTimeoutError(), NotLeaderForPartitionError()):
        fut: asyncio.Future[Any] = loop.create_future()
        fut.set_exception(exc)
        failures.append(fut)
    out.deliveries = failures
    await stage([event({"id": "a", "url": "https://x.test/a", "body": JA})])
    assert [key for key, _ in out.sent] == [b"a", b"a", b"a"]  # first send + two re-sends
    assert dead.sent == []
