"""One batch of the clean stage: raw records -> ``articles.cleaned`` or dead letters.

Plain code the agent calls once per batch (``workers.runtime.agents``), testable without Kafka
(``workers.stage``). Every record of the batch ends in the cleaned topic or the dead-letter topic
before the call returns (the batch is marked done after that, ``workers.runtime.streams``); no
exception escapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workers.clean import CleanedPage
from workers.clean.record import cleaned_record
from workers.contracts import decode_raw
from workers.stage import DeadLetters, Event, Guard, Open, Outbox, Topic, chunks, settle_batch
from workers.stats import PipelineStats

#: Bytes of page bodies per request to the stage process at most (a batch of big pages is
#: sent in several requests, so one request never holds 64 × 4 MB).
MAX_REQUEST_BYTES = 8 * 1024 * 1024


@dataclass
class CleanBatch:
    guard: Guard  # the stage process: workers.runtime.stagejobs.clean_job
    cleaned: Topic
    dead: DeadLetters
    stats: PipelineStats
    max_body_bytes: int

    async def __call__(self, events: Sequence[Event]) -> None:
        self.stats.records_in["clean"] += len(events)
        await settle_batch(
            "clean", self.dead, events, lambda open_, out: self._process(events, open_, out)
        )

    async def _process(self, events: Sequence[Event], open_: Open, out: Outbox) -> None:
        valid: list[tuple[Event, dict[str, Any]]] = []
        for event in events:
            try:
                valid.append((event, decode_raw(event.value, self.max_body_bytes)))
            except Exception as exc:
                await self.dead.send("validate", exc, event)
                open_.done(event)
        for chunk in chunks(valid, lambda item: len(item[1]["body"]), MAX_REQUEST_BYTES):
            jobs = [(raw["body"], raw.get("content_type")) for _, raw in chunk]
            results = await self.guard.run_many(jobs)
            for (event, raw), result in zip(chunk, results, strict=True):
                try:
                    if isinstance(result, Exception):
                        raise result
                    page = CleanedPage(*result)
                    record = cleaned_record(raw, page, event.message.timestamp)
                    await out.send_json(event, self.cleaned, record["id"], record)
                except Exception as exc:
                    await self.dead.send("clean", exc, event)
                    continue
                finally:
                    open_.done(event)
                self.stats.records_out["clean"] += 1
                self.stats.record_truncated(record["truncated"])
