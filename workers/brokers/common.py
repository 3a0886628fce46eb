"""What the local brokers share: ``LocalBroker`` (the base of ``KafkaBroker`` and
``TansuBroker``), free ports, process stop, the readiness round trip.

An open port is not proof that a broker serves clients (Kafka accepts connections before its
metadata is loaded), so readiness is always a real produce + consume of one record.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Self, TypeVar

READY_TOPIC = "newsflow.readiness"
PR_SET_PDEATHSIG = 1

T = TypeVar("T")


class BrokerError(RuntimeError):
    """A local broker could not be assembled, started or reached."""


class LocalBroker:
    """A broker on ``127.0.0.1:port`` run as a child process: ``start`` blocks until it serves
    a produce + consume round trip, ``stop`` ends it; both also from an event loop (``astart``,
    ``astop``) and as a context manager. A broker this process started is stopped when the
    process exits (``track``), so none is left behind."""

    #: default seconds for ``start`` and ``stop`` (subclasses set their own)
    START_TIMEOUT_S = 60.0
    STOP_TIMEOUT_S = 10.0

    port: int
    start_seconds: float | None = None

    @property
    def bootstrap(self) -> str:
        """The address clients connect to: ``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float | None = None) -> str:
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        raise NotImplementedError

    async def astart(self, timeout: float | None = None) -> str:
        """:meth:`start` without blocking the caller's event loop."""
        return await asyncio.to_thread(self.start, timeout)

    async def astop(self, timeout: float | None = None) -> None:
        """:meth:`stop` without blocking the caller's event loop."""
        await asyncio.to_thread(self.stop, timeout)

    def track(self, running: bool) -> None:
        """Note that this process runs the broker (stopped at exit) or no longer does."""
        if running:
            _live.add(self)
        else:
            _live.discard(self)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


_live: set[LocalBroker] = set()


@atexit.register
def _stop_leftovers() -> None:
    """Never leave a broker behind when the Python process that started it exits."""
    for broker in list(_live):
        with contextlib.suppress(Exception):
            broker.stop()


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free right now (the OS picks it; a small race is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on ``host:port``.

    SO_REUSEADDR as the JVM and Tansu use it: connections of a just-stopped broker that linger
    in TIME_WAIT do not block a restart on the same port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def run_sync(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, in a fresh loop on a helper thread.

    The sync broker API is called from plain scripts, from sync pytest fixtures and (via
    ``asyncio.to_thread``) from async tests; a private thread never touches the caller's loop
    or its thread's current-loop setting, so all three are safe.
    """

    async def main() -> T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


async def round_trip_once(bootstrap: str, topic: str = READY_TOPIC, timeout: float = 15.0) -> None:
    """Produce one unique record to ``topic`` and read exactly that record back.

    Uses no consumer group (manual assignment), so it works on brokers with slow group joins.
    Raises on any failure; the caller decides whether to retry.
    """
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    payload = uuid.uuid4().hex.encode()
    timeout_ms = int(timeout * 1000)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, acks="all"
    )
    try:  # stop() also after a failed start(): it closes the half-open client
        await producer.start()
        meta = await asyncio.wait_for(producer.send_and_wait(topic, payload), timeout)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, request_timeout_ms=timeout_ms
    )
    try:
        await consumer.start()
        tp = TopicPartition(topic, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        msg = await asyncio.wait_for(consumer.getone(tp), timeout)
        if msg.value != payload:
            raise BrokerError(f"round trip on {bootstrap} read back a different record")
    finally:
        await consumer.stop()


async def wait_round_trip(
    bootstrap: str,
    deadline: float,
    alive: Callable[[], bool] = lambda: True,
    topic: str = READY_TOPIC,
) -> None:
    """Retry :func:`round_trip_once` until it succeeds, ``alive()`` turns false or time runs out."""
    last: BaseException | None = None
    host, _, port = bootstrap.rpartition(":")
    while not _accepts(host, int(port)):  # cheap and quiet, before the client's noisy retries
        if not alive():
            raise BrokerError("broker process exited while waiting for its port")
        if time.monotonic() > deadline:
            raise BrokerError(f"nothing listens on {bootstrap} before timeout")
        await asyncio.sleep(0.05)
    while time.monotonic() < deadline:
        if not alive():
            raise BrokerError("broker process exited while waiting for the round trip")
        remaining = max(1.0, deadline - time.monotonic())
        try:
            await round_trip_once(bootstrap, topic, timeout=min(15.0, remaining))
            return
        except Exception as exc:  # any client error means "not ready yet"
            last = exc
            await asyncio.sleep(0.2)
    raise BrokerError(f"no produce+consume round trip on {bootstrap} before timeout: {last!r}")


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def terminate(proc: subprocess.Popen[bytes] | None, pid: int | None, timeout: float) -> None:
    """Stop a process politely (SIGTERM), then by force (SIGKILL) once ``timeout`` passes.

    Works both for a child we spawned (``proc``) and for a bare pid from a pid file.
    """
    if proc is not None:
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        return
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not pid_alive(pid):
                return
            time.sleep(0.2)
        os.kill(pid, signal.SIGKILL)


def stop_with_parent() -> None:
    """``preexec_fn`` for a broker child in its own session: SIGTERM it when its parent dies.

    A broker that ``newsflow up`` runs sits in its own session so that the terminal's Ctrl-C
    reaches only the worker, which stops first and then stops the broker. Linux's parent-death
    signal keeps it from outliving a parent that is killed outright (SIGKILL, OOM). It fires when
    the *thread* that started the child ends, so start such a broker from a thread that lives
    as long as it does (the main thread).
    """
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def pid_alive(pid: int) -> bool:
    """True if ``pid`` is a live (non-zombie) process."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError, ProcessLookupError):
        return False
    return state != "Z"


def pid_cmdline(pid: int) -> str:
    """The command line of ``pid`` joined by spaces ("" if gone): guards against pid reuse."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""
