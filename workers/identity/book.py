"""The alias book: what articles taught about names, and the key each name resolves to.

Evidence comes as entries (strings, the keys of the worker's ``aliases`` GlobalTable):

- ``A<TAB>alias_key<TAB>key``: an article wrote the entity ``key`` also as ``alias_key``
  (a bracket 日本電信電話（NTT）, or a short form beside its full form: 日産自動車 ... 日産);
- ``N<TAB>key``: an article named the entity in full (岸田文雄, トヨタ自動車), so a later short
  form of it (岸田, トヨタ) can be recognised without both in one article.

``root(key)`` is the key a name counts under now. It is a function of the *set* of entries only
(never of their order), so every worker that has read the same entries agrees, a replay that
adds an entry twice changes nothing, and ``newsflow extract`` agrees with the live pipeline for
the same input order. Rules, first that applies:

1. a known name (``known.py``: countries, ministries, parties ...) is its table key;
2. a name with alias entries takes the root of their targets, when they all agree;
3. a name that is the short form of known full names (``derived``: a surname, a ・ part, a
   prefix in kana or latin before a generic company word (トヨタ of トヨタ自動車; a kanji
   prefix is mostly a place: 東京 of 東京電力, so only an article that writes both teaches it),
   a kanji abbreviation, JR + region) takes their root, when they all agree;
4. else the name is its own key. An ambiguous short name (two different entities fit) keeps its
   own key.

Roots are cached; an entry invalidates only the names it can change (the alias, or the short
forms derived from a new full name) and the names whose resolution passed through them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from itertools import combinations
from typing import Any

from workers.identity.compiled import compiled_keys
from workers.identity.known import KnownNames, known_names
from workers.identity.names import (
    GENERIC_WORDS,
    KATAKANA_AFTER_OTHER,
    MAX_ABBREVIATED_RUN,
    ORG_TAIL_ABBREVIATIONS,
    ORG_TAIL_AS_PREFIX,
    ORG_TAILS,
    all_kanji,
    kanji_run,
    parts,
)

PERSON, ORGANIZATION = "PERSON", "ORGANIZATION"
ALIAS, NAME = "A", "N"


_ANY_TAIL = (*ORG_TAILS, *ORG_TAIL_AS_PREFIX, *ORG_TAIL_ABBREVIATIONS)


def alias_entry(alias_key: str, key: str) -> str:
    return f"{ALIAS}\t{alias_key}\t{key}"


def name_entry(key: str) -> str:
    return f"{NAME}\t{key}"


def split_key(key: str) -> tuple[str, str]:
    kind, _, name = key.partition(":")
    return kind, name


@functools.lru_cache(maxsize=20_000)
def derived_shorts(key: str) -> frozenset[str]:
    """The keys of the short forms a full name can be written as in a later article."""
    kind, name = split_key(key)
    out: set[str] = set()
    if kind == PERSON:
        if all_kanji(name) and 3 <= len(name) <= 6:
            out.update(name[:n] for n in (2, 3) if 1 <= len(name) - n <= 3)
        ps = parts(name)
        if len(ps) > 1 and len(ps[-1]) >= 2:
            out.add(ps[-1])
    elif kind == ORGANIZATION:
        if name.endswith(_ANY_TAIL):  # one C call rules out most names
            for tail in ORG_TAILS:
                if name.endswith(tail) and len(name) - len(tail) >= 2:
                    prefix = name[: -len(tail)].rstrip("・")
                    if not all_kanji(prefix):  # トヨタ, 三菱UFJ; 東京 (電力) is mostly a place
                        out.add(prefix)
            for tail, abbr in ORG_TAIL_AS_PREFIX.items():
                if name.endswith(tail) and len(name) > len(tail):
                    out.add(abbr + name[: -len(tail)])
            for tail, abbrs in ORG_TAIL_ABBREVIATIONS.items():
                if name.endswith(tail) and len(name) > len(tail):
                    out.update(name[: -len(tail)] + a for a in abbrs)
        if not name.isascii():
            for m in KATAKANA_AFTER_OTHER.finditer(name, 2):
                out.add(name[: m.start()])
            out.update(_kanji_abbreviations(name))
    out.discard(name)
    return frozenset(f"{kind}:{s}" for s in out if len(s) >= 2 and s not in GENERIC_WORDS)


def _kanji_abbreviations(name: str) -> set[str]:
    """Abbreviations of a name's leading kanji that keep its first kanji and the first of
    later two-kanji words (the usual shape: 東京|電力 -> 東電, 国土|交通|省 -> 国交省), and a
    one-kanji last word (省, 党, 庁). Only these shapes, so a full name gives a handful of
    short forms, not every subsequence (an article that writes both teaches any other)."""
    run = kanji_run(name)
    if run < 3 or run > MAX_ABBREVIATED_RUN:
        return set()
    starts = list(range(2, run, 2))
    if run % 2 == 1 and run - 1 not in starts:
        starts.append(run - 1)
    chars = [name[i] for i in starts]
    head = name[0]
    return {
        head + "".join(picks) for size in range(1, len(chars) + 1)
        for picks in combinations(chars, size)
    }  # fmt: skip


class AliasBook:
    """Evidence entries and the roots they give; see the module docstring."""

    def __init__(self, known: KnownNames | None = None, compiled: bool | None = None) -> None:
        """``compiled=False``: derived short forms by the Python of this module only (else by
        the compiled twin when it was built, ``compiled.py``)."""
        self.known = known or known_names()
        self.entries: set[str] = set()
        self.aliases: dict[str, set[str]] = {}  # alias key -> keys it was written for
        self.names: set[str] = set()  # keys named in full
        self.derived: dict[str, set[str]] = {}  # short key -> full keys it can stand for
        self.version = 0  # bumped by every new entry
        self._roots: dict[str, str] = {}
        self._through: dict[str, set[str]] = {}  # key -> cached keys whose root passed it
        #: the cached root of a key, or None (``root`` computes it): a dict's own lookup
        self.cached_root = self._roots.get
        keys = compiled_keys() if compiled is not False else None
        self._derived_c = keys.derived_shorts if keys is not None else None
        self._state: tuple[Any, ...] | None = None

    # --- evidence ------------------------------------------------------------------------------

    def add(self, entry: str) -> bool:
        """Take one entry; False when it was known (or malformed: nothing to learn)."""
        if entry in self.entries:
            return False
        fields = entry.split("\t")
        touched: Iterable[str]
        if fields[0] == ALIAS and len(fields) == 3 and fields[1] != fields[2]:
            self.aliases.setdefault(fields[1], set()).add(fields[2])
            touched = (fields[1],)
        elif fields[0] == NAME and len(fields) == 2:
            self.names.add(fields[1])
            touched = self._derived(fields[1])
            for short in touched:
                self.derived.setdefault(short, set()).add(fields[1])
        else:
            return False
        self.entries.add(entry)
        self.version += 1
        self._invalidate(touched)
        return True

    def _derived(self, key: str) -> frozenset[str]:
        """``derived_shorts``, by the compiled twin when it was built."""
        got = self._derived_c(key) if self._derived_c is not None else None
        return got if got is not None else derived_shorts(key)

    def update(self, entries: Iterable[str]) -> list[str]:
        """Take many entries; the ones that were new."""
        known = self.entries
        return [e for e in entries if e not in known and self.add(e)]

    def compiled_state(self) -> tuple[Any, ...]:
        """The book's tables for its compiled twin (``compiled.py``: ``Keys.entities`` and
        ``Keys.update`` change them in place as ``add`` does, and give the roots ``root``
        gives; the caller adds the number of new entries to ``version``)."""
        if self._state is None:
            self._state = (
                self.entries, self.aliases, self.names, self.derived, self._roots,
                self._through, self._known(), self.root, derived_shorts,
            )  # fmt: skip
        return self._state

    def _known(self) -> dict[str, str]:
        """ "TYPE:form" -> table key of every known name."""
        return self.known.by_key()

    def _invalidate(self, keys: Iterable[str]) -> None:
        stack = list(keys)
        while stack:
            key = stack.pop()
            self._roots.pop(key, None)
            stack.extend(self._through.pop(key, ()))

    # --- resolution ----------------------------------------------------------------------------

    def root(self, key: str) -> str:
        """The key ``key`` counts under now."""
        got = self._roots.get(key)
        if got is None:
            if key not in self.aliases and key not in self.derived and key not in self._known():
                # what _resolve gives a name nothing leads from (most names), without its
                # steps: no table key, no alias, no full name it is short for
                return key  # not cached: as cheap to find again as to look up
            seen: set[str] = set()
            got = self._resolve(key, [], seen)
            self._roots[key] = got
            for node in seen:  # every name looked at: a change to any can change this root
                if node != key:
                    self._through.setdefault(node, set()).add(key)
        return got

    def _resolve(self, key: str, path: list[str], seen: set[str]) -> str:
        if key in path:
            return key  # a cycle of aliases: stop where it closes
        path.append(key)
        seen.add(key)
        nxt = self._step(key, path, seen)
        if nxt is None or nxt == key:
            return key
        return self._resolve(nxt, path, seen)

    def _step(self, key: str, path: list[str], seen: set[str]) -> str | None:
        kind, name = split_key(key)
        static = self.known.key(kind, name)
        if static is not None:
            return static
        targets = self.aliases.get(key)
        if not targets:
            targets = self.derived.get(key)
            if not targets or (kind != "LOCATION" and self.known.only_type(name) == "LOCATION"):
                return None  # 日本 is no short form of 日本銀行
        roots = {self._resolve(t, list(path), seen) for t in targets}
        roots.discard(key)
        if len(roots) != 1:
            return None  # ambiguous: two entities fit (or none besides itself)
        return roots.pop()

    def members(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Root -> the given keys that resolve to it (the read side's grouping)."""
        out: dict[str, list[str]] = {}
        for key in keys:
            out.setdefault(self.root(key), []).append(key)
        return out

    def names_of(self, root: str) -> list[str]:
        """Every name the book and the tables know for the entity ``root`` (for display)."""
        kind, canonical = split_key(root)
        out = {canonical}
        out.update(form for (k, form), key in self.known.keys.items() if key == root and k == kind)
        for alias in self.aliases:
            if self.root(alias) == root:
                out.add(split_key(alias)[1])
        for short in self.derived:
            if self.root(short) == root:
                out.add(split_key(short)[1])
        return sorted(out, key=lambda n: (n != canonical, len(n), n))
