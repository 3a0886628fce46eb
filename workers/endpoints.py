"""Where the broker and the web stats are: what ``produce``, ``tail`` and ``top`` connect to.

``newsflow up`` picks another port when 9092 (or 6066) is taken, so clients cannot assume the
defaults. Each running ``up`` writes one small JSON file, ``up-<pid>.json``, in
:func:`runtime_dir` and removes it when it stops; :func:`running_up` reads the newest one whose
process is still alive. Any tool can ask :func:`broker_address` / :func:`web_url`.

Precedence, first match wins: an explicit option (``--bootstrap``, ``--url``), the environment
(``NEWSFLOW_BROKER``, ``NEWSFLOW_WEB_HOST``/``NEWSFLOW_WEB_PORT``), a running ``newsflow up``,
then the defaults (``127.0.0.1:9092``, ``http://127.0.0.1:6066``). Each answer says where it
came from, so an error can name the address tried and why that one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
DEFAULT_WEB_URL = "http://127.0.0.1:6066"
#: What to do when no broker answers; used by every command that needs one.
START_HINT = (
    "start one with `newsflow up` (or scripts/up), "
    "or name yours with --bootstrap HOST:PORT or NEWSFLOW_BROKER"
)


@dataclass(frozen=True)
class Endpoint:
    """An address and where it came from (``--bootstrap``, ``NEWSFLOW_BROKER``, ...)."""

    address: str
    origin: str

    def describe(self) -> str:
        """``127.0.0.1:9092 (the default)``: for messages."""
        return f"{self.address} ({self.origin})"


@dataclass(frozen=True)
class UpInstance:
    """What a running ``newsflow up`` serves."""

    pid: int
    bootstrap: str
    web_url: str
    broker: str  # "tansu (memory)" or "kafka (DIR)"
    started_at: float


def runtime_dir() -> Path:
    """``$NEWSFLOW_RUNTIME_DIR``, else ``$XDG_RUNTIME_DIR/newsflow``, else
    ``~/.cache/newsflow/run``."""
    explicit = os.environ.get("NEWSFLOW_RUNTIME_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        return Path(xdg) / "newsflow"
    return Path.home() / ".cache" / "newsflow" / "run"


def register_up(instance: UpInstance) -> Path:
    """Write ``up-<pid>.json`` (atomically: readers never see half a file); return its path."""
    folder = runtime_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"up-{instance.pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(instance)), encoding="utf-8")
    tmp.replace(path)
    return path


def unregister_up(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _is_up_process(pid: int) -> bool:
    """``pid`` is alive and is a ``newsflow up`` (guards against a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode(errors="replace").split("\0")
    except OSError:
        return False
    return "up" in argv and any("newsflow" in a or "workers.cli" in a for a in argv)


def running_up() -> UpInstance | None:
    """The newest running ``newsflow up`` of this user; stale files are removed."""
    folder = runtime_dir()
    found: list[UpInstance] = []
    for path in folder.glob("up-*.json") if folder.is_dir() else ():
        try:
            instance = UpInstance(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue
        if _is_up_process(instance.pid):
            found.append(instance)
        elif time.time() - instance.started_at > 5:  # not one still being written
            unregister_up(path)
    return max(found, key=lambda i: i.started_at, default=None)


def broker_address(explicit: str | None = None) -> Endpoint:
    """The Kafka bootstrap (``host:port[,host:port]``) a client should use."""
    if explicit:
        return Endpoint(bootstrap_of(explicit), "--bootstrap")
    env = os.environ.get("NEWSFLOW_BROKER")
    if env:
        return Endpoint(bootstrap_of(env), "NEWSFLOW_BROKER")
    up = running_up()
    if up is not None:
        return Endpoint(up.bootstrap, f"newsflow up, pid {up.pid}")
    return Endpoint(DEFAULT_BOOTSTRAP, "the default; no newsflow up is running")


def web_url(explicit: str | None = None) -> Endpoint:
    """The base URL of a worker's web stats and HTTP API."""
    if explicit:
        return Endpoint(explicit.rstrip("/"), "--url")
    host, port = os.environ.get("NEWSFLOW_WEB_HOST"), os.environ.get("NEWSFLOW_WEB_PORT")
    if port:
        host = "127.0.0.1" if host in (None, "", "0.0.0.0") else host
        return Endpoint(f"http://{host}:{port}", "NEWSFLOW_WEB_PORT")
    up = running_up()
    if up is not None:
        return Endpoint(up.web_url, f"newsflow up, pid {up.pid}")
    return Endpoint(DEFAULT_WEB_URL, "the default; no newsflow up is running")


def bootstrap_of(broker_url: str) -> str:
    """``kafka://h:p;kafka://h2:p2`` (Faust style) -> ``h:p,h2:p2`` (aiokafka style)."""
    parts = broker_url.replace(";", ",").split(",")
    return ",".join(p.strip().removeprefix("kafka://") for p in parts if p.strip())


@contextlib.contextmanager
def quiet_client_logs() -> Iterator[None]:
    """Silence aiokafka's own connection errors while a command reports them in one line.

    Without a logging set-up, Python's last-resort handler prints each retry's
    ``Unable connect to ...`` to stderr, around the one line that says what to do.
    """
    logger = logging.getLogger("aiokafka")
    before = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(before)
