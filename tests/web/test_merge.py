"""Views by entity merge count keys through the alias book at read time: one row per entity,
every mention counted once, also when the keys sit on different workers (the top and trending
lists merged from each worker's part give what one worker holding everything gives)."""

from __future__ import annotations

import calendar
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.web.queries import (
    entity_detail,
    hourly_series,
    hours_back,
    merge_top,
    merge_trending,
    merge_values,
    missing_own,
    top_and_moved,
    top_entities,
    trending,
    trending_and_moved,
)

NOW = calendar.timegm((2025, 3, 14, 15, 30, 0))
H0, H1 = "2025-03-14T15", "2025-03-14T14"


def value(hours: dict[str, int], forms: dict[str, int] | None = None) -> dict:
    v = {"total": sum(hours.values()), "hours": hours, "applied": {}}
    if forms:
        v["forms"] = forms
    return v


ROOTS = {"PERSON:高市": "PERSON:高市早苗", "LOCATION:米国": "LOCATION:アメリカ合衆国"}


def root(key: str) -> str:
    return ROOTS.get(key, key)


def test_a_key_learned_as_an_alias_adds_to_its_entity_once() -> None:
    items = [
        ("PERSON:高市", value({H1: 2}, {"高市": 2})),  # counted before the full name was known
        ("PERSON:高市早苗", value({H0: 3}, {"高市": 1, "高市早苗": 2})),
        ("PERSON:河野太郎", value({H0: 4})),
    ]
    rows = top_entities(items, root=root, now=NOW)
    assert [(r["key"], r["count"]) for r in rows] == [
        ("PERSON:高市早苗", 5),
        ("PERSON:河野太郎", 4),
    ]
    assert rows[0]["aliases"] == ["高市"]
    # without the book the keys stay apart
    assert len(top_entities(items, now=NOW)) == 3
    # a window counts each key's hours
    assert top_entities(items, root=root, window="1h", now=NOW)[0]["count"] == 4
    # a moved key whose root has no count of its own still makes a row
    only_moved = top_entities([("LOCATION:米国", value({H0: 2}))], root=root, now=NOW)
    assert [(r["key"], r["count"]) for r in only_moved] == [("LOCATION:アメリカ合衆国", 2)]


def test_trending_sums_the_hours_of_an_entitys_keys() -> None:
    items = [("PERSON:高市", value({H0: 3})), ("PERSON:高市早苗", value({H0: 2, H1: 4}))]
    rows = trending(items, root=root, now=NOW)
    assert [(r["key"], r["current"], r["previous"]) for r in rows] == [("PERSON:高市早苗", 5, 4)]


def test_entity_detail_lists_the_written_forms_with_their_counts() -> None:
    merged = merge_values([value({H0: 2}, {"米": 2}), value({H0: 3, H1: 1}, {"米国": 3, "米": 1})])
    members = [("LOCATION:米国", 2), ("LOCATION:アメリカ合衆国", 4)]
    detail = entity_detail("LOCATION:アメリカ合衆国", merged, now=NOW, members=members)
    assert detail is not None
    assert detail["total"] == 6 and detail["canonical"] == "アメリカ合衆国"
    assert detail["aliases"] == [{"name": "米", "count": 3}, {"name": "米国", "count": 3}]
    assert detail["last_hours"][-1]["count"] == 5


KEYS = [f"PERSON:p{i}" for i in range(12)]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(KEYS), st.integers(0, 6), st.integers(0, 6)), min_size=1),
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(KEYS), max_size=6),
    st.integers(1, 8),
    st.integers(1, 3),
    st.randoms(use_true_random=False),
)
def test_lists_merged_across_workers_equal_one_workers_lists(
    counts: list[tuple[str, int, int]],
    aliases: dict[str, str],
    limit: int,
    workers: int,
    rnd: random.Random,
) -> None:
    """Keys are spread over workers at random; each answers for its keys (its top rows and the
    counts of its moved keys), the coordinator fetches the own count of a root no list held,
    and the merged list equals the list over all keys (counts exact, order the same)."""

    def resolve(key: str) -> str:
        seen = set()
        while key in aliases and key not in seen:
            seen.add(key)
            key = aliases[key]
        return key

    items: dict[str, dict] = {}
    for key, now_n, before_n in counts:
        hours = {h: n for h, n in ((H0, now_n), (H1, before_n)) if n}
        if hours:
            items[key] = value(hours)
    if not items:
        return
    owner = {k: rnd.randrange(workers) for k in items}
    parts = [[(k, v) for k, v in items.items() if owner[k] == w] for w in range(workers)]
    whole = list(items.items())

    answers = []
    for part in parts:
        rows, moved = top_and_moved(part, limit=limit, root=resolve, now=NOW)
        answers.append({"entities": rows, "moved": moved})
    own_of = {k: items[k]["total"] for k in missing_own(answers) if k in items}
    merged = merge_top(answers, own_of, limit)
    single = top_entities(whole, limit=limit, root=resolve, now=NOW)
    assert [(r["key"], r["count"]) for r in merged] == [(r["key"], r["count"]) for r in single]

    span = hours_back(24, NOW)
    answers = []
    for part in parts:
        rows, moved_series = trending_and_moved(part, limit=limit, root=resolve, now=NOW)
        answers.append({"entities": rows, "moved": moved_series})
    own_series = {k: hourly_series(items[k], span) for k in missing_own(answers) if k in items}
    merged_t = merge_trending(answers, own_series, limit)
    single_t = trending(whole, limit=limit, root=resolve, now=NOW)
    assert [(r["key"], r["current"], r["previous"]) for r in merged_t] == [
        (r["key"], r["current"], r["previous"]) for r in single_t
    ]


def test_answers_of_several_workers_say_what_they_cover() -> None:
    from workers.web.queries import cluster_fields, merge_by_type

    answers: list[dict[str, Any]] = [
        {"url": "http://a", "partitions": [0, 2], "ok": True, "body": {"by_type": {"PERSON": 3}}},
        {"url": "http://b", "partitions": [1], "ok": False, "error": "HTTP 503", "body": {}},
        {"url": "http://c", "partitions": [3], "ok": True, "body": {"by_type": {"PERSON": 1,
                                                                               "LOCATION": 2}}},
    ]  # fmt: skip
    assert merge_by_type([a["body"] for a in answers]) == {"PERSON": 4, "LOCATION": 2}
    fields = cluster_fields(answers, 4)
    assert fields["partitions"] == [0, 2, 3] and fields["partitions_total"] == 4
    assert fields["complete"] is False
    assert fields["workers"][1] == {
        "url": "http://b", "partitions": [1], "ok": False, "error": "HTTP 503"
    }  # fmt: skip
