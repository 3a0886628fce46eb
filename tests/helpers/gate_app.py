"""A one-agent app on newsflow's runtime whose table writes the broker refuses.

    python tests/helpers/gate_app.py BOOTSTRAP TOPIC DATA_DIR

The agent takes batches (``workers.runtime.streams.take_ready``) and writes a 1 kB table value per
record. The test creates the table's changelog topic with ``max.message.bytes`` far below that,
so every changelog record fails: the worker must not commit the input past those records
(their state never reached the changelog) and must stop instead.
"""

from __future__ import annotations

import sys

import faust

from workers.runtime.app import NewsflowApp
from workers.runtime.streams import acting_for, take_ready

BOOTSTRAP, TOPIC, DATA_DIR = sys.argv[1:4]

app = NewsflowApp(
    f"gate-{TOPIC}",
    broker=f"kafka://{BOOTSTRAP}",
    store="memory://",
    datadir=DATA_DIR,
    web_enabled=False,
    broker_commit_interval=0.5,
    consumer_auto_offset_reset="earliest",
    topic_partitions=1,
)
topic = app.topic(TOPIC, key_serializer="raw", value_serializer="raw", partitions=1)
table = app.Table("state", default=None, partitions=1)


@app.agent(topic)
async def remember(stream: faust.StreamT[bytes]) -> None:
    async for events in take_ready(stream, 16, 0.01):
        for event in events:
            with acting_for(event):
                table[event.message.offset] = "x" * 1000


if __name__ == "__main__":
    faust.Worker(app, loglevel="warning", quiet=True).execute_from_commandline()
