"""One batch of the extract stage: ``articles.cleaned`` -> ``articles.enriched`` or dead letters.

Plain code the agent calls once per batch (``workers.runtime.agents``). Every record of the batch is
enriched, skipped as an exact re-crawl, or dead-lettered before the call returns, and what it sent
is acknowledged by the broker (its ``Outbox``); no exception escapes. Testable without Kafka
(``workers.stage``).

Re-crawl decisions (``workers.extract.recrawl``) are made as record by record: the batch is cut into
runs in which no article id repeats; a run is decided against the states the batch's earlier
runs left (``known``), tagged in one request to the stage process, and sent. So a second
version of an article in the same batch is decided against what the first one left: the new
state when it went through, the old one when it was dead-lettered. The states are written to
the ``recrawl`` table at the end, once the enriched records they guard are delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from workers.extract.record import enriched_record
from workers.extract.recrawl import recrawl_decision
from workers.identity import Identity
from workers.stage import (
    ActingFor,
    DeadLetters,
    Event,
    Guard,
    Open,
    Outbox,
    Table,
    Topic,
    chunks,
    distinct_runs,
    settle_batch,
)
from workers.stats import PipelineStats

#: Characters of text per request to the stage process at most.
MAX_REQUEST_CHARS = 8 * 1024 * 1024

# (event, cleaned record, article id)
Parsed = tuple[Event, dict[str, Any], Any]
# (event, cleaned record, article id, state to write after sending or None)
Job = tuple[Event, dict[str, Any], Any, dict[str, Any] | None]


@dataclass
class ExtractBatch:
    guard: Guard  # the stage process: workers.runtime.stagejobs.extract_job
    enriched: Topic
    dead: DeadLetters
    stats: PipelineStats
    recrawl: Table  # article id -> re-crawl state (workers.extract.recrawl)
    acting_for: ActingFor  # points a table access at the partition of one record
    identity: Identity | None = None  # entity keys, learning from the stream (workers.identity)

    async def __call__(self, events: Sequence[Event]) -> None:
        self.stats.records_in["extract"] += len(events)
        await settle_batch(
            "extract", self.dead, events, lambda open_, out: self._process(events, open_, out)
        )

    async def _process(self, events: Sequence[Event], open_: Open, out: Outbox) -> None:
        parsed: list[Parsed] = []
        for event in events:
            try:
                cleaned = orjson.loads(event.value)
                article_id = cleaned["id"]
                hash(article_id)  # an unhashable id is this record's error, not the batch's
                parsed.append((event, cleaned, article_id))
            except Exception as exc:
                await self.dead.send("extract", exc, event)
                open_.done(event)
        known: dict[tuple[int, Any], Any] = {}  # (partition, id) -> state after this batch
        states: list[tuple[Event, Any, dict[str, Any]]] = []  # to write once delivered
        for run in distinct_runs(parsed, lambda p: p[2]):
            jobs = await self._decide(run, known, open_)
            for chunk in chunks(jobs, lambda job: len(job[1]["text"]), MAX_REQUEST_CHARS):
                await self._enrich(chunk, known, open_, out, states)
        # The re-crawl state guards the enriched record: written only once that is delivered,
        # so a crash never leaves a state whose record is missing (the replay would be dropped
        # as a re-crawl). A refused record was dead-lettered; its state is not written.
        refused = {id(event) for event in await out.confirm()}
        for event, article_id, state in states:
            if id(event) not in refused:
                with self.acting_for(event):
                    self.recrawl[article_id] = state

    async def _decide(
        self, run: Sequence[Parsed], known: dict[tuple[int, Any], Any], open_: Open
    ) -> list[Job]:
        """The records of ``run`` to enrich (exact re-crawls counted and dropped)."""
        jobs: list[Job] = []
        for event, cleaned, article_id in run:
            msg = event.message
            try:
                where = (msg.partition, article_id)
                if where not in known:
                    with self.acting_for(event):
                        known[where] = self.recrawl.get(article_id)
                enrich, state = recrawl_decision(
                    known[where], cleaned["content_hash"], (msg.partition, msg.offset)
                )
                if enrich and not isinstance(cleaned["text"], str):
                    raise TypeError(f"text is {type(cleaned['text']).__name__}, not a string")
            except Exception as exc:
                await self.dead.send("extract", exc, event)
                open_.done(event)
                continue
            if not enrich:
                self.stats.records_out["extract_skipped"] += 1
                open_.done(event)
                continue
            jobs.append((event, cleaned, article_id, state))
        return jobs

    async def _enrich(
        self,
        jobs: Sequence[Job],
        known: dict[tuple[int, Any], Any],
        open_: Open,
        out: Outbox,
        states: list[tuple[Event, Any, dict[str, Any]]],
    ) -> None:
        results = await self.guard.run_many([(cleaned["text"],) for _, cleaned, _, _ in jobs])
        for (event, cleaned, article_id, state), result in zip(jobs, results, strict=True):
            try:
                if isinstance(result, Exception):
                    raise result
                record = enriched_record(cleaned, result, self.identity)
                await out.send_json(event, self.enriched, record["id"], record)
                if state is not None:
                    states.append((event, article_id, state))
                    known[(event.message.partition, article_id)] = state
            except Exception as exc:
                await self.dead.send("extract", exc, event)
                continue
            finally:
                open_.done(event)
            self.stats.records_out["extract"] += 1
            produced = record["timestamps"].get("produced")
            if produced:
                self.stats.latencies_s.append(record["timestamps"]["enriched"] - produced)
