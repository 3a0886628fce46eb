"""Shared by the live web tests and the screenshot script: sample pages with fresh URLs, and
a worker whose produced totals are tracked so tests can compare counters with them."""

from __future__ import annotations

import asyncio
import itertools
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.helpers.kafka import produce
from tests.helpers.worker import WorkerProcess
from workers.up import demo_pages

_serial = itertools.count()


def fresh_pages(n: int, tag: str = "p") -> list[dict[str, Any]]:
    """``n`` packaged sample pages, each with a new URL (so a new article id)."""
    samples = demo_pages()
    pages = []
    for i in range(n):
        page = dict(samples[i % len(samples)])
        page.pop("id", None)
        page["url"] = f"https://example.test/{tag}/{next(_serial)}"
        pages.append(page)
    return pages


@dataclass
class LiveWorker:
    """A started worker plus what was produced to its raw topic."""

    worker: WorkerProcess
    good: int = 0
    bad: int = 0
    history: list[str] = field(default_factory=list)

    def produce(self, good: int, bad: int = 0, tag: str = "p") -> None:
        values: list[Any] = list(fresh_pages(good, tag))
        values += [b"<not json " + str(i).encode() for i in range(bad)]
        coro = produce(self.worker.bootstrap, self.worker.topics["raw"], values)
        # In a thread: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, coro).result()
        self.good += good
        self.bad += bad

    def wait_processed(self, timeout: float = 120.0) -> dict[str, Any]:
        """Until every produced page is counted and every bad one dead-lettered."""

        def done(body: dict[str, Any]) -> bool:
            return (
                body["records_out"]["count"] >= self.good and body["deadletters_total"] >= self.bad
            )

        body: dict[str, Any] = self.worker.wait_for("/api/stats", done, timeout=timeout)
        return body

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.worker.web_port}{path}"

    def request(self, path: str, method: str = "GET") -> tuple[int, bytes, dict[str, str]]:
        req = urllib.request.Request(
            self.url(path), method=method, data=b"" if method != "GET" else None
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)


def require_browser() -> None:
    """Skip locally without Chromium/Playwright; fail in CI, where scripts/test installs them."""
    from tests.web.browser import chromium_path

    missing = None
    if chromium_path() is None:
        missing = "chromium (apt-get install chromium)"
    else:
        try:
            import playwright  # noqa: F401
        except ImportError:
            missing = "playwright (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"dashboard tests need {missing}", pytrace=False)
        pytest.skip(f"dashboard tests need {missing}")


__all__ = ["LiveWorker", "fresh_pages", "require_browser"]
