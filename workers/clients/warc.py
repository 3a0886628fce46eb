"""WARC archives -> raw-article dicts for ``newsflow produce`` (``.warc``, ``.warc.gz``).

Crawlers (Heritrix, StormCrawler, Browsertrix, ``wget --warc-file``, Common Crawl's CC-NEWS)
store what they fetch as WARC. A **response** record with an HTTP **2xx** status and an HTML or
plain-text payload becomes one raw page:

- ``url``: WARC-Target-URI; ``fetched_at``: WARC-Date (ISO 8601, as written);
- ``content_type``: ``text/html`` (also for ``application/xhtml+xml``) or ``text/plain``, from
  the HTTP Content-Type;
- ``body``: the payload after undoing the HTTP transfer and content encodings (chunked, gzip,
  deflate, br), **decoded to text here** with the cleaner's own decoder
  (``workers.clean.charset.decode_page``: BOM, ``<meta>`` charset, the HTTP charset, then strict
  guesses among UTF-8 and the Japanese legacy encodings). Decided so because the raw topic's
  contract is JSON with a text ``body``: bytes plus a charset would need base64 (a third more
  bytes on the topic) and a schema change, and the cleaner would run the very same function.
  Bytes past the cleaner's limit (``MAX_PAGE_BYTES``) are cut before decoding, as it would;
  at most four times that is read from a record (memory stays bounded on a huge payload).

Everything else is skipped and counted by reason (:class:`WarcStats`): request, metadata,
revisit, warcinfo, resource… records; non-HTTP responses; other statuses (``HTTP 404``);
other payloads (``content type application/pdf``); empty payloads; and **duplicate payloads**
(same WARC-Payload-Digest, or the same SHA-1 when the header is missing), counted once per
reader, so across every file of one ``newsflow produce``.

A file cut short (a crawler killed mid-write, a partial download) keeps every record before the
cut and reports where it is: a record shorter than its Content-Length is never sent, and after
the last record the file's end is checked (the rest of the last gzip member, or the last
record's declared length), since the parser silently stops at a cut it cannot read.

FastWARC (Resiliparse's WARC library, already in the tree with Resiliparse) was chosen over
warcio by measurement: ``python bench/warc.py`` (figures in ``docs/crawl-io.md``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from workers.clean.charset import MAX_PAGE_BYTES, decode_page
from workers.clients.producer import page_type

WARC_SUFFIXES = (".warc", ".warc.gz")
_GZIP_MAGIC = b"\x1f\x8b"


def is_warc(path: Path) -> bool:
    """A ``.warc`` or ``.warc.gz`` file name."""
    return path.name.lower().endswith(WARC_SUFFIXES)


@dataclass
class Truncation:
    """Where a file was cut short, and how many records before the cut were read."""

    path: str
    offset: int
    records_before: int
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.path}: cut short at byte {self.offset} ({self.detail}); "
            f"the {self.records_before} record(s) before it were read"
        )


@dataclass
class WarcStats:
    """What a :class:`WarcReader` read: files, records, pages it yielded, skips by reason."""

    files: int = 0
    records: int = 0
    pages: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    truncated: list[Truncation] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the end of ``newsflow produce``."""
        lines = [f"warc: {self.records} record(s) in {self.files} file(s) -> {self.pages} page(s)"]
        if self.skipped:
            skips = ", ".join(f"{reason}: {n}" for reason, n in self.skipped.most_common())
            lines.append(f"warc: skipped {self.skipped.total()} ({skips})")
        lines += [f"warc: {t}" for t in self.truncated]
        return "\n".join(lines)


class _Skip(Exception):
    """A record that is not sent, with the reason it is counted under."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WarcReader:
    """Raw pages from WARC files. One reader per run: duplicates are found across files and
    ``stats`` adds up over every file read."""

    def __init__(self, max_page_bytes: int = MAX_PAGE_BYTES) -> None:
        self.max_page_bytes = max_page_bytes
        self.stats = WarcStats()
        self._digests: set[str] = set()

    def pages(self, path: str | Path) -> Iterator[dict[str, Any]]:
        """Yield the raw pages of one WARC file, in file order."""
        from fastwarc.warc import ArchiveIterator

        path = Path(path)
        self.stats.files += 1
        read = 0
        last_pos = 0
        cut: Truncation | None = None
        error = ""
        with path.open("rb") as stream:
            records = iter(ArchiveIterator(stream, parse_http=True, auto_decode="none"))
            while True:
                try:
                    record = next(records)
                except StopIteration:
                    break
                except OSError as exc:  # a record header it cannot parse: the rest is lost
                    error = f"unreadable record ({exc})"
                    break
                last_pos = record.stream_pos
                self.stats.records += 1
                try:
                    page = self._page(record)
                except _Skip as skip:
                    self.stats.skipped[skip.reason] += 1
                    if skip.reason == "truncated":
                        cut = Truncation(str(path), last_pos, read, "the record ends early")
                        break
                else:
                    self.stats.pages += 1
                    yield page
                read += 1
        if cut is None:
            problem = _tail_problem(path, last_pos, read > 0)
            if problem is None and error:
                problem = (last_pos, error)
            if problem is not None:
                cut = Truncation(str(path), problem[0], read, problem[1])
        if cut is not None:
            self.stats.truncated.append(cut)

    def _page(self, record: Any) -> dict[str, Any]:
        """One record -> a raw page, or :class:`_Skip` with the reason."""
        headers = record.headers
        record_type = str(record.record_type)
        if headers.get("Content-Length") is None:
            raise _Skip("truncated")  # the record's own header block was cut
        if record_type != "response":
            raise _Skip(f"{record_type} record")
        if not record.is_http:
            raise _Skip("not an HTTP response")
        http = record.http_headers
        if http is None or http.status_code is None:
            raise _Skip("unreadable HTTP headers")
        if not 200 <= http.status_code < 300:
            raise _Skip(f"HTTP {http.status_code}")
        mime = (record.http_content_type or "").strip().lower()
        kind = page_type(mime)
        if kind is None:
            raise _Skip(f"content type {mime}" if mime else "no content type")
        url = (headers.get("WARC-Target-URI") or "").strip().strip("<>")
        if not url:
            raise _Skip("no target URI")
        # bounded: a page is cut to max_page_bytes anyway; the rest is skipped, not held
        raw = record.reader.read(4 * self.max_page_bytes)
        if len(raw) + record.reader.consume() < record.content_length:
            raise _Skip("truncated")
        if not raw:
            raise _Skip("empty payload")
        digest = headers.get("WARC-Payload-Digest") or _sha1(raw)
        if digest in self._digests:
            raise _Skip("duplicate payload")
        self._digests.add(digest)
        payload = _undo_encodings(
            raw,
            http.get("Transfer-Encoding") or "",
            http.get("Content-Encoding") or "",
            self.max_page_bytes,
        )
        page: dict[str, Any] = {
            "url": url,
            "body": decode_page(payload, record.http_charset, self.max_page_bytes),
            "content_type": kind,
        }
        if date := headers.get("WARC-Date"):
            page["fetched_at"] = date.strip()
        return page


def _sha1(raw: bytes) -> str:
    """A payload digest the way WARC writes it (``sha1:`` + base32)."""
    return "sha1:" + base64.b32encode(hashlib.sha1(raw).digest()).decode()


def _undo_encodings(raw: bytes, transfer: str, content: str, limit: int) -> bytes:
    """The HTTP entity body from the bytes on the wire: de-chunk, then undo the content
    encodings (last applied first). Archives that stored the payload already decoded but kept
    the header are passed as they are. Output is bounded by ``limit`` (decompression bombs)."""
    from fastwarc.stream_io import BrotliReader, ChunkedReader

    data = raw
    if "chunked" in transfer.lower():
        try:
            data = ChunkedReader(io.BytesIO(raw)).read()
        except OSError:
            data = raw
    for encoding in reversed([e.strip().lower() for e in content.split(",") if e.strip()]):
        if encoding in ("gzip", "x-gzip", "deflate"):
            data = _inflate(data, limit)
        elif encoding == "br":
            with contextlib.suppress(OSError):  # not brotli after all: taken as decoded
                data = BrotliReader(io.BytesIO(data)).read(limit)
        elif encoding != "identity":
            raise _Skip(f"content encoding {encoding}")
    return data[:limit]


def _inflate(data: bytes, limit: int) -> bytes:
    """gzip / zlib / raw deflate, at most ``limit`` bytes out; data that is none of them is
    taken as already decoded."""
    for wbits in (47, -15):  # 47: gzip or zlib header (auto); -15: raw deflate
        try:
            return zlib.decompressobj(wbits).decompress(data, limit)
        except zlib.error:
            continue
    return data


def _tail_problem(path: Path, last_pos: int, saw_records: bool) -> tuple[int, str] | None:
    """After the parser stops: does the file end where its last record ends? ``None`` if so
    (or if it cannot tell), else where the cut or unreadable record starts and what is wrong.
    ``last_pos``: where the last record read starts (0 if none); in a ``.warc.gz`` that is the
    start of its gzip member."""
    with path.open("rb") as fh:
        gzipped = fh.read(2) == _GZIP_MAGIC
        fh.seek(last_pos)
        if not gzipped:
            return _plain_tail_problem(fh, saw_records)
        if fh.read(2) != _GZIP_MAGIC:
            return None  # not one gzip member per record (whole-file gzip): no cheap check
        fh.seek(last_pos)
        return _gzip_tail_problem(fh, members_read=1 if saw_records else 0)


def _gzip_tail_problem(fh: BinaryIO, members_read: int) -> tuple[int, str] | None:
    """Inflate (and throw away) the gzip members from the file position: the first
    ``members_read`` must end, and no other may start."""
    start = fh.tell()
    fed = 0  # bytes read from the file
    member_start = start
    started = 0
    inflater: Any = None
    pending = b""
    while True:
        if not pending:
            pending = fh.read(1 << 16)
            fed += len(pending)
            if not pending:
                break
        if inflater is None:
            if not pending.strip(b"\r\n\x00"):
                pending = b""
                continue
            member_start = start + fed - len(pending)
            started += 1
            if started > members_read:
                return member_start, "a record the parser could not read"
            inflater = zlib.decompressobj(31)
        try:
            inflater.decompress(pending, 1 << 20)
        except zlib.error:
            return member_start, "damaged gzip data"
        if inflater.eof:
            pending = inflater.unused_data
            inflater = None
        else:
            pending = inflater.unconsumed_tail
    if inflater is not None:
        return member_start, "its gzip member ends early"
    return None


def _plain_tail_problem(fh: BinaryIO, saw_records: bool) -> tuple[int, str] | None:
    """Uncompressed: the last record's declared end against the file's end."""
    start = fh.tell()
    head = fh.read(64 * 1024)
    if not saw_records:
        return (start, "no readable record") if head.strip() else None
    header_end = head.find(b"\r\n\r\n")
    if header_end < 0:
        return start, "its header is cut"
    length = None
    for line in head[:header_end].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value.strip())
    if length is None:
        return start, "no Content-Length"
    block_end = start + header_end + 4 + length
    size = fh.seek(0, os.SEEK_END)
    if size < block_end:
        return start, "the record ends early"
    fh.seek(block_end)
    if fh.read(1 << 16).strip():
        return block_end, "data after the last record that the parser could not read"
    return None


__all__ = ["WARC_SUFFIXES", "Truncation", "WarcReader", "WarcStats", "is_warc"]
