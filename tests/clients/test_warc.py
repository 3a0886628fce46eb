"""WARC input: the reader on files written by warcio, and ``newsflow produce`` on a WARC through a
worker on the real broker (the two pages come out enriched, nothing else goes in)."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import sys
import unicodedata
import zlib
from pathlib import Path

import pytest
from warcio.warcwriter import WARCWriter

from tests.helpers.crawl import SJIS_SENTENCE, SJIS_TITLE, build_test_warc, write_request
from tests.helpers.crawl import write_response as write
from tests.helpers.kafka import consume_until, json_values
from tests.helpers.worker import WorkerProcess
from workers.clients.produce import iter_pages
from workers.clients.warc import WarcReader, is_warc

HEADLINE = "ロシア「北朝鮮シフト」鮮明、北東アジアの地政学どう変わる"


def nfkc(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


@pytest.mark.parametrize("name", ["crawl.warc", "crawl.warc.gz"])
def test_two_pages_come_out_and_every_other_record_is_counted_by_reason(
    tmp_path: Path, name: str
) -> None:
    warc = build_test_warc(tmp_path / name)
    reader = WarcReader()
    pages = list(reader.pages(warc.path))
    assert [p["url"] for p in pages] == list(warc.pages)
    for page in pages:
        assert page["fetched_at"] == warc.pages[page["url"]]["fetched_at"]
    assert [p["content_type"] for p in pages] == ["text/plain", "text/html"]
    assert dict(reader.stats.skipped) == warc.skipped
    assert reader.stats.records == len(pages) + sum(warc.skipped.values())
    assert reader.stats.truncated == []
    summary = reader.stats.summary()
    assert "2 page(s)" in summary and "duplicate payload: 1" in summary


def test_the_seed_page_is_the_archived_bytes_and_shift_jis_is_decoded_by_its_header(
    tmp_path: Path,
) -> None:
    warc = build_test_warc(tmp_path / "crawl.warc.gz")
    seed, sjis = WarcReader().pages(warc.path)
    seed_text = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "page.txt"
    assert seed["body"] == seed_text.read_text(encoding="utf-8")
    assert SJIS_SENTENCE in sjis["body"] and SJIS_TITLE in sjis["body"]
    assert "charset" not in sjis["body"].lower()  # only the HTTP header named Shift_JIS


def test_chunked_and_compressed_payloads_are_decoded(tmp_path: Path) -> None:
    html = "<html><head><title>圧縮</title></head><body><p>本文です。</p></body></html>".encode()
    gz = gzip.compress(html)
    chunked = b"".join(
        b"%x\r\n%s\r\n" % (len(gz[i : i + 7]), gz[i : i + 7]) for i in range(0, len(gz), 7)
    )
    path = tmp_path / "enc.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        write(writer, "https://a.jp/gzip-chunked", chunked + b"0\r\n\r\n", "text/html",
              Content_Encoding="gzip", Transfer_Encoding="chunked")  # fmt: skip
        write(writer, "https://a.jp/deflate", zlib.compress(html + b" "), "text/html",
              Content_Encoding="deflate")  # fmt: skip
        # stored decoded by the crawler although the header still says gzip
        write(writer, "https://a.jp/decoded", html + b"  ", "text/html", Content_Encoding="gzip")
        write(writer, "https://a.jp/odd", html + b"   ", "text/html", Content_Encoding="compress")
    reader = WarcReader()
    pages = list(reader.pages(path))
    assert [p["url"] for p in pages] == [
        "https://a.jp/gzip-chunked", "https://a.jp/deflate", "https://a.jp/decoded"
    ]  # fmt: skip
    for page in pages:
        assert page["body"].strip() == html.decode()
    assert reader.stats.skipped == {"content encoding compress": 1}


def _small_warc(path: Path) -> list[int]:
    """warcinfo, then three (response, request) pairs; returns each record's start offset."""
    starts = []
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        starts.append(fh.tell())
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        for i in range(3):
            url = f"https://a.jp/{i}"
            body = f"<html><head><title>記事{i}</title></head><body><p>本文{i}。</p></body></html>"
            starts.append(fh.tell())
            write(writer, url, (body * 20).encode(), "text/html; charset=utf-8")
            starts.append(fh.tell())
            write_request(writer, url)
    return starts


@pytest.mark.parametrize("name", ["cut.warc", "cut.warc.gz"])
def test_a_file_cut_anywhere_keeps_the_pages_before_the_cut_and_reports_it(
    tmp_path: Path, name: str
) -> None:
    """Every cut point of a small file (every 3rd byte): never a partial page, every whole
    page before the cut, and the cut reported unless it falls on a record boundary."""
    whole = tmp_path / name
    starts = _small_warc(whole)
    data = whole.read_bytes()
    full = list(WarcReader().pages(whole))
    assert len(full) == 3
    cut_file = tmp_path / f"part-{name}"
    for cut in range(0, len(data), 3):
        cut_file.write_bytes(data[:cut])
        reader = WarcReader()
        pages = list(reader.pages(cut_file))
        assert pages == full[: len(pages)], cut  # whole pages, in order
        complete = [s for s in [*starts[1:], len(data)] if s <= cut]
        responses_complete = sum(1 for k in range(len(complete)) if k % 2 == 1)
        assert len(pages) >= responses_complete, cut
        ends = [*starts, len(data)]
        if not name.endswith(".gz") and any(0 < end - cut <= 4 for end in ends):
            continue  # only the CRLFs closing a whole record are missing: either is fine
        assert bool(reader.stats.truncated) != (cut in ends), (cut, reader.stats.truncated)
        if reader.stats.truncated:
            assert "cut short" in str(reader.stats.truncated[0])


def test_truncated_last_record_is_reported_with_the_records_before_it(tmp_path: Path) -> None:
    whole = tmp_path / "t.warc.gz"
    starts = _small_warc(whole)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(whole.read_bytes()[: starts[5] + 40])  # inside the third response
    reader = WarcReader()
    pages = list(reader.pages(cut))
    assert [p["url"] for p in pages] == ["https://a.jp/0", "https://a.jp/1"]
    (cut_report,) = reader.stats.truncated
    assert cut_report.offset == starts[5] and cut_report.records_before == 5
    assert f"byte {starts[5]}" in reader.stats.summary()


def test_duplicates_are_found_across_the_files_of_one_run(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    build_test_warc(tmp_path / "a" / "one.warc.gz")
    (tmp_path / "a" / "two.warc").write_bytes((tmp_path / "a" / "one.warc.gz").read_bytes())
    (tmp_path / "a" / "extra.jsonl").write_text('{"url": "https://x.jp/1", "body": "本文"}\n')
    reader = WarcReader()
    pages = list(iter_pages([tmp_path / "a"], warc=reader))
    assert is_warc(tmp_path / "a" / "one.warc.gz")
    assert not is_warc(tmp_path / "a" / "extra.jsonl")
    assert len(pages) == 3  # extra.jsonl, then one.warc.gz's two pages; two.warc: duplicates
    assert reader.stats.files == 2
    assert reader.stats.skipped["duplicate payload"] == 1 + 3  # its 3 responses: seen before


def test_newsflow_produce_sends_exactly_the_two_pages_and_they_come_out_enriched(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    warc = build_test_warc(tmp_path / "crawl.warc.gz")
    with WorkerProcess(kafka_bootstrap, tmp_path) as worker:
        topics = worker.topics
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli", "produce", "--quiet",
             "--bootstrap", kafka_bootstrap, "--topic", topics["raw"], str(warc.path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert "produced 2 page(s)" in out.stderr
        assert "HTTP 404: 1" in out.stderr and "content type application/pdf: 1" in out.stderr

        async def read() -> tuple[list, list]:
            enriched = await consume_until(
                kafka_bootstrap, topics["enriched"], lambda rs: len(rs) >= 2, timeout=120
            )
            raw = await consume_until(kafka_bootstrap, topics["raw"], lambda rs: len(rs) >= 2)
            await asyncio.sleep(2)  # anything more would have arrived with them
            raw = await consume_until(kafka_bootstrap, topics["raw"], lambda rs: len(rs) >= 2)
            return json_values(enriched), raw

        enriched, raw = asyncio.run(read())
    assert len(raw) == 2
    assert sorted(r.key.decode() for r in raw) == sorted(warc.pages)  # keyed by URL
    assert len(enriched) == 2
    by_url = {r["url"]: r for r in enriched}
    assert set(by_url) == set(warc.pages)
    for url, expected in warc.pages.items():
        assert by_url[url]["fetched_at"] == expected["fetched_at"]
    seed, sjis = (by_url[url] for url in warc.pages)
    assert seed["title"] == HEADLINE
    assert sjis["title"] == SJIS_TITLE
    assert nfkc(SJIS_SENTENCE) in sjis["text"]
    names = {e["normalized"] for e in sjis["entities"]}
    assert "東京都" in names or "小池百合子" in names


def test_a_huge_payload_is_read_bounded_and_the_next_record_still_comes(tmp_path: Path) -> None:
    from workers.clean.charset import MAX_PAGE_BYTES

    huge = b"<html><body>" + "<p>長い記事の本文です。</p>".encode() * 600_000 + b"</body></html>"
    assert len(huge) > 4 * MAX_PAGE_BYTES
    path = tmp_path / "huge.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        write(writer, "https://a.jp/huge", huge, "text/html; charset=utf-8")
        nxt = "<html><body><p>次の記事</p></body></html>".encode()
        write(writer, "https://a.jp/next", nxt, "text/html")
    reader = WarcReader()
    huge_page, after = reader.pages(path)
    assert len(huge_page["body"]) <= MAX_PAGE_BYTES
    assert huge_page["body"].startswith("<html><body><p>長い記事")
    assert after["url"] == "https://a.jp/next" and reader.stats.truncated == []
