"""`newsflow extract` (workers.offline.run_extract): batched writes keep the JSONL contract."""

from __future__ import annotations

import io
import subprocess
import sys

import orjson

from workers.offline import run_extract


def test_answers_each_line_in_order_including_a_last_line_without_newline() -> None:
    src = io.BytesIO(
        b'\n{"id": 1, "text": "\xe6\x9d\xb1\xe4\xba\xac"}\r\n  \n[1]\n{"id": "b"}\n'
        b'{bad\n{"id": 3, "text": ""}'
    )
    out = io.BytesIO()
    assert run_extract(src, out) == 0
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [r["id"] for r in rows] == [1, None, "b", None, 3]
    assert rows[0]["entities"] == [
        {"text": "東京", "type": "LOCATION", "start": 0, "end": 2, "normalized": "東京",
         "key": "LOCATION:東京", "canonical": "東京"}
    ]  # fmt: skip
    assert rows[1]["error"] == "line is not a JSON object"
    assert rows[2]["error"] == "needs a string 'text' field"
    assert rows[3]["error"].startswith("invalid JSON")
    assert rows[4] == {"id": 3, "entities": []}


def test_a_caller_waiting_for_each_answer_gets_it() -> None:
    """Batching must not hold an answer back until more input arrives (co-process use)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "extract"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for i, text in enumerate(["ロシアと中国。", "日本の首相。"]):
            proc.stdin.write(orjson.dumps({"id": i, "text": text}) + b"\n")
            proc.stdin.flush()
            row = orjson.loads(proc.stdout.readline())  # would hang if the answer were held
            assert row["id"] == i and row["entities"]
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0
