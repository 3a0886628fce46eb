"""Where records leave a stage: the next topic, or the dead-letter topic."""

from __future__ import annotations

import logging
from typing import Any

import faust
import orjson

from workers.contracts import RecordError
from workers.deadletter import dead_letter
from workers.stats import PipelineStats

log = logging.getLogger("newsflow.deadletter")


class DeadLetterSink:
    """Sends a dead letter, counts it, and logs it once (never raises into the agent)."""

    def __init__(self, topic: faust.TopicT, stats: PipelineStats) -> None:
        self.topic = topic
        self.stats = stats

    async def send(self, stage: str, exc: BaseException, event: faust.EventT) -> None:
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
        self.stats.record_deadletter(letter)
        log.warning(
            "dead letter: stage=%s class=%s %s[%d]@%d: %s",
            stage,
            letter["error_class"],
            msg.topic,
            msg.partition,
            msg.offset,
            letter["reason"][:300],
        )
        try:
            await self.topic.send(key=msg.key, value=orjson.dumps(letter))
        except Exception:  # a failing dead-letter send must not kill the stream
            log.exception(
                "could not send dead letter for %s[%d]@%d", msg.topic, msg.partition, msg.offset
            )


#: Records above this are refused by a broker with default limits (message.max.bytes ~1 MB);
#: Kafka would fail the send after the agent moved on, so the record is dead-lettered instead.
MAX_OUTPUT_BYTES = 1_000_000


async def send_json(topic: faust.TopicT, key: str, value: dict[str, Any]) -> None:
    payload = orjson.dumps(value)
    if len(payload) > MAX_OUTPUT_BYTES:
        raise RecordError(
            "output_too_large", f"output record is {len(payload)} bytes (> {MAX_OUTPUT_BYTES})"
        )
    await topic.send(key=key.encode("utf-8", "surrogatepass"), value=payload)
