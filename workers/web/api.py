"""HTTP API on the worker's Faust web server (read-only: GET only)."""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from workers import __version__
from workers.count.tables import Tables
from workers.stats import PipelineStats
from workers.web.queries import QueryError, parse_limit, top_entities


def register(app: faust.App, tables: Tables, stats: PipelineStats) -> None:
    @app.page("/api/entities/top")
    class TopEntities(View):
        """Most mentioned entities: ``?type=PERSON&limit=20&window=24h`` (1h, 24h, 7d, all)."""

        async def get(self, request: Request) -> Response:
            q = request.query
            try:
                rows = top_entities(
                    tables.entity_mentions.items(),
                    entity_type=q.get("type") or None,
                    limit=parse_limit(q.get("limit")),
                    window=q.get("window") or None,
                )
            except QueryError as exc:
                return self.json({"error": str(exc)}, status=400)
            body: dict[str, Any] = {
                "type": q.get("type") or None,
                "window": q.get("window") or "all",
                "entities": rows,
                "by_type": {k: v["total"] for k, v in tables.type_mentions.items() if v},
            }
            return self.json(body)

    @app.page("/api/stats")
    class Stats(View):
        """Counters of this worker."""

        async def get(self, request: Request) -> Response:
            return self.json({"version": __version__, **stats.snapshot()})
