"""Bounds on a page's markup, applied before lexbor parses it: parsing stays linear in size.

Why: lexbor follows the HTML tree-construction algorithm, several steps of which walk the stack
of open elements, the list of active formatting elements or a tag's attributes once per token.
On hostile or broken pages that is quadratic or worse: deep nesting, unclosed formatting
elements, a tag with thousands of attributes, long option lists (docs/benchmark.md,
"Adversarial pages" and "Measurements behind the code"). Browsers bound the same things
(Blink flattens the tree past 512 levels); lexbor does not, and its work happens inside one C
call that nothing can interrupt but killing the process (``workers.runtime.guard``).

``bound_markup`` tokenizes the page once in C (``_markup.c``) with a model of lexbor's stack that
never pops more than lexbor would, so its depth bounds lexbor's from above, and cuts the start
tags (with as many matching end tags) and attributes past the bounds below. Text is never cut.
A page within the bounds comes back unchanged (the same object): every page of cleaning-dev
does, its deepest is 37 levels.

The scanner is an optional extension, like the entity decoder: where pip finds no C compiler
the package installs without it, pages go to lexbor unbounded, and the worker says so once;
a hostile page is then stopped only by the stage's time bound (``NEWSFLOW_STAGE_TIMEOUT_S``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

log = logging.getLogger("newsflow.clean")

#: Said once per process when the C scanner is missing (see the module docstring).
NOT_COMPILED_WARNING = (
    "newsflow: the compiled markup scanner (workers/clean/_markup.c) was not built, so pages "
    "reach the HTML parser without its linear-time bounds (a hostile page is stopped only by "
    "NEWSFLOW_STAGE_TIMEOUT_S); install a C compiler (Debian: apt-get install gcc) and "
    "reinstall newsflow"
)


def _compiled_bound() -> Callable[..., Any] | None:
    try:
        from workers.clean._markup import bound as compiled
    except ImportError:  # installed without a C compiler
        return None
    return cast(Callable[..., Any], compiled)


bound = _compiled_bound()
_warned = False

#: Open elements at most (the implied <html> and <body> included). The structural extractor
#: flattens past 200 levels anyway (``readable.MAX_DEPTH``); lexbor's per-token walks are then
#: short enough that a page at the size limit, all tags, parses in well under a second.
MAX_DEPTH = 256
#: Formatting elements (b, i, font, a, ...) open or waiting to be reconstructed after the
#: last table cell/marker; each text run may re-open all of them.
MAX_FORMATTING = 8
#: <option>/<optgroup> tags in one <select> (lexbor's select handling is quadratic in them).
MAX_OPTIONS = 1000
#: Attributes of one tag (lexbor checks each new attribute against the ones before it).
MAX_ATTRIBUTES = 256


@dataclass(frozen=True, slots=True)
class Bounded:
    """A page after ``bound_markup``: the markup lexbor gets and what was cut from it."""

    html: str
    elements_cut: int
    attributes_cut: int


def bound_markup(
    html: str,
    max_depth: int = MAX_DEPTH,
    max_formatting: int = MAX_FORMATTING,
    max_options: int = MAX_OPTIONS,
    max_attributes: int = MAX_ATTRIBUTES,
) -> Bounded:
    """``html`` with the tags and attributes past the bounds cut (text kept); unchanged, and
    no copy made, when it is within them (or when the C scanner was not built)."""
    global _warned
    if bound is None:
        if not _warned:
            _warned = True
            log.warning(NOT_COMPILED_WARNING)
        return Bounded(html, 0, 0)
    cuts, elements, attributes = bound(html, max_depth, max_formatting, max_options, max_attributes)
    if not cuts:
        return Bounded(html, 0, 0)
    pieces = []
    kept_from = 0
    for k in range(0, len(cuts), 3):
        start, end, space = cuts[k : k + 3]
        pieces.append(html[kept_from:start])
        if space:  # right after a '<' of text, which must not meet what follows the cut
            pieces.append(" ")
        kept_from = end
    pieces.append(html[kept_from:])
    return Bounded("".join(pieces), elements, attributes)
