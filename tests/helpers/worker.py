"""A newsflow worker as a child process, run the way a user runs it (``newsflow worker``).

Each test gets its own app id, topic names, data dir and web port, so tests sharing one broker
never see each other's records or consumer groups.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from workers.brokers.common import free_port


def poll_json(
    get: Callable[[str], Any], path: str, predicate: Any, timeout: float, context: str = ""
) -> Any:
    """``get(path)`` every 0.3 s until ``predicate(body)`` holds; return the body. Unreachable
    counts as not yet; on timeout the last body (and ``context``) go into the error."""
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        try:
            body = get(path)
            if predicate(body):
                return body
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(
        f"{path} did not satisfy the predicate within {timeout} s: {body}{context}"
    )


@dataclass
class WorkerProcess:
    bootstrap: str
    data_dir: Path
    name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:8]}")
    web_port: int = field(default_factory=free_port)
    partitions: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def topics(self) -> dict[str, str]:
        return {
            "raw": f"{self.name}.raw",
            "cleaned": f"{self.name}.cleaned",
            "enriched": f"{self.name}.enriched",
            "deadletter": f"{self.name}.deadletter",
            "mentions": f"{self.name}-mentions",
        }

    @property
    def log_file(self) -> Path:
        return self.data_dir / f"worker-{self.name}.log"

    def env(self) -> dict[str, str]:
        t = self.topics
        env = dict(os.environ)
        env.update(
            NEWSFLOW_APP_ID=f"newsflow-{self.name}",
            NEWSFLOW_BROKER=f"kafka://{self.bootstrap}",
            NEWSFLOW_RAW_TOPICS=t["raw"],
            NEWSFLOW_CLEANED_TOPIC=t["cleaned"],
            NEWSFLOW_ENRICHED_TOPIC=t["enriched"],
            NEWSFLOW_DEADLETTER_TOPIC=t["deadletter"],
            NEWSFLOW_MENTIONS_TOPIC=t["mentions"],
            NEWSFLOW_PARTITIONS=str(self.partitions),
            NEWSFLOW_DATA_DIR=str(self.data_dir / f"data-{self.name}"),
            NEWSFLOW_WEB_PORT=str(self.web_port),
            NEWSFLOW_LOG_LEVEL="warning",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 90.0) -> WorkerProcess:
        """Start ``newsflow worker`` and wait until its web API answers."""
        self.spawn()
        return self.wait_ready(timeout)

    def spawn(self) -> WorkerProcess:
        """Start ``newsflow worker`` in a process group of its own (its stage children with it),
        without waiting for it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workers.cli", "worker"],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                process_group=0,
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout: float = 90.0) -> WorkerProcess:
        """Wait until the spawned worker's web API answers."""
        assert self.proc is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"worker exited with {self.proc.returncode}:\n{self.tail_log()}"
                )
            try:
                self.get("/api/stats")
                return self
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"worker web API not up within {timeout} s:\n{self.tail_log()}")

    def get(self, path: str, timeout: float = 5.0) -> Any:
        url = f"http://127.0.0.1:{self.web_port}{path}"
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return orjson.loads(resp.read())

    def wait_for(self, path: str, predicate: Any, timeout: float = 60.0) -> Any:
        """Poll a JSON endpoint until ``predicate(body)`` holds; return the body."""
        return poll_json(self.get, path, predicate, timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def kill(self) -> None:
        """SIGKILL to the worker's whole process group (the worker and its stage children):
        the crash a fault test wants."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def tail_log(self, lines: int = 60) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
