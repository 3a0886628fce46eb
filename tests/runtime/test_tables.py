"""The count tables' fast reader returns exactly what ``table.get`` returns (real rocksdb)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import faust

from workers.runtime.app import create_app
from workers.runtime.streams import acting_for
from workers.runtime.tables import declare_tables, reader
from workers.settings import Settings


class Point(faust.Record, serializer="json"):
    x: int


class _Event:
    """Just what the rocksdb store reads of the current event: its partition."""

    def __init__(self, partition: int) -> None:
        self.message = SimpleNamespace(partition=partition)


def _event(partition: int) -> faust.EventT:
    return cast(faust.EventT, _Event(partition))


def test_reader_matches_table_get_on_rocksdb(tmp_path: Path) -> None:
    settings = Settings(app_id="reader-test", data_dir=str(tmp_path), store="rocksdb://")
    tables = declare_tables(create_app(settings), settings)
    table = tables.entity_mentions
    values: dict[str, Any] = {
        "PERSON:植田和男": {"total": 3, "hours": {"2025-03-14T15": 3}, "applied": {"0": 7}},
        'LOCATION:"quoted" \\ name': {"total": 0, "hours": {}, "applied": {"1": 2, "3": 9}},
        "ORGANIZATION:model": Point(x=5),  # a Faust model: decoded by the registry, as by get
    }
    first, second = _event(0), _event(1)
    with acting_for(first):
        for key, value in values.items():
            table.data[key] = value
    get = reader(table)
    assert get is not table.get  # the fast path is taken for this store
    with acting_for(first):
        for key in [*values, "PERSON:missing"]:
            assert get(key) == table.get(key)
        assert get("PERSON:植田和男")["applied"] == {"0": 7}
        assert get("ORGANIZATION:model") == Point(x=5)
        assert get("PERSON:missing") is None
    with acting_for(second):  # another partition's store: nothing there, for both
        assert get("PERSON:植田和男") is None and table.get("PERSON:植田和男") is None


def test_reader_of_a_memory_table_is_table_get(tmp_path: Path) -> None:
    settings = Settings(app_id="reader-test-mem", data_dir=str(tmp_path), store="memory://")
    table = declare_tables(create_app(settings), settings).entity_mentions
    assert reader(table) == table.get
