"""The records a schedule produces, in produce order, deterministic from its seed: generated
Japanese news pages, re-crawls of some of them, the bad-input matrix and slow pages.

Every record that decodes is keyed by its article id, as the README asks of crawlers (the
versions of an article stay in one raw partition, in order); the others by their kind's name.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tests.chaos.schedule import Schedule
from tests.helpers.bad_inputs import by_name
from tests.helpers.kafka import encode
from workers.bench.corpus import generate_pages
from workers.contracts import RecordError, content_hash, decode_raw


@dataclass(frozen=True)
class Planned:
    """One record to produce. ``kind``: page, recrawl-same, recrawl-new, recrawl-back,
    bad:<name> or slow:<name>."""

    key: bytes | None
    value: bytes | None
    kind: str

    @property
    def good(self) -> bool:
        return self.kind == "page" or self.kind.startswith("recrawl-")


def version_of(value: bytes | None) -> tuple[str, str] | None:
    """(article id, content hash) of a raw value, None when it does not decode (the worker's
    own decoder, without its size bound: the checker decides nothing by size)."""
    try:
        raw = decode_raw(value, 1 << 62)
    except RecordError:
        return None
    return raw["id"], content_hash(raw["body"])


def planned(value: Any, kind: str, name: str = "") -> Planned:
    data = encode(value)
    version = version_of(data)
    key = version[0] if version else f"bad-{name or kind}"
    return Planned(key.encode("utf-8", "surrogatepass"), data, kind)


def _new_content(page: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The same article (same url, so the same id) with a passage of another page added."""
    body = page["body"]
    extra = other["body"][:200].replace("<", " ")
    cut = body.rfind("。", 0, len(body) // 2) + 1 or len(body) // 2
    return {**page, "body": body[:cut] + extra + body[cut:]}


def slow_page(name: str, n: int) -> Planned:
    """Slow page ``name`` under a url of its own (``n``), so each one is a new article."""
    value = dict(by_name()[name].value)
    value["url"] = f"{value['url']}?slow={n}"
    return planned(value, f"slow:{name}")


def build(schedule: Schedule) -> list[Planned]:
    """The stream of ``schedule`` in produce order (the slow pages of its stage-timeout faults
    come later, from the runner)."""
    rng = random.Random(f"inputs-{schedule.seed}-{schedule.preset}")
    pages = list(generate_pages(schedule.pages, seed=schedule.seed, kind="mixed"))
    order: list[tuple[float, Planned]] = [
        (float(i), planned(p, "page")) for i, p in enumerate(pages)
    ]
    n = len(pages)
    targets = rng.sample(range(n), min(n, sum(schedule.recrawls.values())))
    kinds = [k for k, count in schedule.recrawls.items() for _ in range(count)]
    for i, kind in zip(targets, kinds, strict=False):
        page = pages[i]
        at = rng.uniform(i + 0.5, n)
        if kind == "same":
            order.append((at, planned(dict(page), "recrawl-same")))
            continue
        changed = _new_content(page, pages[(i + 1) % n])
        order.append((at, planned(changed, f"recrawl-{kind}")))
        if kind == "back":
            order.append((rng.uniform(at, n) + 1e-6, planned(dict(page), "recrawl-back")))
    cases = by_name()
    for name in schedule.bad:
        order.append((rng.uniform(0, n), planned(cases[name].value, f"bad:{name}", name)))
    for j, name in enumerate(schedule.slow):
        order.append((rng.uniform(0, n), slow_page(name, j)))
    order.sort(key=lambda item: item[0])
    return [p for _, p in order]


def expected_versions(records: list[Planned]) -> int:
    """Distinct article versions among the good pages: what "fraction enriched" is out of."""
    return len({version_of(r.value) for r in records if r.good})
