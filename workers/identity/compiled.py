"""The compiled twin of the article step (``_article.c``), when the package was built with it.

Optional, as ``workers.extract._viterbi`` is: without a C compiler the package installs without
it and ``workers.identity`` runs article.py and book.py alone, with the same keys (tests compare
both on random articles and the dev sets: tests/identity/test_compiled.py).
"""

from __future__ import annotations

import functools
import unicodedata
from typing import Any

from workers.identity.names import (
    GENERIC_WORDS,
    MAX_ABBREVIATED_RUN,
    MAX_SHORT,
    ORG_TAIL_ABBREVIATIONS,
    ORG_TAIL_AS_PREFIX,
    ORG_TAILS,
)


@functools.cache
def compiled_keys() -> Any | None:
    """The C ``Keys`` over the tables of names.py (one per process), or None when not built.

    Its methods return None for inputs they leave to Python (the caller then runs the Python
    twin). ``entities(text, rows, by_key, single, learn, book state)`` is all of
    ``Identity.entities`` (the article step, the book's learning, roots and records; by_key is
    ``KnownNames.by_key()``, the book state ``AliasBook.compiled_state()``);
    ``article(text, rows, by_key, single)`` is ``article.group`` (and ``mention_of`` for a
    one-row article) as (kinds, keys, evidence); ``update(entries, book state)`` is
    ``AliasBook.update``; ``derived_shorts(key)`` and ``abbreviates(short, full, kind)`` are
    book.derived_shorts and names.abbreviates."""
    try:
        from workers.identity._article import Keys
    except ImportError:
        return None
    return Keys(
        unicodedata.normalize,
        ORG_TAILS,
        tuple(ORG_TAIL_AS_PREFIX.items()),
        tuple((tail, tuple(abbrs)) for tail, abbrs in ORG_TAIL_ABBREVIATIONS.items()),
        GENERIC_WORDS,
        MAX_SHORT,
        MAX_ABBREVIATED_RUN,
    )
