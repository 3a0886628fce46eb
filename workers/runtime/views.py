"""The web views: HTTP API, dashboard and ``/metrics`` on the worker's Faust web server.

Read-only by construction: every view defines ``get`` only (other methods answer 405) and reads
in-process counters or table snapshots; nothing here writes a table or sends a record.
Each worker answers for its own counters and table partitions; entity lookups are routed to the
worker owning the key, and the top/trending lists ask the other workers (``scope=local`` stops
the recursion).

Entities are shown one row per entity: count keys are merged through the alias book at read
time (``workers.web.queries.split_moved``; docs/entity-identity.md), so a name learned to be an
alias after some of its mentions were counted still adds to the right row, once. What the
answers hold, and how several workers' answers merge, is computed in ``workers.web.queries``
(plain Python); the views only gather the inputs and route.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

import faust
from faust.exceptions import SameNode
from faust.web import Request, Response, View
from faust.web.exceptions import ServiceUnavailable

from workers import __version__
from workers.count import partition_for
from workers.identity import AliasBook
from workers.runtime import live, webserver
from workers.runtime.tables import Tables
from workers.stats import PipelineStats
from workers.web import dashboard
from workers.web.metrics import CONTENT_TYPE, render_metrics
from workers.web.queries import (
    QueryError,
    cluster_fields,
    entity_detail,
    hourly_series,
    hours_back,
    merge_by_type,
    merge_top,
    merge_trending,
    merge_values,
    missing_own,
    parse_limit,
    split_moved,
    top_and_moved,
    trending_and_moved,
    window_hours,
)
from workers.web.queries import count_in_window as window_count

JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _local_only(request: Request) -> bool:
    return request.query.get("scope") == "local"


def register(
    app: faust.App, tables: Tables, stats: PipelineStats, book: AliasBook | None = None
) -> None:
    webserver.install()  # over-long request lines: 414 and one log line (webserver.py)
    partitions = tables.entity_mentions.partitions or app.conf.topic_partitions
    aliases = book if book is not None else AliasBook()
    root = aliases.root

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

    moved_cache: dict[str, Any] = {"at": None}

    def moved_items() -> dict[str, list[tuple[str, Any]]]:
        """Root -> this worker's count keys that resolve to it (not themselves), rebuilt when
        the snapshot or the book changes."""
        items = entities.items()
        stamp = (entities.generation, aliases.version)
        if moved_cache["at"] != stamp:
            moved_cache["moved"] = split_moved(items, root)[1]
            moved_cache["at"] = stamp
        moved: dict[str, list[tuple[str, Any]]] = moved_cache["moved"]
        return moved

    def own_value(key: str) -> Any:
        """This worker's value of count key ``key`` (None when another worker owns it)."""
        if partition_for(key, partitions) not in local_partitions():
            return None
        return tables.entity_mentions.get(key)

    async def own_values(request: Request, keys: list[str]) -> dict[str, Any]:
        """The values of count keys whose rows no answer held, from whichever worker owns
        each (this one, or another asked with ``scope=local``)."""
        out: dict[str, Any] = {}
        others = live.other_workers(app, tables.entity_mentions)
        for key in keys:
            value = own_value(key)
            if value is None and others:
                path = f"/api/entities/{quote(key, safe='')}?scope=local"
                for _, body, _ in await live.fan_out(app, list(others), path):
                    if body and body.get("own"):
                        value = body["own"]
            out[key] = value
        return out

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
        """Most mentioned entities: ``?type=PERSON&limit=20&window=24h`` (1h, 24h, 7d, all).
        One row per entity; ``aliases``: names whose counts were merged into it."""

        async def get(self, request: Request) -> Response:
            q = request.query
            try:
                limit = parse_limit(q.get("limit"))
                entity_type = q.get("type") or None
                window = q.get("window") or None
                rows, moved = top_and_moved(
                    entities.items(), entity_type=entity_type, limit=limit, window=window,
                    root=root,
                )  # fmt: skip
            except QueryError as exc:
                return self.json({"error": str(exc)}, status=400, headers=JSON_HEADERS)
            local = {
                "entities": rows,
                "moved": moved,
                "by_type": {k: v["total"] for k, v in types.items()},
            }
            answers = await gather(request, local)
            bodies = [a["body"] for a in answers]
            by_type = merge_by_type(bodies)
            if _local_only(request):  # a part for the asking worker's merge: as it is
                best = rows
            elif len(bodies) == 1:
                best = [{k: v for k, v in r.items() if k != "own"} for r in rows]
            else:
                hours = window_hours(window)
                span = hours_back(hours) if hours else None
                values = await own_values(request, missing_own(bodies))
                own_of = {k: window_count(v, span) for k, v in values.items() if v}
                best = merge_top(bodies, own_of, limit)
            body: dict[str, Any] = {
                "type": entity_type,
                "window": window or "all",
                "entities": best,
                "by_type": by_type,
                **cluster_fields(answers, partitions),
            }
            if _local_only(request):
                body["moved"] = moved
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
            rows, moved = trending_and_moved(
                entities.items(), limit=limit, entity_type=entity_type, root=root
            )
            answers = await gather(request, {"entities": rows, "moved": moved})
            bodies = [a["body"] for a in answers]
            if _local_only(request):  # a part for the asking worker's merge: as it is
                merged = rows
            elif len(bodies) == 1:
                merged = [{k: v for k, v in r.items() if k != "own_series"} for r in rows]
            else:
                values = await own_values(request, missing_own(bodies))
                span = hours_back(24)
                own_of = {k: hourly_series(v, span) for k, v in values.items() if v}
                merged = merge_trending(bodies, own_of, limit)
            out = {"type": entity_type, "entities": merged, **cluster_fields(answers, partitions)}
            if _local_only(request):
                out["moved"] = moved
            return self.json(out, headers=JSON_HEADERS)

    @app.page("/api/entities/{key}")
    class Entity(View):
        """One entity: any of its names finds it (``TYPE:name``, or a bare name); its total,
        hourly history and the names it was written as, with their counts. Answered by the
        worker that owns the entity's key, which adds what the others counted under keys
        that resolve to it; ``scope=local``: this worker's part only."""

        async def get(self, request: Request, key: str) -> Response:
            found = resolve(key)
            if request.query.get("scope") == "local":
                members = moved_items().get(found, [])
                return self.json(
                    {"key": found, "own": own_value(found), "moved": members},
                    headers=JSON_HEADERS,
                )  # fmt: skip
            try:
                return await app.router.route_req(
                    tables.entity_mentions.name, found, self.web, request
                )
            except (SameNode, ServiceUnavailable):  # mine, or no assignment yet: answer here
                pass
            parts: list[tuple[str, Any]] = []
            value = own_value(found)
            if value:
                parts.append((found, value))
            parts.extend(moved_items().get(found, []))
            others = live.other_workers(app, tables.entity_mentions)
            if others:
                path = f"/api/entities/{quote(found, safe='')}?scope=local"
                for _, body, _ in await live.fan_out(app, list(others), path):
                    if body:
                        parts.extend((k, v) for k, v in body.get("moved", []) if v)
            merged = merge_values(v for _, v in parts)
            members = [(k, int(v.get("total", 0))) for k, v in parts]
            detail = entity_detail(found, merged, members=members, names=aliases.names_of(found))
            owner = {"served_by": me(), "partition": partition_for(found, partitions)}
            if detail is None:
                body = {"error": "no such entity", "key": found, **owner}
                return self.json(body, status=404, headers=JSON_HEADERS)
            return self.json({**detail, **owner}, headers=JSON_HEADERS)

    def resolve(name: str) -> str:
        """The entity key for a ``TYPE:name`` or a bare name (any type, known names first)."""
        etype, sep, _ = name.partition(":")
        if sep and etype in ("PERSON", "ORGANIZATION", "LOCATION"):
            return root(name)
        for etype in ("LOCATION", "ORGANIZATION", "PERSON"):
            key = f"{etype}:{name}"
            found = root(key)
            if found != key or own_value(key) or moved_items().get(key):
                return found
        return root(f"PERSON:{name}")

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

    @app.page("/api/counts/all")
    class AllCounts(View):
        """Every count this worker's tables hold, for exact comparisons (a fault test, or an
        operator checking a recount; the top list is bounded): {"entities": {key: total},
        "types": {type: total}, "articles": n}, of the partitions this worker owns."""

        async def get(self, request: Request) -> Response:
            return self.json(
                {
                    "entities": {k: v["total"] for k, v in tables.entity_mentions.items() if v},
                    "types": {k: v["total"] for k, v in tables.type_mentions.items() if v},
                    "articles": sum(1 for _ in tables.articles),
                }
            )
