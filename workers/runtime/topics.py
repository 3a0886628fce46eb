"""The topics a worker reads and writes. Values travel as raw bytes: the agents decode them
themselves, so a record that fails to decode becomes a dead letter instead of a logged drop."""

from __future__ import annotations

import re
from dataclasses import dataclass

import faust

from workers.settings import Settings


@dataclass(frozen=True)
class Topics:
    raw: faust.TopicT
    cleaned: faust.TopicT
    enriched: faust.TopicT
    deadletter: faust.TopicT
    mentions: faust.TopicT


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    def topic(name: str, **kwargs: object) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw", **kwargs)  # type: ignore[arg-type]

    if settings.raw_topic_pattern:
        raw = app.topic(
            pattern=re.compile(settings.raw_topic_pattern),
            key_serializer="raw",
            value_serializer="raw",
        )
    else:
        raw = app.topic(*settings.raw_topics, key_serializer="raw", value_serializer="raw")
    return Topics(
        raw=raw,
        cleaned=topic(settings.cleaned_topic, partitions=settings.partitions),
        enriched=topic(settings.enriched_topic, partitions=settings.partitions),
        deadletter=topic(settings.deadletter_topic, partitions=1),
        mentions=topic(settings.mentions_topic, partitions=settings.partitions, internal=True),
    )
