"""``newsflow clean`` / ``newsflow extract`` keep their JSONL contracts (external evaluations
call them exactly like this)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

SEED = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"


def run(cmd: str, lines: list[bytes]) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "workers.cli", cmd],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        check=True,
        timeout=120,
    )
    return [orjson.loads(line) for line in out.stdout.splitlines()]


def test_clean_contract() -> None:
    page = (SEED / "page.txt").read_text(encoding="utf-8")
    html = "<html><head><title>T</title></head><body><p>" + "本文。" * 40 + "</p></body></html>"
    rows = run(
        "clean",
        [orjson.dumps({"id": "p1", "text": page}), orjson.dumps({"id": 2, "html": html})],
    )
    assert [r["id"] for r in rows] == ["p1", 2]
    for row in rows:
        assert set(row) == {"id", "text", "title", "published_at"}
        assert isinstance(row["text"], str) and row["text"]
    assert rows[0]["published_at"] == "2024-06-20T11:39:00+09:00"


def test_extract_contract() -> None:
    text = "プーチン大統領は北朝鮮を訪れ、金正恩総書記と会談した。"
    rows = run(
        "extract", [orjson.dumps({"id": 7, "text": text}), orjson.dumps({"id": 8, "text": ""})]
    )
    assert [r["id"] for r in rows] == [7, 8]
    assert set(rows[0]) == {"id", "entities"}
    assert rows[1]["entities"] == []
    for e in rows[0]["entities"]:
        assert set(e) == {"text", "type", "start", "end", "normalized", "key", "canonical"}
        assert text[e["start"] : e["end"]] == e["text"]
        assert e["key"] == f"{e['type']}:{e['canonical']}"
    assert {("PERSON", "プーチン"), ("LOCATION", "北朝鮮")} <= {
        (e["type"], e["text"]) for e in rows[0]["entities"]
    }


def keys_of(rows: list[dict], written: str) -> list[str]:
    return [e["key"] for r in rows for e in r["entities"] if e["text"] == written]


ARTICLES = [
    "高市氏は10日、記者会見した。",  # the short form, before any article defines it
    "高市早苗経済安全保障担当相は11日、半導体の輸出管理について説明した。",
    "高市氏は12日、閣議後に会見した。",
    "日本電信電話（NTT）は13日、新会社を設立した。",
    "NTTの社長は記者会見で方針を示した。",
]


def test_extract_learns_aliases_across_the_lines_of_one_run() -> None:
    rows = run("extract", [orjson.dumps({"id": i, "text": t}) for i, t in enumerate(ARTICLES)])
    # before the full name was seen, 高市 is its own key; after, it is the full name's
    assert keys_of(rows, "高市") == ["PERSON:高市", "PERSON:高市早苗"]
    assert keys_of(rows, "高市早苗") == ["PERSON:高市早苗"]
    # a bracket defines an alias for the article itself and for the ones after it
    assert set(keys_of(rows, "NTT")) == {"ORGANIZATION:日本電信電話"}


def test_extract_without_learning_keys_each_line_alone() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "workers.cli", "extract"],
        input=b"\n".join(orjson.dumps({"id": i, "text": t}) for i, t in enumerate(ARTICLES)),
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "NEWSFLOW_LEARN_ALIASES": "0"},
    )
    rows = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert keys_of(rows, "高市") == ["PERSON:高市", "PERSON:高市"]
    assert keys_of(rows, "NTT") == ["ORGANIZATION:日本電信電話", "ORGANIZATION:NTT"]


def test_a_bad_line_gets_an_error_and_the_stream_goes_on() -> None:
    rows = run("extract", [b"{not json", orjson.dumps({"id": 1, "text": "東京"})])
    assert "error" in rows[0]
    assert rows[1]["id"] == 1
