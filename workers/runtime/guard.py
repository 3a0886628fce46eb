"""A hard time bound per record: the CPU-bound stage functions run in a child process.

Why a process and not a signal or a thread: the runaway inputs that matter are in C code that
holds the GIL and never checks signals (Resiliparse flattening a deeply nested HTML bomb takes
time quadratic in its depth; SIGALRM fires only after it returns, and a watchdog thread cannot
even run meanwhile). Only killing a process really stops it; a crash in native code (a
segfault) then costs one record, not the worker. The child also takes the CPU work off the
event loop, so Kafka heartbeats and the web API stay responsive while a page is processed.

Cost: one pickle round trip over a pipe plus a thread hop per call, small against what a page takes
to clean and tag (docs/benchmark.md, "Measurements behind the code"). On a timeout the child is
killed and a fresh one started (the models load again).

Batches (``call_many``, what the agents use): one request and one thread hop for many records,
and still a deadline per record, not per batch: the child answers record by record, and the
parent waits at most ``timeout_s`` for each answer. When one does not come (a runaway, or a
crash), exactly that record fails, the child is replaced, and the records after it go to the
new child. So a batch costs what its records cost, and a bad record costs what it did alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import Any

from workers.contracts import RecordError

log = logging.getLogger("newsflow.guard")

#: How long a fresh child may take to import and warm up (dictionary and model load).
START_TIMEOUT_S = 180.0


class StageTimeout(TimeoutError):
    """The stage function did not return within its deadline (the child was killed)."""


def _resolve(target: str) -> Callable[..., Any]:
    module, _, name = target.partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return fn


def _die_with_parent() -> None:
    """Linux: SIGKILL this child when the worker dies (even by SIGKILL), so no orphan keeps
    burning CPU on a runaway record. Elsewhere the closed pipe ends it after the call."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _serve(conn: Connection, target: str, warmup: str | None) -> None:
    """Child main loop: call ``target`` for each request until the pipe closes."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides when we stop
    fn = _resolve(target)
    if warmup:
        _resolve(warmup)()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            batch = conn.recv()  # a list of argument tuples, one per record
        except (EOFError, OSError):
            return
        if batch is None:
            return
        for args in batch:
            conn.send(_reply(fn, args))  # one answer per record, as soon as it is done


def _reply(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except RecordError as exc:
        return ("record_error", exc.error_class, exc.reason)
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc)[:2000])


def _outcome(reply: tuple[Any, ...]) -> Any:
    """A child's answer -> the value, or the RecordError to raise / hand back."""
    if reply[0] == "ok":
        return reply[1]
    if reply[0] == "record_error":
        return RecordError(reply[1], reply[2])
    return RecordError("stage_error", f"{reply[1]}: {reply[2]}")


class StageProcess:
    """Calls ``module:function`` in a dedicated child process with a deadline per call.

    ``call`` / ``call_many`` are blocking and meant for one thread at a time; ``run`` /
    ``run_many`` are their asyncio forms (the agents use ``run_many``; a private one-thread
    executor, so calls of one stage never overlap).
    """

    def __init__(self, target: str, timeout_s: float, warmup: str | None = None) -> None:
        self.target = target
        self.warmup = warmup
        self.timeout_s = timeout_s
        self.restarts = 0
        self._ctx = mp.get_context("spawn")  # no fork of a process that runs threads
        self._proc: Any = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"guard-{target}")

    def start(self) -> None:
        """Start the child and wait until it has loaded what it needs (not a record's time)."""
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(
            target=_serve, args=(child, self.target, self.warmup), daemon=True,
            name=f"newsflow-stage:{self.target}",
        )  # fmt: skip
        proc.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            proc.kill()
            raise RuntimeError(f"stage process {self.target} did not start")
        try:
            parent.recv()
        except EOFError:
            raise RuntimeError(f"stage process {self.target} died while starting") from None
        self._proc, self._conn = proc, parent

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def call(self, *args: Any) -> Any:
        """``target(*args)`` in the child; StageTimeout after ``timeout_s``; a RecordError raised
        there comes back as one; any other failure as RecordError("stage_error"/"stage_crashed")."""
        (result,) = self.call_many([args])
        if isinstance(result, Exception):
            raise result
        return result

    def call_many(self, batch: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``target(*args)`` for each ``args`` of ``batch``, in one request to the child.

        Returns one outcome per record, in order: the value, or the exception for that record
        (RecordError, or StageTimeout when its answer did not come within ``timeout_s`` of the
        previous one; the RuntimeError when no stage process starts). Never raises; the child
        is replaced after a timeout or a crash, and the records after the failed one are sent
        to the new child.
        """
        results: list[Any] = []
        with self._lock:
            while len(results) < len(batch):
                todo = batch[len(results) :]
                if self._conn is None:
                    try:
                        self.start()
                    except Exception as exc:  # no stage process: no record can be done
                        results.extend([exc] * len(todo))
                        break
                conn = self._conn
                assert conn is not None
                try:
                    conn.send(list(todo))
                    for _ in todo:
                        if not conn.poll(self.timeout_s):
                            self._kill()
                            self.restarts += 1
                            results.append(
                                StageTimeout(
                                    f"no result within {self.timeout_s:g} s; stage process killed"
                                )
                            )
                            break
                        results.append(_outcome(conn.recv()))
                except (EOFError, OSError):
                    code = self._proc.exitcode if self._proc is not None else None
                    self._kill()
                    self.restarts += 1
                    results.append(
                        RecordError(
                            "stage_crashed", f"stage process died (exit code {code}) on this record"
                        )
                    )
        return results

    async def run(self, *args: Any) -> Any:
        """``call`` from the event loop without blocking it."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.call, *args)

    async def run_many(self, batch: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``call_many`` from the event loop without blocking it (one thread hop per batch)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.call_many, batch)

    async def astart(self) -> None:
        """Start the child off the event loop (agents call this before their first record)."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._start_once)

    def _start_once(self) -> None:
        with self._lock:
            if self._conn is None:
                t0 = time.monotonic()
                self.start()
                log.info("stage process %s ready in %.1f s", self.target, time.monotonic() - t0)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.send(None)
            if self._proc is not None:
                self._proc.join(2)
            self._kill()
        self._executor.shutdown(wait=False)
