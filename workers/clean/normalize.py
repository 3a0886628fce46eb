"""Text normalization for the clean stage's *output*.

Placement of NFKC (a decision): each kept line is NFKC-normalized and whitespace-collapsed
**after** the main text has been chosen, and the normalized lines are what ``CleanedPage.text``
holds. Downstream NER computes its offsets on that text, so the offsets are into the normalized
string and stay valid; nothing later may re-normalize it. Paragraph breaks are kept as ``\\n``
(one paragraph or block per line, no empty lines). Normalizing lines one at a time (never the
joined text) means NFKC can never merge or split a line break.
"""

from __future__ import annotations

import re
import unicodedata

from workers.clean.truncation import Truncation

_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad]+")


def normalize_line(line: str) -> str:
    """One line NFKC-normalized, inner whitespace collapsed to one space, ends stripped."""
    if line.isascii():  # NFKC leaves ASCII alone; str.split() splits where \s matches
        return " ".join(line.split())
    text = unicodedata.normalize("NFKC", line)
    # Every character _SPACES matches except " " is unprintable (\s, the zero-widths, the soft
    # hyphen; checked for every code point), so a printable text without "  " has nothing to
    # collapse: one C scan instead of a regex pass over most lines.
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", text).strip()


#: Texts are cut to this many lines, and each line to this many characters (bounded work);
#: what is cut is said in the record (``truncation.Truncation``).
MAX_LINES = 5000
MAX_LINE_CHARS = 20000


def page_lines(text: str, cuts: Truncation | None = None) -> list[str]:
    """Normalized, non-empty lines of a text, bounded in count and length (cuts reported to
    ``cuts``)."""
    raw = text.splitlines()
    if len(raw) > MAX_LINES:
        if cuts is not None and any(not line.isspace() for line in raw[MAX_LINES:] if line):
            cuts.lines(len(raw), MAX_LINES)
        raw = raw[:MAX_LINES]
    out = []
    for line in raw:
        if len(line) > MAX_LINE_CHARS:
            if cuts is not None and not line[MAX_LINE_CHARS:].isspace():
                cuts.line(len(line), MAX_LINE_CHARS)
            line = line[:MAX_LINE_CHARS]
        line = normalize_line(line)
        if line:
            out.append(line)
    return out


def join_lines(lines: list[str]) -> str:
    """The output text: normalized non-empty lines, one paragraph per line."""
    normalized = (normalize_line(line) for line in lines)
    return "\n".join(line for line in normalized if line)
