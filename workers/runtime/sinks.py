"""Where records leave a stage: the next topic, or the dead-letter topic, acknowledged.

A dead letter is a record a stage cannot process, sent to the dead-letter topic with why
(``dead_letter``: stage, reason, error class, where it came from) and its original bytes (UTF-8
text when they decode, base64 otherwise), so an operator can fix and re-produce it; nothing is
dropped silently.

A stage marks an input record done (and so lets its offset be committed, ``offsets``) only
when what it produced is acknowledged by the broker. The records of a batch are sent together
and confirmed together (``Outbox``): one broker round trip per batch, not per record. A send the
broker refuses for the record itself (too large, invalid) sends the input to the dead-letter
topic instead; a send that fails for the broker's sake (timeouts, no leader, the broker away) is
sent again with back-off and jitter until it is acknowledged, and the stage takes no new records
meanwhile. Dead letters are confirmed the same way before the stage goes on: a dead
letter that cannot be written stops the stage, it is never skipped.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka.errors import KafkaTimeoutError

from workers import PIPELINE_VERSION
from workers.contracts import RecordError
from workers.stage import Event, Topic
from workers.stats import PipelineStats

log = logging.getLogger("newsflow.sinks")

#: Records above this are refused by a broker with default limits (message.max.bytes ~1 MB);
#: they are dead-lettered before they are sent.
MAX_OUTPUT_BYTES = 1_000_000

# Keep dead letters under the broker's default message size limit (~1 MB) even as base64.
MAX_ORIGINAL_BYTES = 512 * 1024


def encode_original(value: bytes | str | None) -> tuple[str | None, str, bool]:
    """(original, encoding, truncated) for the dead-letter record."""
    if value is None:
        return None, "none", False
    raw = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    truncated = len(raw) > MAX_ORIGINAL_BYTES
    raw = raw[:MAX_ORIGINAL_BYTES]
    try:
        return raw.decode("utf-8"), "utf-8", truncated
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64", truncated


def classify(exc: BaseException) -> tuple[str, str]:
    """(error_class, reason) for any exception a stage raised."""
    if isinstance(exc, RecordError):
        return exc.error_class, exc.reason
    if isinstance(exc, TimeoutError):
        return "timeout", f"stage took too long: {exc}"
    return "stage_error", f"{type(exc).__name__}: {exc}"[:2000]


def dead_letter(
    stage: str,
    exc: BaseException,
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | str | None,
    value: bytes | str | None,
) -> dict[str, Any]:
    """The dead-letter record (schema: schemas/deadletter.schema.json)."""
    error_class, reason = classify(exc)
    original, encoding, truncated = encode_original(value)
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    return {
        "stage": stage,
        "reason": reason,
        "error_class": error_class,
        "exception": type(exc).__name__,
        "source": {"topic": topic, "partition": partition, "offset": offset, "key": key},
        "original": original,
        "original_encoding": encoding,
        "original_truncated": truncated,
        "time": time.time(),
        "pipeline_version": PIPELINE_VERSION,
    }


class Backoff:
    """Exponential back-off with full jitter (the AWS architecture blog's "full jitter"):
    waits a random time up to ``first_s * 2**n``, at most ``max_s``."""

    def __init__(self, first_s: float = 0.1, max_s: float = 5.0) -> None:
        self.first_s = first_s
        self.max_s = max_s
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self.max_s, self.first_s * (2**self.attempts))
        self.attempts += 1
        return random.uniform(0, ceiling)

    async def sleep(self) -> None:
        await asyncio.sleep(self.next_delay())


def is_retriable(exc: BaseException) -> bool:
    """True when a failed send may succeed later as it is (the broker's trouble, not the
    record's): aiokafka's retriable errors and timeouts, also when Faust wrapped them."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimeoutError | ConnectionError):
            return True
        if getattr(seen, "retriable", False):
            return True
        if isinstance(seen, KafkaTimeoutError):  # not marked retriable by aiokafka, but is
            return True
        seen = seen.__cause__
    return False


class _Trouble:
    """Logs a run of failed sends in a bounded way: the first failure, then one summary line
    every ``every_s`` seconds while it lasts, and one line when a send goes through again."""

    def __init__(self, what: str, every_s: float = 30.0) -> None:
        self.what = what
        self.every_s = every_s
        self.failures = 0
        self.since = 0.0
        self.logged_at = 0.0

    def failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self.failures == 0:
            self.since = self.logged_at = now
            log.warning("%s failed, retrying with back-off: %r", self.what, exc)
        elif now - self.logged_at >= self.every_s:
            self.logged_at = now
            log.warning(
                "%s still failing after %.0f s (%d attempts): %r",
                self.what, now - self.since, self.failures + 1, exc,
            )  # fmt: skip
        self.failures += 1

    def recovered(self) -> None:
        if self.failures:
            log.warning(
                "%s delivered again after %.0f s (%d failed attempts)",
                self.what, time.monotonic() - self.since, self.failures,
            )  # fmt: skip
        self.failures = 0


async def deliver(
    send: Callable[[], Awaitable[Awaitable[Any]]], what: str, first: Awaitable[Any] | None = None
) -> Any:
    """The broker's acknowledgement of a record: await ``first`` (a delivery future of an
    earlier send) or ``send()``'s; retriable failures are sent again with back-off, for as
    long as it takes. A failure that is the record's own (``is_retriable`` False) is raised."""
    backoff = Backoff()
    trouble = _Trouble(what)
    pending = first
    while True:
        try:
            if pending is None:
                pending = await send()
            result = await pending
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not is_retriable(exc):
                raise
            trouble.failed(exc)
            pending = None
            await backoff.sleep()
            continue
        trouble.recovered()
        return result


async def send_all(topic: Topic, records: Sequence[tuple[int, bytes]], what: str) -> None:
    """Send ``records`` (partition, value; no key) to ``topic``, and return once the broker has
    acknowledged every one (retriable failures are sent again, ``deliver``). A record the
    broker refuses raises.

    Records of one partition land in the order given, even when one is sent again: they go in
    rounds of at most one record per partition, each round confirmed before the next (the
    count stage's table values keep the last applied offset per source partition, so a change
    that landed after a later one would be taken for a replay). Partitions go together, so a
    batch with one record per partition is one round trip."""
    rounds: list[list[tuple[int, bytes]]] = []
    seen: dict[int, int] = {}
    for partition, value in records:
        n = seen.get(partition, 0)
        seen[partition] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append((partition, value))
    for round_ in rounds:
        sent = []
        for partition, value in round_:
            send = functools.partial(topic.send, partition=partition, value=value)
            sent.append((send, await send()))
        for send, delivery in sent:
            await deliver(send, what, first=delivery)


@dataclass
class _Sent:
    event: Event
    topic: Topic
    key: bytes | None
    value: bytes
    partition: int | None
    delivery: Awaitable[Any]


class Outbox:
    """The records a batch sent on, confirmed together (``confirm``) before the batch's input
    is marked done."""

    def __init__(self, dead: DeadLetterSink, stage: str) -> None:
        self.dead = dead
        self.stage = stage
        self._sent: list[_Sent] = []

    async def send(
        self,
        event: Event,
        topic: Topic,
        key: bytes | None,
        value: bytes,
        partition: int | None = None,
    ) -> None:
        """Send a record produced from ``event`` (not yet confirmed)."""
        try:
            delivery = await topic.send(key=key, value=value, partition=partition)
        except Exception as exc:
            if not is_retriable(exc):
                raise
            delivery = _failed(exc)
        self._sent.append(_Sent(event, topic, key, value, partition, delivery))

    async def send_json(self, event: Event, topic: Topic, key: str, value: Any) -> None:
        """``value`` as JSON, keyed by ``key``; one over MAX_OUTPUT_BYTES is this record's error
        (``output_too_large``, raised before anything is sent)."""
        payload = orjson.dumps(value)
        if len(payload) > MAX_OUTPUT_BYTES:
            raise RecordError(
                "output_too_large", f"output record is {len(payload)} bytes (> {MAX_OUTPUT_BYTES})"
            )
        await self.send(event, topic, key.encode("utf-8", "surrogatepass"), payload)

    async def confirm(self) -> list[Event]:
        """Wait until every record sent is acknowledged; retriable failures are sent again.
        The input of a record the broker refused goes to the dead-letter topic. Returns the
        events whose records were refused (and dead-lettered)."""
        sent, self._sent = self._sent, []
        if not sent:
            return []
        outcomes = await asyncio.gather(*(s.delivery for s in sent), return_exceptions=True)
        if not any(isinstance(outcome, BaseException) for outcome in outcomes):
            return []  # the usual case: every record acknowledged
        refused: list[Event] = []
        # Records of one key (or one chosen partition) after a failed one are sent again after
        # it, so the last copy of each stays the last record of its key: a downstream reader
        # takes the last version of an article as the current one.
        behind_a_failure: set[tuple[str, Any]] = set()
        for item, outcome in zip(sent, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            failed = isinstance(outcome, BaseException)
            group = (item.topic.get_topic_name(),
                     item.key if item.partition is None else item.partition)  # fmt: skip
            if failed:
                behind_a_failure.add(group)
            elif group not in behind_a_failure:
                continue

            def resend(item: _Sent = item) -> Awaitable[Awaitable[Any]]:
                return item.topic.send(key=item.key, value=item.value, partition=item.partition)

            try:
                await deliver(resend, f"{self.stage}: send to {item.topic.get_topic_name()}",
                              first=_failed(outcome) if failed else None)  # fmt: skip
            except Exception as exc:  # refused for the record's own sake
                if any(e is item.event for e in refused):
                    continue
                refused.append(item.event)
                await self.dead.send(
                    self.stage, RecordError("output_refused", f"{type(exc).__name__}: {exc}"),
                    item.event,
                )  # fmt: skip
        return refused


def _failed(exc: BaseException) -> asyncio.Future[Any]:
    fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    fut.set_exception(exc)
    return fut


class DeadLetterSink:
    """Sends a dead letter, counts it, logs it once, and returns when the broker has
    acknowledged it (retrying for as long as it takes: a stage whose dead letters cannot be
    written takes no more records)."""

    def __init__(self, topic: Topic, stats: PipelineStats) -> None:
        self.topic = topic
        self.stats = stats

    def outbox(self, stage: str) -> Outbox:
        """An ``Outbox`` for one batch of ``stage``, dead-lettering here what the broker refuses."""
        return Outbox(self, stage)

    async def send(self, stage: str, exc: BaseException, event: Event) -> None:
        msg = event.message
        letter = dead_letter(
            stage,
            exc,
            topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key,
            value=event.value,
        )
        log.warning(
            "dead letter: stage=%s class=%s %s[%d]@%d: %s",
            stage,
            letter["error_class"],
            msg.topic,
            msg.partition,
            msg.offset,
            letter["reason"][:300],
        )
        where = f"dead letter for {msg.topic}[{msg.partition}]@{msg.offset}"
        payload = orjson.dumps(letter)
        try:
            await deliver(lambda: self.topic.send(key=msg.key, value=payload), where)
        except Exception as refused:  # the broker refuses the letter itself: send it without
            log.error("%s refused (%r); sending it without the original", where, refused)
            letter.update(original=None, original_encoding="none", original_truncated=True)
            payload = orjson.dumps(letter)
            backoff = Backoff(max_s=30.0)
            while True:
                try:
                    await deliver(lambda: self.topic.send(key=msg.key, value=payload), where)
                    break
                except Exception as again:  # never skipped: the stage waits, and says so
                    log.error("%s refused again (%r); retrying", where, again)
                    await backoff.sleep()
        self.stats.record_deadletter(letter)
