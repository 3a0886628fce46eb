"""The record of ``articles.enriched`` (schemas/enriched-article.schema.json), built from the
cleaned record and the extract stage's entity rows.

Pure functions: the extract batch calls them, tests call them without a broker.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from workers import PIPELINE_VERSION
from workers.extract.entities import EntityRow
from workers.identity import Identity


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
