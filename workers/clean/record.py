"""The record of ``articles.cleaned`` (schemas/cleaned-article.schema.json), built from the raw
record and what the cleaner found.

A pure function: the clean batch calls it, tests call it without a broker.
"""

from __future__ import annotations

import time
from typing import Any

from workers import PIPELINE_VERSION
from workers.clean.page import CleanedPage
from workers.contracts import content_hash

_PASSED_THROUGH = ("id", "url", "source", "fetched_at", "lang")


def cleaned_record(
    raw: dict[str, Any], page: CleanedPage, produced_at: float | None
) -> dict[str, Any]:
    """Raw article + what the cleaner found -> record for ``articles.cleaned``.

    A title or date the crawler sent wins over the one found in the page. ``truncated`` says
    what the cleaner's size bounds cut (null: nothing); the enriched record carries it on.
    """
    record = {k: raw.get(k) for k in _PASSED_THROUGH}
    record.update(
        title=raw.get("title") or page.title,
        published_at=raw.get("published_at") or page.published_at,
        text=page.text,
        truncated=page.truncated,
        content_hash=content_hash(raw["body"]),
        timestamps={"produced": produced_at, "cleaned": time.time()},
        pipeline_version=PIPELINE_VERSION,
    )
    return record
