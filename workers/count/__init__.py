"""Count stage: entity mention counts, exact under replays and re-crawls. No Kafka here.

Two steps, because a count must live on the partition of its entity:
1. ``plan_article``: per article (partition of the article id) compare the new version with the
   one already counted and emit signed changes (a re-crawl moves counts from old to new).
2. ``apply_items``: per entity key (partition of the key) add the changes, unless their source
   record was already applied: each value keeps the last applied offset per source partition,
   written in the same table update, so replays after a crash never count twice.

``mentions`` holds both steps as pure functions; ``batch.CountBatch`` runs them over one batch
of records, with the tables and topics the runtime (``workers.runtime``) or a test gives it.
"""

from workers.count.mentions import (
    Change,
    Source,
    apply_items,
    group_by_key,
    hour_bucket,
    partition_for,
    plan_article,
    split_by_partition,
)

__all__ = [
    "Change",
    "Source",
    "apply_items",
    "group_by_key",
    "hour_bucket",
    "partition_for",
    "plan_article",
    "split_by_partition",
]
