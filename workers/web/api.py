"""HTTP API, dashboard and ``/metrics`` on the worker's Faust web server.

Read-only by construction: every view defines ``get`` only (other methods answer 405) and reads
in-process counters or table snapshots; nothing here writes a table or sends a record.
Each worker answers for its own counters and table partitions; entity lookups are routed to the
worker owning the key, and the top/trending lists ask the other workers (``scope=local`` stops
the recursion).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import faust
from faust.web import Request, Response, View

from workers import __version__
from workers.count import partition_for
from workers.count.tables import Tables
from workers.stats import PipelineStats
from workers.web import dashboard, live, server
from workers.web.metrics import CONTENT_TYPE, render_metrics
from workers.web.queries import (
    QueryError,
    entity_detail,
    parse_limit,
    top_entities,
    trending,
)

JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _local_only(request: Request) -> bool:
    return request.query.get("scope") == "local"


def register(app: faust.App, tables: Tables, stats: PipelineStats) -> None:
    server.install()  # over-long request lines: 414 and one log line (workers/web/server.py)
    partitions = tables.entity_mentions.partitions or app.conf.topic_partitions

    def local_partitions() -> list[int]:
        return live.active_partitions(app, tables.entity_mentions)

    entities = live.TableSnapshot(tables.entity_mentions, local_partitions, partitions)
    types = live.TableSnapshot(tables.type_mentions, local_partitions, partitions)
    articles = live.TableSize(tables.articles, ttl=5.0)
    page = dashboard.load()

    @app.timer(1.0, name="newsflow.web.sample")
    async def sample_counters() -> None:
        """Counter snapshots once a second: the throughput figures come from their differences."""
        stats.sample()

    def me() -> str:
        return str(app.conf.canonical_url).rstrip("/")

    async def table_sizes() -> dict[str, int]:
        return {
            "entity-mentions": await entities.asize(),
            "type-mentions": await types.asize(),
            "articles": await articles.asize(),
        }

    async def gather(request: Request, local_body: dict[str, Any]) -> list[dict[str, Any]]:
        """This worker's answer plus those of the other workers, each tagged with its URL."""
        answers = [{"url": me(), "partitions": local_partitions(), "ok": True, "body": local_body}]
        if _local_only(request):
            return answers
        others = live.other_workers(app, tables.entity_mentions)
        if not others:
            return answers
        query = urlencode({**dict(request.query), "scope": "local"})
        path = f"{request.url.path}?{query}"
        for url, body, error in await live.fan_out(app, list(others), path):
            answers.append(
                {"url": url, "partitions": others[url], "ok": body is not None, "error": error,
                 "body": body or {}}
            )  # fmt: skip
        return answers

    def cluster_fields(answers: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "partitions": sorted({p for a in answers if a["ok"] for p in a["partitions"]}),
            "partitions_total": partitions,
            "complete": all(a["ok"] for a in answers),
            "workers": [
                {k: a[k] for k in ("url", "partitions", "ok", "error") if k in a} for a in answers
            ],
        }

    @app.page("/")
    class Dashboard(View):
        """The dashboard: one static page that polls the JSON API (see dashboard.html)."""

        async def get(self, request: Request) -> Response:
            return self.html(page.html, headers=page.headers)

    @app.page("/api/stats")
    class Stats(View):
        """Counters, rates, latency, lag and table sizes of this worker."""

        async def get(self, request: Request) -> Response:
            lag = live.consumer_lag(app)
            body = {
                "version": __version__,
                "worker": me(),
                "generated_at": time.time(),
                **stats.snapshot(),
                "lag": lag,
                "lag_total": sum(r["lag"] or 0 for r in lag),
                "partitions": local_partitions(),
                "partitions_total": partitions,
                "tables": await table_sizes(),
            }
            return self.json(body, headers=JSON_HEADERS)

    @app.page("/api/entities/top")
    class TopEntities(View):
        """Most mentioned entities: ``?type=PERSON&limit=20&window=24h`` (1h, 24h, 7d, all)."""

        async def get(self, request: Request) -> Response:
            q = request.query
            try:
                limit = parse_limit(q.get("limit"))
                entity_type = q.get("type") or None
                rows = top_entities(
                    entities.items(), entity_type=entity_type, limit=limit,
                    window=q.get("window") or None,
                )  # fmt: skip
            except QueryError as exc:
                return self.json({"error": str(exc)}, status=400, headers=JSON_HEADERS)
            local = {"entities": rows, "by_type": {k: v["total"] for k, v in types.items()}}
            answers = await gather(request, local)
            merged: dict[str, dict[str, Any]] = {}
            by_type: dict[str, int] = {}
            for answer in answers:
                for row in answer["body"].get("entities", []):
                    if row["key"] not in merged or row["count"] > merged[row["key"]]["count"]:
                        merged[row["key"]] = row
                for etype, total in answer["body"].get("by_type", {}).items():
                    by_type[etype] = by_type.get(etype, 0) + int(total)
            best = sorted(merged.values(), key=lambda r: (-r["count"], r["key"]))[:limit]
            body: dict[str, Any] = {
                "type": entity_type,
                "window": q.get("window") or "all",
                "entities": best,
                "by_type": by_type,
                **cluster_fields(answers),
            }
            return self.json(body, headers=JSON_HEADERS)

    @app.page("/api/entities/trending")
    class Trending(View):
        """Entities rising most this hour against the previous one, with 24 hourly points."""

        async def get(self, request: Request) -> Response:
            q = request.query
            try:
                limit = parse_limit(q.get("limit"), default=10, maximum=100)
                entity_type = q.get("type") or None
            except QueryError as exc:
                return self.json({"error": str(exc)}, status=400, headers=JSON_HEADERS)
            rows = trending(entities.items(), limit=limit, entity_type=entity_type)
            answers = await gather(request, {"entities": rows})
            merged = [r for a in answers for r in a["body"].get("entities", [])]
            merged.sort(key=lambda r: (-r["growth"], -r["current"], r["key"]))
            body = {"type": entity_type, "entities": merged[:limit], **cluster_fields(answers)}
            return self.json(body, headers=JSON_HEADERS)

    @app.page("/api/entities/{key}")
    class Entity(View):
        """One entity's total and hourly history, answered by the worker that owns the key."""

        @app.table_route(table=tables.entity_mentions, match_info="key")  # type: ignore[arg-type]
        async def get(self, request: Request, key: str) -> Response:
            detail = entity_detail(key, tables.entity_mentions.get(key))
            owner = {"served_by": me(), "partition": partition_for(key, partitions)}
            if detail is None:
                body = {"error": "no such entity", "key": key, **owner}
                return self.json(body, status=404, headers=JSON_HEADERS)
            return self.json({**detail, **owner}, headers=JSON_HEADERS)

    @app.page("/api/deadletters/recent")
    class RecentDeadLetters(View):
        """The last dead letters this worker sent (newest first) and its counts by class."""

        async def get(self, request: Request) -> Response:
            try:
                limit = parse_limit(request.query.get("limit"), default=20, maximum=100)
            except QueryError as exc:
                return self.json({"error": str(exc)}, status=400, headers=JSON_HEADERS)
            body = {
                "total": sum(stats.deadletters.values()),
                "by_class": dict(stats.deadletters),
                "recent": list(stats.recent_deadletters)[:limit],
            }
            return self.json(body, headers=JSON_HEADERS)

    @app.page("/metrics")
    class Metrics(View):
        """Prometheus text format: counters, dead letters, lag, latency histogram, table sizes."""

        async def get(self, request: Request) -> Response:
            text = render_metrics(
                stats,
                version=__version__,
                now=time.time(),
                lag=live.consumer_lag(app),
                table_sizes=await table_sizes(),
            )
            headers = {**JSON_HEADERS, "Content-Type": CONTENT_TYPE}
            return self.bytes(text.encode(), headers=headers)
