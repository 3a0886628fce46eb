"""The checker: after quiescence, what the topics and the tables say, against the rules.

- **Lost**: a raw record that is neither enriched nor dead-lettered. A record is dead-lettered
  when a dead letter names its raw partition and offset (clean stage), or its version
  (article id, content hash) at a later stage; it is enriched when its version is in the
  enriched topic (an exact re-crawl is enriched once, by its first copy).
- **Counts**: every table total must equal a recount of the enriched topic under the re-crawl
  rule (README, "Counting"): per article id the version produced last in the raw partition
  counts, once, with the mentions of the enriched record where the content last changed;
  entity keys and type keys both. A table above the recount counts something twice ("over"),
  below it misses something ("under"). An id whose last enriched version is not the one the
  raw order says counts fails the run too.
- **The HTTP API** (``/api/entities/top``, ``/api/entities/{key}``) must give the totals the
  tables hold (``/api/counts/all`` of every worker). A view shows one row per entity, its count
  keys merged through the alias book (docs/entity-identity.md): each answer lists the count
  keys it merged, each must hold what the tables hold, and the total must be their sum.
- **Offsets**: after quiescence the group has committed every partition to its end, and the
  report says for every lost record whether its partition was committed past it.

The checking itself is pure (``check``): it takes what was read, so it is tested without a
broker (``test_checker.py``).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.chaos.inputs import version_of

Version = tuple[str, str]
TP = tuple[str, int]


@dataclass(frozen=True)
class Rec:
    """One record read back: where it is and what it holds."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class WorkerTables:
    """What one worker's ``/api/counts/all`` and ``/api/stats`` said."""

    url: str
    partitions: list[int]
    entities: dict[str, int]
    types: dict[str, int]


@dataclass
class Observed:
    """Everything the checker looks at, read after quiescence."""

    topics: dict[str, str]  # raw, cleaned, enriched, deadletter, mentions -> topic name
    partitions: int
    raw: list[Rec]
    cleaned: list[Rec]
    enriched: list[Rec]
    deadletter: list[Rec]
    tables: list[WorkerTables]
    committed: dict[TP, int]
    ends: dict[TP, int]
    #: (endpoint, key, total the API gave or None, HTTP error or "", the count keys it says it
    #: merged with their counts, or None when the answer names none) from the public API
    api: list[tuple[Any, ...]] = field(default_factory=list)
    #: whether /api/entities/top said it covered every partition
    top_complete: bool = True


@dataclass(frozen=True)
class Lost:
    partition: int
    offset: int
    key: str
    #: undecodable (no dead letter although it cannot be decoded), never cleaned, or
    #: cleaned, never enriched
    where: str
    article: str | None
    committed_past: bool


@dataclass
class Report:
    raw_records: int = 0
    versions: int = 0
    enriched_records: int = 0
    enriched_duplicates: int = 0
    deadletters: Counter[str] = field(default_factory=Counter)  # "stage/class" -> n
    lost: list[Lost] = field(default_factory=list)
    keys: int = 0
    over: list[tuple[str, int, int]] = field(default_factory=list)  # key, table, recount
    under: list[tuple[str, int, int]] = field(default_factory=list)
    type_mismatches: list[tuple[str, int, int]] = field(default_factory=list)
    api_mismatches: list[str] = field(default_factory=list)
    ownership: list[str] = field(default_factory=list)
    committed_lag: dict[str, int] = field(default_factory=dict)  # topic -> records
    #: versions enriched more than once with different mentions (the stages must be pure)
    inconsistent: list[Version] = field(default_factory=list)
    #: ids whose last record in the enriched topic is not the version the raw order says counts
    order_differs: list[str] = field(default_factory=list)
    #: run facts the runner fills in: whether it came to rest, planned records the harness
    #: could not get into the raw topic (the run then proves nothing)
    quiescent: bool = True
    unproduced: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def count_mismatches(self) -> int:
        return len(self.over) + len(self.under)

    @property
    def ok(self) -> bool:
        return (
            self.quiescent
            and not self.unproduced
            and not self.lost
            and not self.over
            and not self.under
            and not self.type_mismatches
            and not self.api_mismatches
            and not self.ownership
            and not any(self.committed_lag.values())
            and not self.order_differs
        )

    def rows(self) -> list[tuple[str, str]]:
        dead = ", ".join(f"{k} {n}" for k, n in sorted(self.deadletters.items())) or "0"
        lag = ", ".join(f"{t} {n}" for t, n in sorted(self.committed_lag.items()) if n) or "0"
        past = sum(1 for x in self.lost if x.committed_past)
        where = Counter(x.where for x in self.lost)
        lost = f"{len(self.lost)}"
        if self.lost:
            lost += f" ({dict(where)}; {past} committed past)"
        return [
            ("raw records", str(self.raw_records)),
            ("article versions", str(self.versions)),
            ("enriched records (replays)", f"{self.enriched_records} ({self.enriched_duplicates})"),
            ("dead letters", dead),
            ("LOST (neither enriched nor dead-lettered)", lost),
            ("entity keys in the recount", str(self.keys)),
            ("keys counted too high (duplicated in counts)", str(len(self.over))),
            ("keys counted too low", str(len(self.under))),
            ("type totals off", str(len(self.type_mismatches))),
            ("HTTP API answers unlike the tables", str(len(self.api_mismatches))),
            ("table ownership problems", str(len(self.ownership))),
            ("committed-offset lag", lag),
            ("versions enriched inconsistently", str(len(self.inconsistent))),
            ("ids whose enriched order differs from raw order", str(len(self.order_differs))),
            ("quiescent", "yes" if self.quiescent else "NO"),
            ("planned records missing from the raw topic (harness)", str(self.unproduced)),
        ]  # fmt: skip

    def details(self, limit: int = 20) -> str:
        out: list[str] = []
        if self.lost:
            out.append(f"lost (first {limit}):")
            out += [
                f"  raw[{x.partition}]@{x.offset} key={x.key[:40]} {x.where}"
                f"{' (committed past)' if x.committed_past else ''}"
                for x in self.lost[:limit]
            ]
        for name, rows in (("too high", self.over), ("too low", self.under),
                           ("type totals", self.type_mismatches)):  # fmt: skip
            if rows:
                worst = sorted(rows, key=lambda r: -abs(r[1] - r[2]))[:limit]
                out.append(f"{name} (key: table vs recount; worst {len(worst)}):")
                out += [f"  {k}: {t} vs {r}" for k, t, r in worst]
        if self.api_mismatches:
            out.append("HTTP API:")
            out += [f"  {m}" for m in self.api_mismatches[:limit]]
        out += [f"ownership: {m}" for m in self.ownership]
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)


def _json(value: bytes | None) -> Any:
    try:
        return orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        return None


def check(obs: Observed) -> Report:
    """Lost records, count mismatches, API answers and committed lag (see the module doc)."""
    t = obs.topics
    report = Report(raw_records=len(obs.raw), enriched_records=len(obs.enriched))

    # Dead letters: by raw position (clean stage), by version (later stages), by enriched
    # position (count stage: that enriched record is not in the tables).
    dead_raw: set[tuple[int, int]] = set()
    dead_versions: set[Version] = set()
    dead_ids: set[str] = set()  # a later stage's letter whose original was cut: id only
    dead_enriched: set[tuple[int, int]] = set()
    for rec in obs.deadletter:
        letter = _json(rec.value) or {}
        source = letter.get("source") or {}
        report.deadletters[f"{letter.get('stage')}/{letter.get('error_class')}"] += 1
        place = (int(source.get("partition", -1)), int(source.get("offset", -1)))
        if source.get("topic") == t["raw"]:
            dead_raw.add(place)
        else:
            original = _json((letter.get("original") or "").encode("utf-8", "surrogatepass"))
            if isinstance(original, dict) and "id" in original:
                dead_versions.add((original["id"], original.get("content_hash", "")))
            elif source.get("key"):
                dead_ids.add(source["key"])
            if source.get("topic") == t["enriched"]:
                dead_enriched.add(place)

    cleaned = {(v["id"], v["content_hash"]) for r in obs.cleaned if (v := _json(r.value))}
    enriched_mentions: dict[Version, list[dict[str, int]]] = defaultdict(list)
    last_enriched: dict[str, tuple[int, int, str]] = {}  # id -> (partition, offset, hash)
    # What the count stage counts per id: the enriched records in their topic's order, where
    # each change of content hash moves the counts to that record's mentions and the same
    # hash again changes nothing (README "Counting"). A version enriched again (a replay, or
    # new content and then the first content again) may carry other keys than its first
    # enrichment once aliases were learned in between; the record that counts is the one
    # where the content changed.
    counted_hash: dict[str, str] = {}
    counted_mentions: dict[str, dict[str, int]] = {}
    for rec in sorted(obs.enriched, key=lambda r: (r.partition, r.offset)):
        value = _json(rec.value)
        if value is None or (rec.partition, rec.offset) in dead_enriched:
            continue
        article, content = value["id"], value["content_hash"]
        mentions = value.get("mentions") or {}
        enriched_mentions[(article, content)].append(mentions)
        if counted_hash.get(article) != content:
            counted_hash[article], counted_mentions[article] = content, mentions
        latest = last_enriched.get(article)
        if latest is None or (rec.partition, rec.offset) > latest[:2]:
            last_enriched[article] = (rec.partition, rec.offset, content)
    report.enriched_duplicates = sum(len(m) - 1 for m in enriched_mentions.values())
    report.inconsistent = sorted(v for v, ms in enriched_mentions.items()
                                 if any(m != ms[0] for m in ms))  # fmt: skip

    # Every raw record ends somewhere. (A record dead-lettered and also enriched, e.g. a
    # timeout and then a replay in time, still counts where it stands in the raw order.)
    raw_versions: dict[Version, list[tuple[int, int]]] = defaultdict(list)
    for rec in sorted(obs.raw, key=lambda r: (r.partition, r.offset)):
        version = version_of(rec.value)
        if version is not None:
            raw_versions[version].append((rec.partition, rec.offset))
        if (rec.partition, rec.offset) in dead_raw:
            continue
        if version is not None:
            if version in enriched_mentions or version in dead_versions or version[0] in dead_ids:
                continue
            where = "cleaned, never enriched" if version in cleaned else "never cleaned"
        else:
            where = "undecodable, no dead letter"
        committed = obs.committed.get((t["raw"], rec.partition), 0)
        key = (rec.key or b"").decode("utf-8", "replace")
        article = version[0] if version else None
        lost = Lost(rec.partition, rec.offset, key, where, article, committed > rec.offset)
        report.lost.append(lost)
    report.versions = len(raw_versions)

    # The recount: per id, the enriched version whose last raw record comes last.
    final: dict[str, tuple[tuple[int, int], Version]] = {}
    partitions_of: dict[str, set[int]] = defaultdict(set)
    for candidate, places in raw_versions.items():
        partitions_of[candidate[0]].update(p for p, _ in places)
        if candidate not in enriched_mentions:
            continue
        last = max(places)
        if candidate[0] not in final or last > final[candidate[0]][0]:
            final[candidate[0]] = (last, candidate)
    for article, parts in partitions_of.items():
        if len(parts) > 1:
            report.notes.append(f"article {article} is in raw partitions {sorted(parts)}: "
                                "its re-crawl order is undefined")  # fmt: skip
    entities: Counter[str] = Counter()
    for article, (_, counted) in final.items():
        entities.update(counted_mentions[article])
        latest = last_enriched.get(article)
        if latest is not None and latest[2] != counted[1]:
            report.order_differs.append(article)
    types: Counter[str] = Counter()
    for key, n in entities.items():
        types[key.partition(":")[0]] += n
    report.keys = len(+entities)

    # The tables, every worker's partitions together.
    table: dict[str, int] = {}
    table_types: Counter[str] = Counter()
    owned: Counter[int] = Counter()
    for worker in obs.tables:
        owned.update(worker.partitions)
        for key, n in worker.entities.items():
            if key in table:
                report.ownership.append(f"{key} is in the tables of two workers")
            table[key] = n
        table_types.update(worker.types)
    missing = set(range(obs.partitions)) - set(owned)
    if missing:
        report.ownership.append(f"no worker serves table partitions {sorted(missing)}")
    report.ownership += [f"table partition {p} is active on {n} workers"
                         for p, n in sorted(owned.items()) if n > 1]  # fmt: skip
    for key in sorted(set(table) | set(entities)):
        got, want = table.get(key, 0), entities.get(key, 0)
        if got > want:
            report.over.append((key, got, want))
        elif got < want:
            report.under.append((key, got, want))
    for key in sorted(set(table_types) | set(types)):
        if table_types.get(key, 0) != types.get(key, 0):
            report.type_mismatches.append((key, table_types.get(key, 0), types.get(key, 0)))

    # The public API must say what the tables say (which are checked against the recount).
    if not obs.top_complete:
        report.api_mismatches.append("/api/entities/top: complete is false")
    for answer in obs.api:
        endpoint, key, total, error = answer[:4]
        members = answer[4] if len(answer) > 4 else None
        if error:
            report.api_mismatches.append(f"{endpoint} {key[:60]}: {error}")
            continue
        if members is None:  # an answer that names no merged keys: its own key's total
            members = [(key, table.get(key, 0))] if total else []
        for member, count in members:
            if count != table.get(member, 0):
                report.api_mismatches.append(
                    f"{endpoint} {key[:60]}: merged key {member[:60]} {count}, "
                    f"the tables {table.get(member, 0)}"
                )
        if (total or 0) != sum(count for _, count in members):
            report.api_mismatches.append(
                f"{endpoint} {key[:60]}: {total}, its merged keys {sum(c for _, c in members)}"
            )

    # Committed offsets of the group's input topics.
    for role in ("raw", "cleaned", "enriched", "mentions"):
        topic = t[role]
        report.committed_lag[topic] = sum(
            max(0, end - obs.committed.get(tp, 0)) for tp, end in obs.ends.items() if tp[0] == topic
        )
    return report
