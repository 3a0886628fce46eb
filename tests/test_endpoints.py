"""Where clients look for the broker and the web stats (workers/endpoints.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.endpoints import (
    UpInstance,
    broker_address,
    register_up,
    running_up,
    unregister_up,
    web_url,
)


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSFLOW_RUNTIME_DIR", str(tmp_path))
    for name in ("NEWSFLOW_BROKER", "NEWSFLOW_WEB_HOST", "NEWSFLOW_WEB_PORT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def looks_like_up() -> subprocess.Popen[bytes]:
    """A process whose command line reads like ``newsflow up`` (what running_up checks)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "newsflow", "up"])
    # Popen returns once exec has begun; the kernel fills in the new command line a moment
    # later (a real ``up`` has long been running when a client looks).
    for _ in range(100):
        with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
            if b"newsflow" in f.read():
                break
        time.sleep(0.01)
    return proc


def fake_up(pid: int, port: int, started_at: float | None = None) -> UpInstance:
    return UpInstance(
        pid=pid,
        bootstrap=f"127.0.0.1:{port}",
        web_url=f"http://127.0.0.1:{port + 1}",
        broker="tansu (memory)",
        started_at=time.time() if started_at is None else started_at,
    )


def test_defaults_when_nothing_runs(runtime: Path) -> None:
    assert broker_address().address == "127.0.0.1:9092"
    assert "no newsflow up is running" in broker_address().describe()
    assert web_url().address == "http://127.0.0.1:6066"


def test_a_running_up_is_found_and_explicit_settings_win(
    runtime: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = looks_like_up()
    try:
        path = register_up(fake_up(up.pid, 19092))
        assert broker_address().address == "127.0.0.1:19092"
        assert broker_address().origin == f"newsflow up, pid {up.pid}"
        assert web_url().address == "http://127.0.0.1:19093"
        monkeypatch.setenv("NEWSFLOW_BROKER", "kafka://10.0.0.1:9092;kafka://10.0.0.2:9092")
        assert broker_address().address == "10.0.0.1:9092,10.0.0.2:9092"
        assert broker_address("h:1").describe() == "h:1 (--bootstrap)"
        monkeypatch.setenv("NEWSFLOW_WEB_PORT", "7000")
        assert web_url().address == "http://127.0.0.1:7000"
        assert web_url("http://w:1/").address == "http://w:1"
        unregister_up(path)
        assert running_up() is None
    finally:
        up.kill()
        up.wait()


def test_the_newest_live_up_wins_and_stale_files_go(runtime: Path) -> None:
    older, newer = looks_like_up(), looks_like_up()
    try:
        register_up(fake_up(older.pid, 1000, started_at=time.time() - 60))
        register_up(fake_up(newer.pid, 2000))
        dead = register_up(fake_up(2**22 + 7, 3000, started_at=time.time() - 60))
        found = running_up()
        assert found is not None and found.pid == newer.pid and found.bootstrap.endswith(":2000")
        assert not dead.exists()  # a pid that is gone: its file is removed
        newer.kill()
        newer.wait()
        found = running_up()
        assert found is not None and found.pid == older.pid
    finally:
        for proc in (older, newer):
            proc.kill()
            proc.wait()


def test_a_reused_pid_is_not_taken_for_up(runtime: Path) -> None:
    """Our own pid is alive but is not ``newsflow up``: its file is stale."""
    register_up(fake_up(os.getpid(), 4000, started_at=time.time() - 60))
    assert running_up() is None
