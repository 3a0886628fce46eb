"""``newsflow top`` (workers.clients.top) without a worker: the table it prints."""

from __future__ import annotations

from workers.clients.top import render, width


def test_top_table_aligns_wide_names() -> None:
    body = {
        "window": "all",
        "entities": [
            {"type": "PERSON", "name": "植田和男", "count": 1200},
            {"type": "ORGANIZATION", "name": "<b>ACME</b>", "count": 7},
        ],
        "partitions": [0, 1],
        "partitions_total": 4,
        "workers": [{"url": "http://a", "ok": True}, {"url": "http://b", "ok": False}],
    }
    lines = render(body).splitlines()
    assert width(lines[1]) == width(lines[2]) == width(lines[0])
    assert lines[1].endswith("1,200") and "植田和男" in lines[1]
    assert "partitions 0, 1 of 4" in lines[-1] and "NOT ANSWERING: http://b" in lines[-1]
