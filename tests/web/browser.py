"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, for dashboard tests.

Playwright's own browser download is never used: the system Chromium is launched by path with a
fresh profile directory, so a test run touches no network besides the worker under test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("NEWSFLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The Chromium binary, or None when it is not installed."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


@contextmanager
def browser_page(width: int = 1440, height: int = 1000) -> Iterator[Any]:
    """A Playwright page in a headless Chromium with a throwaway profile."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    profile = tempfile.mkdtemp(prefix="newsflow-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=path,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height},
                device_scale_factor=1,
            )
            try:
                page = context.pages[0] if context.pages else context.new_page()
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
