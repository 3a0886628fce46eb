"""Boilerplate filter for page text given one block per line (flattened pages, HTML text).

Why this shape: a flattened page has no markup left, so the article is found the way
body-text-extraction (BTE) finds it in a token stream: every line gets a signed score (positive
for prose-like lines, negative for furniture), and the article is the contiguous run of lines
with the highest total score. Only general, language-independent features are used: length in
word units (a CJK character counts half a word), sentence-final punctuation, punctuation
density, truncation marks (``…``), numbering runs, link-likeness and repetition inside the page.
Lines inside the chosen run are dropped only when they are clearly furniture (repeats, truncated
teasers, bare numbers, captions repeated by the text).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# Word characters that are not CJK, as one class: the same matches as a negative lookahead
# before each \w, several times faster (one class test per character).
_WORD = re.compile(f"[^\\W{_CJK}]+")
_TOKEN = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_SENTENCE_END = re.compile(r"[.!?。．！？」』”\"')）:：;]\s*$")
_TRUNCATED = re.compile(r"(?:…|\.\.\.|‥)\s*[)\]」』”\"]?\s*$")
_BARE_NUMBER = re.compile(r"^\W*\d{1,3}\W*$")
_LINK_LIKE = re.compile(r"https?://|www\.|(?:[»›]|\s>|>>)\s*$|^\s*(?:[«‹]|<\s|<<)|\s[|/·•]\s")
_LEGAL = re.compile(r"©|\(c\)\s*\d{4}|all rights reserved", re.I)
_PUNCT = re.compile(r"[,、，;；。.!?！？]")

#: Every line costs this much, as every tag costs one in BTE; short lines come out negative.
LINE_COST = 3.0
#: A sentence must be longer than this (in word units) to count for the article; shorter
#: ones ("Sign up now!") are the teasers and calls to action around it.
SENTENCE_COST = 8.0
#: Lines below this many word units are short enough for link marks to make them links.
SHORT_UNITS = 15.0
#: A line of at least this many word units reads as prose even without final punctuation.
PROSE_UNITS = 30.0
#: Shingle size and coverage above which a line is taken to repeat another (captions, teasers).
_SHINGLE = 4
_REPEAT_COVERAGE = 0.9
#: Extra tokens needed on each side of a restated text for the restatement to count.
_MIN_WRAP = 3
#: Only the first lines of the body are checked for repeats (captions and teasers stand there),
#: which keeps the check linear in page length.
_REPEAT_WINDOW = 12


def cjk_chars(text: str) -> int:
    """Number of CJK characters, counted as what deleting their runs removes: one new string
    instead of a list with a string per character."""
    if text.isascii():
        return 0
    return len(text) - len(_CJK_RUN.sub("", text))


def word_units(line: str) -> float:
    """Length in word units: Latin-like words count 1, CJK characters 1/2 (no spaces there)."""
    return len(_WORD.findall(line)) + cjk_chars(line) / 2


def line_verdict(line: str, counts: Counter[str]) -> tuple[float, bool]:
    """(score, furniture) of one (already normalized) line.

    The score is the signed evidence that the line is article text (positive) or furniture
    (negative); furniture is what is dropped wherever it stands: repeats, truncated teasers,
    bare numbers, link-like and legal lines, lines without words. One function, and each
    feature computed only when the verdict still depends on it: this runs on every line.
    """
    units = word_units(line)
    if (
        units == 0
        or (units < PROSE_UNITS and (counts[line] > 1 or _TRUNCATED.search(line) is not None))
        or _BARE_NUMBER.match(line) is not None
        or (units < SHORT_UNITS and _LINK_LIKE.search(line) is not None)
        or _LEGAL.search(line) is not None
    ):
        return -max(units, LINE_COST), True
    if units >= PROSE_UNITS or _SENTENCE_END.search(line) is not None:
        bonus = 1.0 + min(len(_PUNCT.findall(line)) / units, 0.3)
        return units * bonus - SENTENCE_COST, False
    return -LINE_COST - min(units, 10.0) * 0.2, False


def best_run(scores: list[float]) -> tuple[int, int]:
    """Half-open [start, end) of the contiguous run with the largest score sum (Kadane)."""
    best, best_span = 0.0, (0, 0)
    total, start = 0.0, 0
    for i, s in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += s
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def _shingle_list(line: str) -> list[tuple[str, ...]]:
    toks = _TOKEN.findall(line)
    return list(zip(*(toks[i:] for i in range(_SHINGLE)), strict=False))  # ragged on purpose


@dataclass(slots=True)
class _Shingles:
    """A block's shingles, computed once per page: as the outer text (the ordered list) and as
    the inner one (the set); ``wraps`` is asked about each block up to 2 × the window times."""

    seq: list[tuple[str, ...]]
    set: frozenset[tuple[str, ...]]

    @classmethod
    def of(cls, text: str) -> _Shingles:
        seq = _shingle_list(text)
        return cls(seq, frozenset(seq))


def _wraps(outer: _Shingles, inner: _Shingles) -> bool:
    inner_set, outer_list = inner.set, outer.seq
    if len(inner_set) < 8 or len(outer_list) <= len(inner_set):
        return False
    # Upper bound on the hits below: the outer list's repeats plus the inner shingles it
    # shares. Counted down per missing inner shingle, so a pair of paragraphs that shares
    # (almost) nothing stops after about a tenth of the inner set.
    need = _REPEAT_COVERAGE * len(inner_set)
    bound = len(outer_list) - len(outer.set) + len(inner_set)
    outer_set = outer.set
    for sh in inner_set:
        if sh not in outer_set:
            bound -= 1
            if bound < need:
                return False
    hits = [i for i, sh in enumerate(outer_list) if sh in inner_set]
    if len(hits) < _REPEAT_COVERAGE * len(inner_set):
        return False
    return hits[0] >= _MIN_WRAP and len(outer_list) - 1 - hits[-1] >= _MIN_WRAP


def wraps(outer: str, inner: str) -> bool:
    """True when ``outer`` restates ``inner`` with extra words on both sides: the shape of a
    photo caption or teaser that quotes the lead ("<date>, <lead>. Photo shows …")."""
    return _wraps(_Shingles.of(outer), _Shingles.of(inner))


def repeated_by_later(texts: list[str], keep: list[int]) -> set[int]:
    """Indexes of kept blocks that a later kept block restates inside a longer text (a
    caption or teaser quoting the lead): the later one, inside the body, is the one kept.

    Each block's shingles are computed once (not once per pair): linear in page length."""
    shingles: dict[int, _Shingles] = {}

    def of(i: int) -> _Shingles:
        got = shingles.get(i)
        if got is None:
            got = shingles[i] = _Shingles.of(texts[i])
        return got

    doomed: set[int] = set()
    for pos, a in enumerate(keep[:_REPEAT_WINDOW]):
        outer = of(a)
        if len(outer.seq) <= 8:  # cannot wrap an inner text of >= 8 distinct shingles
            continue
        if any(_wraps(outer, of(b)) for b in keep[pos + 1 : pos + 1 + _REPEAT_WINDOW]):
            doomed.add(a)
    return doomed


@dataclass(frozen=True, slots=True)
class BodySpan:
    """The chosen article lines (indexes into the page lines) and where the run starts."""

    kept: list[int]
    start: int
    end: int


def _is_prose(line: str, counts: Counter[str]) -> bool:
    return line_verdict(line, counts)[0] > 0


def prose_bounds(lines: list[str]) -> tuple[int, int]:
    """Half-open span from the first to the last prose-scoring line: trims the furniture that
    a main-content extractor leaves above and below the article without touching its inside.
    Scans inwards from both ends, so the middle of a long article is never scored."""
    counts = Counter(lines)
    first = next((i for i, line in enumerate(lines) if _is_prose(line, counts)), None)
    if first is None:
        return (0, 0)
    last = next(i for i in range(len(lines) - 1, first - 1, -1) if _is_prose(lines[i], counts))
    return (first, last + 1)


def soft_wrapped_blocks(lines: list[str]) -> list[list[int]]:
    """Group lines that a hard line break split mid-sentence (<br> wrapping): a line that
    ends without final punctuation followed by one starting in lower case continues it."""
    blocks: list[list[int]] = []
    for i, line in enumerate(lines):
        if blocks and line[:1].islower() and not _SENTENCE_END.search(lines[i - 1]):
            blocks[-1].append(i)
        else:
            blocks.append([i])
    return blocks


def find_body(lines: list[str]) -> BodySpan:
    """Pick the article lines out of a page's lines (already normalized, non-empty)."""
    blocks = soft_wrapped_blocks(lines)
    texts = [lines[b[0]] if len(b) == 1 else " ".join(lines[i] for i in b) for b in blocks]
    counts = Counter(texts)
    verdicts = [line_verdict(text, counts) for text in texts]
    first, last = best_run([score for score, _ in verdicts])
    kept_blocks = [b for b in range(first, last) if not verdicts[b][1]]
    doomed = repeated_by_later(texts, kept_blocks)
    kept = [i for b in kept_blocks if b not in doomed for i in blocks[b]]
    if not kept:
        return BodySpan([], 0, 0)
    return BodySpan(kept, blocks[first][0], blocks[last - 1][-1] + 1)
