"""A one-agent Faust app whose consumer loses part of one fetch, the way Faust's own
``getmany`` drops records it has fetched when a rebalance interrupts it.

    python tests/helpers/jump_app.py BOOTSTRAP TOPIC OUT_FILE {newsflow,stock} LOSE_FROM LOSE_TO

The agent appends "partition offset" per record to OUT_FILE. Offsets LOSE_FROM..LOSE_TO-1 of
partition 0 are dropped once each after they were fetched. Each aiokafka seek writes the thread
it ran on ("main" or "consumer") to OUT_FILE.seeks. With ``stock`` the consumer is
Faust's own; with ``newsflow`` it is ``workers.runtime.consumer.LedgerConsumer``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiokafka
import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from workers.runtime.consumer import LedgerConsumer

BOOTSTRAP, TOPIC, OUT, KIND = sys.argv[1:5]
_aiokafka_seek = aiokafka.AIOKafkaConsumer.seek


def seek_noting_thread(self: aiokafka.AIOKafkaConsumer, partition: Any, offset: int) -> None:
    """aiokafka's seek, noting in OUT_FILE.seeks whether it ran on the main thread (the
    consumer's fetcher runs on its own thread; a seek from another one races it)."""
    on_main = threading.current_thread() is threading.main_thread()
    with open(OUT + ".seeks", "a") as out:
        out.write("main\n" if on_main else "consumer\n")
    _aiokafka_seek(self, partition, offset)


aiokafka.AIOKafkaConsumer.seek = seek_noting_thread
LOSE_FROM, LOSE_TO = int(sys.argv[5]), int(sys.argv[6])
BASE: Any = LedgerConsumer if KIND == "newsflow" else faust_aiokafka.Consumer


class LosingConsumer(BASE):
    """Drops each offset of the lost range once, after the fetch position moved past it."""

    _lost: ClassVar[set[int]] = set()

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Any]]:
        async for tp, message in super().getmany(timeout):
            if (
                tp.partition == 0
                and LOSE_FROM <= message.offset < LOSE_TO
                and message.offset not in self._lost
            ):
                self._lost.add(message.offset)
                continue
            yield tp, message


class LosingTransport(faust_aiokafka.Transport):
    Consumer = LosingConsumer


class App(faust.App):
    def _new_transport(self) -> Any:
        return LosingTransport(self.conf.broker_consumer, self)


app = App(
    f"jump-{TOPIC}",
    broker=f"kafka://{BOOTSTRAP}",
    store="memory://",
    web_enabled=False,
    broker_commit_every=10,
    broker_commit_interval=0.5,
    consumer_auto_offset_reset="earliest",
    topic_partitions=1,
)
topic = app.topic(TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)


@app.agent(topic)
async def record_offsets(stream: faust.StreamT[bytes]) -> None:
    with open(OUT, "a") as out:
        async for event in stream.events():
            out.write(f"{event.message.partition} {event.message.offset}\n")
            out.flush()


if __name__ == "__main__":
    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()
