"""``newsflow up`` as a child process, run the way a user runs it from a terminal.

It gets its own process group (as a shell's foreground job does), so :meth:`UpProcess.ctrl_c`
sends SIGINT to the whole group, like Ctrl-C. Ports come free from the OS; ``TMPDIR`` and the
runtime folder (where ``up`` writes its address) are private, so leftovers can be seen and the
client commands it starts find this ``up`` and no other.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tests.helpers.worker import poll_json
from workers.brokers.common import free_port, pid_alive


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass
class UpProcess:
    workdir: Path
    args: list[str] = field(default_factory=list)
    broker_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def tmpdir(self) -> Path:
        return self.workdir / "tmp"

    @property
    def runtime_dir(self) -> Path:
        return self.workdir / "run"

    @property
    def log_file(self) -> Path:
        return self.workdir / "up.log"

    def client_env(self) -> dict[str, str]:
        """What a user's second terminal has: no NEWSFLOW_BROKER / web settings of its own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        env["NEWSFLOW_RUNTIME_DIR"] = str(self.runtime_dir)
        return env

    def env(self) -> dict[str, str]:
        env = self.client_env()
        env.update(
            NEWSFLOW_BROKER=f"kafka://127.0.0.1:{self.broker_port}",
            NEWSFLOW_WEB_PORT=str(self.web_port),
            TMPDIR=str(self.tmpdir),
        )
        return env

    def start(self) -> UpProcess:
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "workers.cli", "up", *self.args],
                env=self.env(), cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        return self

    def output(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def wait_output(self, text: str, timeout: float = 120.0) -> str:
        """Until ``text`` is in the output; fails early when ``up`` exits."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                raise AssertionError(f"up exited ({self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the output within {timeout} s:\n"
                                     f"{self.output()}")  # fmt: skip
            time.sleep(0.2)
        return self.output()

    def web_url(self) -> str:
        """The web address ``up`` says it serves on (it may not be the one asked for)."""
        for line in self.wait_output("web stats on http://").splitlines():
            if "web stats on http://" in line:
                return line.split("web stats on ", 1)[1].strip().rstrip("/")
        raise AssertionError("no web address in the output")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.web_url() + path, timeout=5) as resp:
            return orjson.loads(resp.read())

    def wait_for(self, path: str, predicate: Any, timeout: float = 120.0) -> Any:
        """Poll a JSON endpoint until ``predicate(body)`` holds; return the body."""
        return poll_json(self.get, path, predicate, timeout, "\n" + self.output()[-3000:])

    def newsflow(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """A client command from a user's second terminal (finds this ``up`` by itself)."""
        return subprocess.run(
            [sys.executable, "-m", "workers.cli", *args], env=self.client_env(),
            cwd=self.workdir, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def ctrl_c(self, timeout: float = 60.0) -> float:
        """SIGINT to the process group, like Ctrl-C in a terminal; seconds until ``up`` exits."""
        assert self.proc is not None
        t0 = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"up did not stop within {timeout} s:\n{self.output()}") from None
        return time.monotonic() - t0

    def kill(self) -> None:
        """Last resort after a failed test: SIGKILL ``up`` and everything below it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for pid in descendants(self.proc.pid) | {self.proc.pid}:
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
