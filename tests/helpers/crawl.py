"""Crawler-side fixtures for the tests: WARC files written with warcio (another library than the
reader's), a local HTTP server with linked Japanese news pages, and enriched records built by
the pure stage functions (for exporter tests that need no worker).
"""

from __future__ import annotations

import base64
import hashlib
import io
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed"

#: A Shift_JIS news page whose charset only the HTTP header names (no <meta charset>).
SJIS_TITLE = "東京都で新しい交通計画を発表"
SJIS_SENTENCE = "小池百合子知事は十日、東京都庁で記者会見を開き、新しい交通計画を発表した。"
SJIS_HTML = f"""<!DOCTYPE html>
<html lang="ja"><head><title>{SJIS_TITLE}</title></head>
<body><header><nav><a href="/">トップ</a> <a href="/news/">ニュース</a></nav></header>
<article><h1>{SJIS_TITLE}</h1>
<p>{SJIS_SENTENCE}</p>
<p>計画では、二〇三〇年までに都内の路線バスをすべて電気バスに切り替える。国土交通省とも協議を進めるという。</p>
</article><footer>Copyright 東都新報</footer></body></html>
"""


def payload_digest(payload: bytes) -> str:
    """A WARC payload digest (``sha1:`` + base32), as warcio and crawlers write it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode()


def http_headers(status: str, content_type: str, **extra: str) -> StatusAndHeaders:
    headers = [
        ("Content-Type", content_type),
        *((k.replace("_", "-"), v) for k, v in extra.items()),
    ]
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


def write_response(
    writer: WARCWriter,
    url: str,
    body: bytes,
    content_type: str,
    *,
    status: str = "200 OK",
    date: str | None = None,
    **extra: str,
) -> None:
    """One WARC response record (warcio adds the block and payload digests)."""
    warc_headers = {"WARC-Date": date} if date else None
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=http_headers(status, content_type, **extra),
        warc_headers_dict=warc_headers,
    )
    writer.write_record(record)


def write_request(writer: WARCWriter, url: str) -> None:
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    headers = StatusAndHeaders(
        f"GET {path} HTTP/1.1", [("Host", "example.jp")], is_http_request=True
    )
    writer.write_record(
        writer.create_warc_record(url, "request", payload=io.BytesIO(b""), http_headers=headers)
    )


@dataclass(frozen=True)
class TestWarc:
    """The WARC of the produce test and what it should give."""

    path: Path
    pages: dict[str, dict[str, str]]  # url -> {"fetched_at", "title", "text"}
    skipped: dict[str, int]


def build_test_warc(path: Path) -> TestWarc:
    """The seed page (flattened text, as a crawler of text sends it) and a Shift_JIS HTML page
    as 200 responses, among what ``newsflow produce`` must leave out: a 404, a PDF, a request
    record, a metadata record, a revisit record and the seed page again at another URL (the
    same payload)."""
    seed = (SEED / "page.txt").read_bytes()
    seed_url = "https://news.example.jp/articles/seed"
    sjis_url = "https://news.example.jp/articles/tokyo-transit"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "tests"}))
        write_request(writer, seed_url)
        write_response(
            writer, seed_url, seed, "text/plain; charset=utf-8", date="2024-06-20T02:45:00Z"
        )
        write_request(writer, sjis_url)
        write_response(
            writer,
            sjis_url,
            SJIS_HTML.encode("shift_jis"),
            "text/html; charset=Shift_JIS",
            date="2024-06-21T09:30:15Z",
        )
        write_response(
            writer,
            "https://news.example.jp/missing",
            b"<html><head><title>404 Not Found</title></head><body>not here</body></html>",
            "text/html",
            status="404 Not Found",
        )
        write_response(
            writer,
            "https://news.example.jp/report.pdf",
            b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            "application/pdf",
        )
        metadata = writer.create_warc_record(
            seed_url,
            "metadata",
            payload=io.BytesIO(b"outlinks: https://news.example.jp/\n"),
            warc_content_type="application/warc-fields",
        )
        writer.write_record(metadata)
        write_response(writer, "https://news.example.jp/amp/seed", seed, "text/plain")
        revisit = writer.create_revisit_record(
            seed_url,
            digest=payload_digest(seed),
            refers_to_uri=seed_url,
            refers_to_date="2024-06-20T02:45:00Z",
            http_headers=http_headers("200 OK", "text/plain"),
        )
        writer.write_record(revisit)
    return TestWarc(
        path,
        pages={
            seed_url: {"fetched_at": "2024-06-20T02:45:00Z"},
            sjis_url: {"fetched_at": "2024-06-21T09:30:15Z", "title": SJIS_TITLE},
        },
        skipped={
            "warcinfo record": 1,
            "request record": 2,
            "HTTP 404": 1,
            "content type application/pdf": 1,
            "metadata record": 1,
            "duplicate payload": 1,
            "revisit record": 1,
        },
    )


# --- a local news site --------------------------------------------------------------------


@dataclass(frozen=True)
class SitePage:
    body: bytes
    content_type: str
    title: str | None = None
    sentence: str | None = None


def news_site_pages() -> dict[str, SitePage]:
    """An index and four linked articles (UTF-8, one Shift_JIS, one EUC-JP), plus a PDF."""
    articles = [
        ("/news/1", "utf-8", "首相が国会で所信表明演説",
         "岸田文雄首相は国会で所信表明演説を行い、経済対策を訴えた。"),
        ("/news/2", "shift_jis", "大阪で万博の準備進む",
         "大阪府の吉村洋文知事は、万博会場の準備状況を視察した。"),
        ("/news/3", "euc-jp", "北海道で記録的な大雪",
         "札幌市では記録的な大雪となり、気象庁が警戒を呼びかけた。"),
        ("/news/4", "utf-8", "トヨタが新工場を建設へ",
         "トヨタ自動車は愛知県に新しい工場を建設すると発表した。"),
    ]  # fmt: skip
    pages: dict[str, SitePage] = {}
    links = "".join(f'<li><a href="{path}">{title}</a></li>' for path, _, title, _ in articles)
    index = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='utf-8'><title>東都新報</title></head>"
        f"<body><h1>東都新報</h1><ul>{links}</ul><a href='/files/report.pdf'>PDF</a></body></html>"
    )
    pages["/"] = SitePage(index.encode(), "text/html; charset=utf-8")
    for i, (path, charset, title, sentence) in enumerate(articles):
        nxt = articles[(i + 1) % len(articles)][0]
        html = (
            f"<!DOCTYPE html><html lang='ja'><head><title>{title}</title></head><body>"
            f"<nav><a href='/'>トップ</a></nav><article><h1>{title}</h1><p>{sentence}</p>"
            "<p>関係者によると、詳しい内容は来週にも公表される見通しだという。</p></article>"
            f"<aside><a href='{nxt}'>次の記事</a></aside></body></html>"
        )
        pages[path] = SitePage(
            html.encode(charset), f"text/html; charset={charset}", title, sentence
        )
    pages["/files/report.pdf"] = SitePage(b"%PDF-1.4\n%%EOF\n", "application/pdf")
    return pages


@contextmanager
def news_site(pages: dict[str, SitePage]) -> Iterator[str]:
    """Serve ``pages`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages.get(self.path.split("?", 1)[0])
            if page is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(page.body)))
            self.end_headers()
            self.wfile.write(page.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --- enriched records without a worker ----------------------------------------------------


def offline_enriched(pages: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Enriched records of raw pages, built by the worker's pure stage functions."""
    import orjson

    from workers.clean import clean_page
    from workers.clean.record import cleaned_record
    from workers.contracts import decode_raw
    from workers.extract import get_extractor
    from workers.extract.record import enriched_record

    extractor = get_extractor()
    out = []
    for page in pages:
        raw = decode_raw(orjson.dumps(page), 1 << 30)
        cleaned = cleaned_record(raw, clean_page(raw["body"], raw.get("content_type")), None)
        out.append(enriched_record(cleaned, extractor.rows(cleaned["text"])))
    return out
