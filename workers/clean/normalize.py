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
#: Control characters are removed, not turned into spaces: they sit inside words and sentences
#: on broken pages ("東京\x00で会見"), and the text around them is what matters. Kept: tab,
#: newline, CR and FF (whitespace: FF becomes a space, as in HTML). Removed with the rest: VT,
#: the file/group/record/unit separators and NEL, although Python's str.splitlines() breaks
#: lines at them: on the web they are debris inside sentences, not line breaks. ANSI escape
#: sequences (``\x1b[31m``) go as a whole.
CONTROLS = r"\x00-\x08\x0b\x0e-\x1f\x7f-\x9f"  # a regex character range
_CONTROLS = re.compile(rf"\x1b\[[0-?]*[ -/]*[@-~]|[{CONTROLS}]")
#: Characters str.splitlines() breaks at that are no line breaks here (see above).
_NOT_LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85"
_NO_LINE_BREAKS = str.maketrans({c: None for c in _NOT_LINE_BREAKS} | {"\x0c": " "})


def normalize_line(line: str) -> str:
    """One line NFKC-normalized, control characters removed, inner whitespace collapsed to one
    space, ends stripped."""
    if line.isascii():  # NFKC leaves ASCII alone; str.split() splits where \s matches
        if not line.isprintable():
            line = _CONTROLS.sub("", line)
        return " ".join(line.split())
    text = unicodedata.normalize("NFKC", line)
    # Every character _SPACES matches except " " is unprintable (\s, the zero-widths, the soft
    # hyphen; checked for every code point), and so is every control character, so a printable
    # text without "  " has nothing to collapse or remove: one C scan instead of regex passes.
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _SPACES.sub(" ", _CONTROLS.sub("", text)).strip()


#: Texts are cut to this many lines, and each line to this many characters (bounded work);
#: what is cut is said in the record (``truncation.Truncation``).
MAX_LINES = 5000
MAX_LINE_CHARS = 20000


def page_lines(text: str, cuts: Truncation | None = None) -> list[str]:
    """Normalized, non-empty lines of a text, bounded in count and length (cuts reported to
    ``cuts``)."""
    if any(c in text for c in _NOT_LINE_BREAKS):
        text = text.translate(_NO_LINE_BREAKS)
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
