"""The dashboard page (``dashboard.html`` beside this module) and its security headers.

The page is one static file with an inline script; the Content-Security-Policy allows exactly
that script and style (by hash) and nothing else, so even markup that slipped into the page
could not run. The page itself inserts data with ``textContent`` only.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from importlib import resources

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


@dataclass(frozen=True)
class DashboardPage:
    html: str
    headers: dict[str, str]


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp_for(html: str) -> str:
    """A CSP that allows the page's own inline script and style blocks and nothing else."""
    scripts = [_sha256(body) for tag, body in _INLINE.findall(html) if tag == "script"]
    styles = [_sha256(body) for tag, body in _INLINE.findall(html) if tag == "style"]
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(scripts or ["'none'"]),
            "style-src " + " ".join(styles or ["'none'"]),
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def load() -> DashboardPage:
    html = resources.files("workers.web").joinpath("dashboard.html").read_text("utf-8")
    headers = {
        "Content-Security-Policy": csp_for(html),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }
    return DashboardPage(html, headers)
