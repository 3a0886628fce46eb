"""Bytes -> str for raw pages: BOM, declared charset, <meta> sniffing, then strict guesses.

Why this order: a BOM cannot lie, a declared charset usually does not, and the <meta> tag is
the page's own word; when those are missing or wrong (common on Japanese sites: Shift_JIS
served as ISO-8859-1, or no header at all) strict decoding with UTF-8 and the Japanese legacy
encodings tells them apart, because a wrong multi-byte codec fails on real text. Only as a
last resort is anything replaced. Byte size is bounded before any decoding.
"""

from __future__ import annotations

import codecs
import re

#: Raw pages are cut to this many bytes before decoding (bounded work on huge pages).
MAX_PAGE_BYTES = 2 * 1024 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_FALLBACKS = ("utf-8", "cp932", "euc_jis_2004", "iso2022_jp")
#: Labels that pages declare but mean something wider (WHATWG encoding standard).
_ALIASES = {"shift_jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "euc-jp": "euc_jis_2004",
            "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252"}  # fmt: skip


def codec_name(label: str | None) -> str | None:
    """A Python codec for a declared charset label, or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _bom(raw: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name, len(bom)
    return None


def _strict(raw: bytes, codec: str | None, cut: bool = False) -> str | None:
    """Strict decode; on a page cut at the byte limit, up to 3 trailing bytes may be dropped."""
    if codec is None:
        return None
    for drop in range(4 if cut else 1):
        try:
            return raw[: len(raw) - drop].decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
    return None


def sniff_meta_charset(raw: bytes) -> str | None:
    """The charset a page declares in its first 4 KB (``<meta charset>`` / http-equiv)."""
    m = _META_CHARSET.search(raw[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


def decode_page(raw: bytes, declared: str | None = None, max_bytes: int = MAX_PAGE_BYTES) -> str:
    """Decode a raw page; never raises. A cut multi-byte character at the end is dropped."""
    cut = len(raw) > max_bytes
    raw = raw[:max_bytes]
    if bom := _bom(raw):
        return raw[bom[1] :].decode(bom[0], errors="replace")
    for label in (sniff_meta_charset(raw), declared):
        codec = codec_name(label)
        # A single-byte declaration cannot fail, so it is tried after the strict guesses.
        single_byte = codec in ("cp1252", "iso8859-1", "ascii")
        if codec and not single_byte and (text := _strict(raw, codec, cut)) is not None:
            return text
    for codec in _FALLBACKS:
        if (text := _strict(raw, codec, cut)) is not None:
            return text
    return raw.decode(codec_name(declared) or "utf-8", errors="replace")
