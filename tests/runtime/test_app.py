"""The Faust app's own settings that are not plain Faust settings (no broker needed)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from workers.runtime.app import PRODUCER_BUFFER_MAX_MESSAGES, create_app
from workers.settings import Settings


def test_a_count_batch_of_changelog_records_does_not_stall_the_consumer(tmp_path: Path) -> None:
    """Faust's conductor calls ``wait_until_ebb`` for every incoming record; past the bound it
    waits for the buffer to drain (here, with the producer not running, that raises)."""
    app = create_app(Settings(app_id="app-test", data_dir=str(tmp_path)))
    buffer = app.producer.buffer
    assert PRODUCER_BUFFER_MAX_MESSAGES >= 1_000  # a count batch's writes under a backlog

    async def go() -> None:
        for _ in range(PRODUCER_BUFFER_MAX_MESSAGES):  # what one count batch writes, and more
            buffer.pending.put_nowait(object())
        await buffer.wait_until_ebb()  # returns at once: no flush, no wait
        buffer.pending.put_nowait(object())
        try:
            await buffer.wait_until_ebb()
        except RuntimeError as exc:  # past the bound it flushes (Faust's own flow control)
            assert "Cannot flush" in str(exc)
        else:
            raise AssertionError("a buffer past the bound did not flush")

    asyncio.run(go())


def test_offsets_are_committed_by_time_only(tmp_path: Path) -> None:
    """Faust's count-based commit runs inside the loop that feeds the agents and stalls every
    hop while it flushes; only the timer-driven commit (its own task) may remain."""
    app = create_app(Settings(app_id="app-test", data_dir=str(tmp_path)))
    assert app.conf.broker_commit_every >= 10**12
    assert 0 < app.conf.broker_commit_interval <= 5.0  # replays after a crash stay bounded
