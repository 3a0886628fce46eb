"""workers.runtime.worker: Ctrl-C while nothing is started yet ends the process, even when a
library swallows the cancellation asyncio turns Ctrl-C into."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

#: a wait whose coroutine swallows its cancellation (as a client closing on its way out may)
SWALLOWING_WAIT = textwrap.dedent(
    """
    import asyncio, contextlib, sys
    from workers.runtime.worker import interrupt_exits

    async def wait():
        print("waiting", flush=True)
        while True:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.5)

    if sys.argv[1] == "guarded":
        with interrupt_exits("test"):
            asyncio.run(wait())
    else:
        asyncio.run(wait())
    """
)


def interrupt(mode: str) -> tuple[int | None, str]:
    """(exit code, or None when still running 5 s after Ctrl-C; output) of the wait above."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SWALLOWING_WAIT, mode], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, start_new_session=True, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "waiting"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        try:
            return proc.wait(5), proc.stdout.read()
        except subprocess.TimeoutExpired:
            return None, ""
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize("mode", ["guarded", "plain"])
def test_ctrl_c_before_the_worker_starts_exits_even_if_the_cancellation_is_swallowed(
    mode: str,
) -> None:
    code, output = interrupt(mode)
    if mode == "guarded":
        assert code == 130
        assert output.strip().splitlines()[-1] == "test: interrupted"
    else:  # the control: asyncio alone keeps waiting
        assert code is None
