"""``GET /api/counts/all``: every count this worker's tables hold, for exact comparisons.

The top-entities API answers with a bounded list; a fault test (or an operator checking a
recount) needs every key. Read-only, and only the partitions this worker owns.
"""

from __future__ import annotations

import faust
from faust.web import Request, Response, View

from workers.runtime.tables import Tables


def register(app: faust.App, tables: Tables) -> None:
    @app.page("/api/counts/all")
    class AllCounts(View):
        """{"entities": {key: total}, "types": {type: total}, "articles": n} (local partitions)."""

        async def get(self, request: Request) -> Response:
            return self.json(
                {
                    "entities": {k: v["total"] for k, v in tables.entity_mentions.items() if v},
                    "types": {k: v["total"] for k, v in tables.type_mentions.items() if v},
                    "articles": sum(1 for _ in tables.articles),
                }
            )
