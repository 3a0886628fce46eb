"""The re-crawl rule for the extract stage: an exact re-crawl (same article id, same content
hash) is not enriched again; new content under the same id is. No Kafka here.

The state per article id is ``{"hash", "source": [partition, offset]}`` of the cleaned record
that last went through. A replay of that very record (after a crash, before its output was
known to be delivered) goes through again: at-least-once, and the count stage is idempotent.
"""

from __future__ import annotations

from typing import Any

Source = tuple[int, int]


def recrawl_decision(
    state: dict[str, Any] | None, content_hash: str, source: Source
) -> tuple[bool, dict[str, Any] | None]:
    """(enrich this record?, new state or None to keep the current one)."""
    new_state = {"hash": content_hash, "source": list(source)}
    if state is None:
        return True, new_state
    seen = state["source"]
    if seen == list(source):
        return True, None  # a replay of the record that made the state: its output may be lost
    if seen[0] == source[0] and seen[1] > source[1]:
        return True, None  # an older record replayed: send again, keep the newer state
    if state["hash"] == content_hash:
        return False, None  # the same page again (a re-crawl, or the clean stage's replay)
    return True, new_state
