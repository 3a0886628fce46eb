"""Functions for the guard's child process in tests: a runaway loop, a crash, an echo."""

from __future__ import annotations

import os
import signal
import time

from workers.contracts import RecordError


def echo(x: object) -> object:
    return x


def spin(seconds: float) -> str:
    """Pure-Python runaway: busy for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def crash() -> None:
    """A native crash (what a segfault in a C extension looks like to the parent)."""
    os.kill(os.getpid(), signal.SIGSEGV)


def bad_record() -> None:
    raise RecordError("bad_thing", "a reason")


def boom() -> None:
    raise ValueError("boom")


def act(what: str) -> str:
    """One record of a batch: ``ok:x`` -> x; ``spin``: runaway; ``crash``; ``bad``; ``boom``."""
    kind, _, value = what.partition(":")
    if kind == "spin":
        return spin(30.0)
    if kind == "crash":
        crash()
    if kind == "bad":
        bad_record()
    if kind == "boom":
        boom()
    return value


def parse_unbounded(body: str, content_type: str | None) -> object:
    """Lexbor on the page as it came (no markup bounds: quadratic in nesting depth, in C code
    that holds the GIL), then the clean stage's own work: a runaway the guard must stop."""
    from selectolax.lexbor import LexborHTMLParser

    from workers.runtime.stagejobs import clean_job

    LexborHTMLParser(body)
    return clean_job(body, content_type)
