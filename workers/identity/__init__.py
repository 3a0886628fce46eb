"""Entity identity: one key per real-world entity, across the ways the news writes it.

Pure code, no Kafka: the extract stage (live and ``newsflow extract``) gives every entity a
``key`` and ``canonical`` name here; the web views merge count keys through the same alias
book at read time (docs/entity-identity.md).

    rows of one article --article.group--> article keys (known names, brackets, abbreviations)
        --AliasBook.root--> keys (what earlier articles taught) ; the article's evidence
        --AliasBook.add--> the book (and, live, the ``aliases`` GlobalTable)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from workers.identity.book import AliasBook, split_key
from workers.identity.compiled import compiled_keys
from workers.identity.known import KnownNames, known_names

#: (text, type, start, end, normalized): workers.extract.EntityRow
Row = tuple[str, str, int, int, str]

__all__ = ["AliasBook", "Identity", "KnownNames", "known_names", "split_key"]


class Identity:
    """Keys for the entities of one article after another, learning as it goes.

    ``learn=False``: the book is only read (keys then depend on each article alone and the
    known-name tables, not on the order articles come in). ``on_learn`` is called with the
    entries an article added (the worker writes them to its ``aliases`` table). ``compiled``:
    None takes the compiled twin (``compiled.py``) when it was built, False the Python of
    article.py and book.py only, True requires the compiled one."""

    def __init__(
        self,
        book: AliasBook | None = None,
        learn: bool = True,
        on_learn: Callable[[list[str]], None] | None = None,
        compiled: bool | None = None,
    ) -> None:
        self.book = book if book is not None else AliasBook(compiled=compiled)
        self.learn = learn
        self.on_learn = on_learn
        self.keys = compiled_keys() if compiled is not False else None
        if compiled and self.keys is None:
            raise ImportError("workers.identity._article is not built (pip install -e .)")
        #: ``entities(text, rows) -> (records, new entries)``: the article's entities as
        #: records (``text, type, start, end, normalized, key, canonical``) and the alias-book
        #: entries it added (new ones only). The book learns from the article first, so an
        #: alias the article defines holds for the article itself. The compiled twin bound to
        #: this object (one C call a text; it reads learn, on_learn and book on each), or
        #: ``python_entities``; the first runs the second for the inputs it leaves to Python.
        self.entities: Callable[[str, Sequence[Row]], tuple[list[dict[str, Any]], list[str]]]
        self.entities = self.python_entities
        if self.keys is not None:
            known = self.book.known
            self.entities = self.keys.bind(
                self, known.by_key(), known.single, self.book.compiled_state(), self.python_entities
            )

    def python_entities(
        self, text: str, rows: Sequence[Row]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """``entities`` by article.py and book.py (the twin the compiled one is tested against)."""
        if not rows:
            return [], []
        from workers.identity.article import group, mention_of  # only this path needs them

        book = self.book
        known = book.known
        evidence: Sequence[str]
        if len(rows) == 1:  # one name: no grouping (a third of news sentences)
            m = mention_of(rows[0], known)
            kinds, keys, evidence = [m.kind], [m.key], m.evidence
        else:
            kinds, keys, evidence = group(text, rows, known)
        new = book.update(evidence) if self.learn and evidence else []
        if new and self.on_learn is not None:
            self.on_learn(new)
        root, cached = book.root, book.cached_root
        out: list[dict[str, Any]] = []
        append = out.append
        for (name, _, start, end, normalized), kind, key in zip(rows, kinds, keys, strict=True):
            key = cached(key) or root(key)
            append(
                {"text": name, "type": kind, "start": start, "end": end,
                 "normalized": normalized, "key": key, "canonical": key.partition(":")[2]}
            )  # fmt: skip
        return out, new
