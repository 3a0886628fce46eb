"""Building the records each topic carries (schemas/*.schema.json) from the stage results.

Pure functions: the agents call them, tests call them without a broker.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from workers import PIPELINE_VERSION
from workers.clean import CleanedPage
from workers.contracts import content_hash
from workers.extract import EntityRow
from workers.identity import Identity

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


def mention_counts(entities: list[dict[str, Any]]) -> dict[str, int]:
    """Mentions per entity ``key`` in one article."""
    return dict(Counter(e["key"] for e in entities))


def enriched_record(
    cleaned: dict[str, Any], rows: list[EntityRow], identity: Identity | None = None
) -> dict[str, Any]:
    """Cleaned record + entities (as the extract stage process sends them, ``EntityRow``
    tuples) -> record for ``articles.enriched``. ``identity`` gives each entity its ``key`` and
    ``canonical`` name and learns from the article (the worker's, fed by the ``aliases``
    table); without one, only the known-name tables and the article itself decide."""
    entities, _ = (identity or Identity()).entities(cleaned.get("text") or "", rows)
    record = dict(cleaned)
    record["entities"] = entities
    record["mentions"] = mention_counts(entities)
    record["timestamps"] = {**cleaned.get("timestamps", {}), "enriched": time.time()}
    record["pipeline_version"] = PIPELINE_VERSION
    return record
