"""The whole worker, composed in one place:

raw topic(s) --clean--> articles.cleaned --extract--> articles.enriched --count--> tables --> web
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from workers.identity import AliasBook, Identity
from workers.runtime import agents, views
from workers.runtime.app import create_app
from workers.runtime.sinks import DeadLetterSink
from workers.runtime.tables import Tables, alias_writer, declare_tables
from workers.runtime.topics import Topics, declare_topics
from workers.settings import Settings
from workers.stats import PipelineStats


@dataclass(frozen=True)
class Pipeline:
    app: faust.App
    settings: Settings
    topics: Topics
    tables: Tables
    stats: PipelineStats
    identity: Identity


def build_pipeline(settings: Settings | None = None) -> Pipeline:
    settings = settings or Settings.from_env()
    app = create_app(settings)
    topics = declare_topics(app, settings)
    book = AliasBook()  # what the stream taught about names, fed by the aliases table
    tables = declare_tables(app, settings, book)
    stats = PipelineStats()
    dead = DeadLetterSink(topics.deadletter, stats)
    assert tables.aliases is not None
    identity = Identity(book, settings.learn_aliases, alias_writer(tables.aliases))

    agents.register_clean(app, topics, dead, stats, settings)
    agents.register_extract(
        app, topics, dead, stats, tables.recrawl, settings.stage_timeout_s, identity
    )
    agents.register_count(app, topics, tables, dead, stats, settings)
    views.register(app, tables, stats, book)
    return Pipeline(app, settings, topics, tables, stats, identity)
