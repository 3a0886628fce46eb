"""A name's acronym in brackets right after it is a mention of the same type:
石油輸出国機構（OPEC）, 日本電信電話(NTT). The model often leaves the bracketed acronym out;
``workers.identity`` then joins the two (the bracket defines the alias)."""

from __future__ import annotations

import re
import unicodedata

#: (text, type, start, end, normalized), as entities.EntityRow
Row = tuple[str, str, int, int, str]
_ACRONYM = re.compile(r"[（(]([A-ZＡ-Ｚ][A-Z0-9&\-Ａ-Ｚ０-９＆－]{1,9})[）)]")


def bracketed_acronyms(text: str, rows: list[Row]) -> list[Row]:
    """``rows`` with the acronyms in brackets right after a name added (typed as the name)."""
    if "(" not in text and "（" not in text:
        return rows
    add: list[Row] = []
    ends = {r[3]: r for r in rows}
    taken = {r[2] for r in rows}
    for m in _ACRONYM.finditer(text):
        before = ends.get(m.start())
        if before is not None and m.start(1) not in taken:
            name = m.group(1)
            add.append((name, before[1], m.start(1), m.end(1), unicodedata.normalize("NFKC", name)))
    if not add:
        return rows
    return sorted(rows + add, key=lambda r: (r[2], r[3]))
