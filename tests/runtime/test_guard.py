"""The per-record time guard (workers.runtime.guard) stops real runaway work, C code included."""

from __future__ import annotations

import time

import pytest

from workers.contracts import RecordError
from workers.runtime.guard import StageProcess, StageTimeout

#: Lexbor takes ~20 s on this unbounded (the clean stage bounds markup first, see
#: workers/clean/markup.py; ``targets.parse_unbounded`` parses it as it is).
HTML_BOMB = "<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>"


@pytest.fixture
def echo_proc():
    proc = StageProcess("tests.runtime.guard_targets:echo", timeout_s=5.0)
    yield proc
    proc.close()


def test_results_and_errors_come_back(echo_proc: StageProcess) -> None:
    assert echo_proc.call({"a": [1, "東京"]}) == {"a": [1, "東京"]}
    bad = StageProcess("tests.runtime.guard_targets:bad_record", timeout_s=5.0)
    boom = StageProcess("tests.runtime.guard_targets:boom", timeout_s=5.0)
    try:
        with pytest.raises(RecordError) as err:
            bad.call()
        assert (err.value.error_class, err.value.reason) == ("bad_thing", "a reason")
        with pytest.raises(RecordError) as err:
            boom.call()
        assert err.value.error_class == "stage_error" and "ValueError: boom" in err.value.reason
    finally:
        bad.close()
        boom.close()


def test_runaway_python_is_cut_at_the_deadline_and_the_next_call_works() -> None:
    proc = StageProcess("tests.runtime.guard_targets:spin", timeout_s=0.5)
    try:
        t0 = time.monotonic()
        with pytest.raises(StageTimeout):
            proc.call(30.0)
        assert time.monotonic() - t0 < 3.0
        assert proc.call(0.0) == "done"
        assert proc.restarts == 1
    finally:
        proc.close()


def test_runaway_c_code_is_cut_at_the_deadline() -> None:
    """Lexbor on a deeply nested page holds the GIL for seconds; the process is killed."""
    proc = StageProcess(
        "tests.runtime.guard_targets:parse_unbounded",
        timeout_s=1.0,
        warmup="workers.runtime.stagejobs:warm_clean",
    )
    try:
        proc.start()
        t0 = time.monotonic()
        with pytest.raises(StageTimeout):
            proc.call(HTML_BOMB, "text/html")
        assert time.monotonic() - t0 < 2.5
        text = proc.call("<html><body><p>東京で会見した。</p></body></html>", None)[0]
        assert "東京" in text
    finally:
        proc.close()


def test_a_crash_in_the_child_costs_one_record_not_the_worker() -> None:
    crash = StageProcess("tests.runtime.guard_targets:crash", timeout_s=5.0)
    try:
        with pytest.raises(RecordError) as err:
            crash.call()
        assert err.value.error_class == "stage_crashed"
        with pytest.raises(RecordError):
            crash.call()  # a fresh child, which crashes again: still an error, not a hang
        assert crash.restarts == 2
    finally:
        crash.close()


def test_a_batch_answers_each_record_in_order() -> None:
    proc = StageProcess("tests.runtime.guard_targets:act", timeout_s=5.0)
    try:
        out = proc.call_many([("ok:a",), ("bad",), ("ok:b",), ("boom",), ("ok:c",)])
        assert out[0::2] == ["a", "b", "c"]
        assert (out[1].error_class, out[1].reason) == ("bad_thing", "a reason")
        assert out[3].error_class == "stage_error" and "ValueError: boom" in out[3].reason
        assert proc.call_many([]) == []
        assert proc.restarts == 0
    finally:
        proc.close()


def test_a_runaway_in_a_batch_costs_its_own_deadline_and_only_itself() -> None:
    """The deadline is per record within a batch: the records before the runaway keep their
    results, the runaway times out after ``timeout_s``, the records after it go to a fresh child."""
    proc = StageProcess("tests.runtime.guard_targets:act", timeout_s=0.5)
    try:
        batch = [("ok:a",), ("ok:b",), ("spin",), ("ok:c",), ("spin",), ("ok:d",)]
        t0 = time.monotonic()
        out = proc.call_many(batch)
        assert time.monotonic() - t0 < 6.0  # two deadlines plus two fresh children
        assert [out[i] for i in (0, 1, 3, 5)] == ["a", "b", "c", "d"]
        assert isinstance(out[2], StageTimeout) and isinstance(out[4], StageTimeout)
        assert proc.restarts == 2
    finally:
        proc.close()


def test_a_crash_in_a_batch_costs_the_record_it_was_on() -> None:
    proc = StageProcess("tests.runtime.guard_targets:act", timeout_s=5.0)
    try:
        out = proc.call_many([("ok:a",), ("crash",), ("ok:b",), ("crash",)])
        assert out[0] == "a" and out[2] == "b"
        assert [out[i].error_class for i in (1, 3)] == ["stage_crashed", "stage_crashed"]
        assert proc.restarts == 2
        assert proc.call_many([("ok:c",)]) == ["c"]
    finally:
        proc.close()


def test_a_batch_runs_each_html_bomb_to_its_deadline_only() -> None:
    """Lexbor holding the GIL on a bomb in the middle of a batch of real pages."""
    proc = StageProcess(
        "tests.runtime.guard_targets:parse_unbounded",
        timeout_s=1.0,
        warmup="workers.runtime.stagejobs:warm_clean",
    )
    page = ("<html><body><p>東京で会見した。</p></body></html>", None)
    try:
        proc.start()
        t0 = time.monotonic()
        out = proc.call_many([page, (HTML_BOMB, "text/html"), page])
        assert time.monotonic() - t0 < 6.0
        assert isinstance(out[1], StageTimeout)
        assert "東京" in out[0][0] and "東京" in out[2][0]
    finally:
        proc.close()


async def test_overhead_per_call_is_small(echo_proc: StageProcess) -> None:
    """The round trip the agents pay per record (asyncio -> thread -> pipe -> child -> back)."""
    page = "東京で会見した。" * 500  # ~12 KB, a typical article text
    await echo_proc.run(page)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        await echo_proc.run(page)
    per_call_ms = (time.perf_counter() - t0) / n * 1000
    print(f"\n[guard] {per_call_ms:.3f} ms per call")
    assert per_call_ms < 1.0


async def test_overhead_per_record_in_a_batch_is_smaller(echo_proc: StageProcess) -> None:
    """What the batched agents pay per record: one thread hop and request per 64 records."""
    batch = [("東京で会見した。" * 500,)] * 64
    await echo_proc.run_many(batch)
    n = 50
    t0 = time.perf_counter()
    for _ in range(n):
        assert len(await echo_proc.run_many(batch)) == 64
    per_record_ms = (time.perf_counter() - t0) / (n * 64) * 1000
    print(f"\n[guard] {per_record_ms:.3f} ms per record in batches of 64")
    assert per_record_ms < 0.5
