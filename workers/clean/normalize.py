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


#: Texts are cut to this many lines, and each line to this many characters (bounded work).
MAX_LINES = 5000
MAX_LINE_CHARS = 20000


def page_lines(text: str) -> list[str]:
    """Normalized, non-empty lines of a text, bounded in count and length."""
    lines = (normalize_line(line[:MAX_LINE_CHARS]) for line in text.splitlines()[:MAX_LINES])
    return [line for line in lines if line]


def join_lines(lines: list[str]) -> str:
    """The output text: normalized non-empty lines, one paragraph per line."""
    normalized = (normalize_line(line) for line in lines)
    return "\n".join(line for line in normalized if line)
