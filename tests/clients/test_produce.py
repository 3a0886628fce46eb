"""``newsflow produce`` input reading (workers.clients.produce): what is sent, what is reported."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from workers.clients.produce import BadInput, iter_pages


def collect(paths: list[Path]) -> tuple[list[dict[str, object]], list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    pages = list(iter_pages(paths, on_problem=lambda where, why: problems.append((where, why))))
    return pages, problems


def test_bad_lines_are_reported_with_file_and_line_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"url":"u1","body":"a"}\n\n{"url": \n"text"\n{"url":"u2","body":"b"}\n')
    pages, problems = collect([path])
    assert [p["url"] for p in pages] == ["u1", "u2"]
    assert problems[0][0] == f"{path}:3" and problems[0][1].startswith("not valid JSON (")
    assert problems[1] == (f"{path}:4", "a JSON str, not an object")
    assert len(problems) == 2


def test_records_are_sent_as_given(tmp_path: Path) -> None:
    """Only offline-contract lines ({"id", "html"|"text"}) are turned into raw articles."""
    given = [{"url": "u", "title": "no body"}, {"body": "no url"}, {"url": "v", "body": None}]
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(g) for g in given))
    pages, problems = collect([path])
    assert pages == given and not problems
    path.write_bytes(b'{"id": 7, "html": "<p>x</p>"}\n')
    (page,) = collect([path])[0]
    assert page["id"] == "7" and page["body"] == "<p>x</p>" and page["content_type"] == "text/html"


def test_paths_that_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "page.txt").write_text("本文", encoding="utf-8")
    (tmp_path / "folder" / "image.png").write_bytes(b"\x89PNG")
    pages, problems = collect(
        [tmp_path / "missing.txt", tmp_path / "notes.md", tmp_path / "folder"]
    )
    assert [p["body"] for p in pages] == ["本文"]  # a folder's other files are passed over
    assert problems == [
        (str(tmp_path / "missing.txt"), "no such file or folder"),
        (str(tmp_path / "notes.md"), "not a .jsonl, .html, .htm, .txt or WARC file"),
    ]


def test_without_a_callback_bad_input_raises(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b"oops\n")
    with pytest.raises(BadInput, match=r"p\.jsonl:1: not valid JSON"):
        list(iter_pages([path]))
