"""Two workers of one app: each owns a table partition; lookups and top lists answer for all."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.helpers.worker import WorkerProcess
from tests.web.live import LiveWorker


@pytest.fixture(scope="module")
def pair(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[WorkerProcess, WorkerProcess]]:
    base = tmp_path_factory.mktemp("cluster")
    a = WorkerProcess(kafka_bootstrap, base / "a").start()
    b = WorkerProcess(kafka_bootstrap, base / "b", name=a.name).start()
    try:
        LiveWorker(a).produce(good=20, tag="cluster")
        for w in (a, b):
            w.wait_for("/api/stats", lambda s: len(s["partitions"]) == 1, timeout=90)
        a.wait_for("/api/entities/top?limit=1000", lambda t: t["complete"]
                   and {"LOCATION:ロシア", "LOCATION:北朝鮮"} <= {e["key"] for e in t["entities"]},
                   timeout=120)  # fmt: skip
        yield a, b
    finally:
        b.stop()
        a.stop()


def test_each_worker_owns_one_partition_and_top_covers_both(
    pair: tuple[WorkerProcess, WorkerProcess],
) -> None:
    a, b = pair
    parts = a.get("/api/stats")["partitions"] + b.get("/api/stats")["partitions"]
    assert sorted(parts) == [0, 1]
    top_a = a.get("/api/entities/top?limit=1000")
    top_b = b.get("/api/entities/top?limit=1000")
    assert top_a["complete"] and top_a["partitions"] == [0, 1] and len(top_a["workers"]) == 2
    assert top_a["entities"] == top_b["entities"]
    local = a.get("/api/entities/top?limit=1000&scope=local")
    assert local["partitions"] == a.get("/api/stats")["partitions"]
    assert len(local["entities"]) < len(top_a["entities"])


def test_entity_lookup_is_routed_to_the_owner(pair: tuple[WorkerProcess, WorkerProcess]) -> None:
    a, b = pair
    top = a.get("/api/entities/top?limit=1000")["entities"]
    owners = set()
    for row in top[:10]:
        path = "/api/entities/" + quote(row["key"], safe="")
        da, db = a.get(path), b.get(path)
        assert da["total"] == db["total"] == row["count"]
        assert da["served_by"] == db["served_by"]
        owners.add(da["served_by"])
    assert owners == {f"http://127.0.0.1:{a.web_port}", f"http://127.0.0.1:{b.web_port}"}
