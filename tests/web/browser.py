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


#: Draws each character of an element's text in the element's own font on a canvas and returns
#: the alpha channel per character. A character with no glyph in any installed font is drawn as
#: the same empty box (tofu) as every other missing one, so distinct CJK characters that come
#: out identical mean the page shows boxes, not Japanese.
_GLYPHS_JS = """(selector) => {
  const cell = document.querySelector(selector);
  const style = getComputedStyle(cell);
  const canvas = document.createElement("canvas");
  canvas.width = 40; canvas.height = 40;
  const g = canvas.getContext("2d", {willReadFrequently: true});
  g.font = `${style.fontWeight} 28px ${style.fontFamily}`;
  const draw = (ch) => {
    g.clearRect(0, 0, 40, 40);
    g.fillText(ch, 4, 32);
    return Array.from(g.getImageData(0, 0, 40, 40).data.filter((_, i) => i % 4 === 3)).join(",");
  };
  const kana_kanji = /[\\u3040-\\u30ff\\u4e00-\\u9fff]/;
  const chars = [...new Set([...cell.textContent].filter((c) => kana_kanji.test(c)))];
  return {text: cell.textContent, chars, images: chars.map(draw)};
}"""


def cjk_glyphs(page: Any, selector: str) -> tuple[str, dict[str, str]]:
    """The element's text and, per distinct kana/kanji in it, how it renders (see above)."""
    found = page.evaluate(_GLYPHS_JS, selector)
    return found["text"], dict(zip(found["chars"], found["images"], strict=True))


def shows_japanese(page: Any, selector: str) -> bool:
    """True when the element's kana and kanji render as real, distinct glyphs (not tofu)."""
    _, images = cjk_glyphs(page, selector)
    blank = ",".join(["0"] * 1600)
    drawn = [image for image in images.values() if image != blank]
    return len(images) >= 2 and len(drawn) == len(images) and len(set(drawn)) == len(drawn)
