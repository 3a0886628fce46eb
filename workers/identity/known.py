"""Known names: the public-fact tables of ``data/`` as lookups (no Kafka, no Sudachi).

- ``countries.tsv`` (generated from CLDR and pycountry by ``python -m workers.identity.build``)
  and ``country_names.tsv`` (press forms: 米国, 英国, 豪州 ...): every country, territory and
  region with its Japanese names; the CLDR name is the canonical one.
- ``country_abbreviations.tsv``: the one-kanji abbreviations (米, 英, 豪 ...) with the readings
  they take in compounds (read by ``workers.extract.compounds``).
- ``organizations.tsv``: ministries, parties, central banks, exchanges, international bodies
  and federations with their short forms.

A known name's key is ``TYPE:canonical`` (``LOCATION:アメリカ合衆国``, ``ORGANIZATION:日本銀行``);
every form of it (米国, 米, アメリカ; 日銀) has that key.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

DATA = Path(__file__).with_name("data")
LOCATION, ORGANIZATION = "LOCATION", "ORGANIZATION"


def _lines(name: str) -> Iterator[list[str]]:
    """Tab-separated fields of the data lines of a table (comments and blanks skipped)."""
    with open(DATA / name, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield line.split("\t")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


class Abbreviation(NamedTuple):
    """A one-kanji country abbreviation: its country key and compound readings."""

    char: str
    key: str
    readings: tuple[str, ...]


class KnownNames:
    """Every form of every known name -> (key, canonical), per type."""

    def __init__(self) -> None:
        #: (type, form) -> key
        self.keys: dict[tuple[str, str], str] = {}
        #: form -> the types it is known under (for fixing a model's type)
        self.types: dict[str, set[str]] = {}
        #: kanji -> its country abbreviation
        self.abbreviations: dict[str, Abbreviation] = {}
        #: forms worth spotting in text (organisations; countries by their common forms)
        self.spot: dict[str, str] = {}
        #: form -> its type, for forms known under one type only (``only_type``)
        self.single: dict[str, str] = {}
        self._by_key: dict[str, str] | None = None

    def add(self, kind: str, canonical: str, forms: list[str], spot: bool) -> str:
        key = f"{kind}:{nfkc(canonical)}"
        for form in [canonical, *forms]:
            form = nfkc(form)
            if not form:
                continue
            self.keys.setdefault((kind, form), key)
            self.types.setdefault(form, set()).add(kind)
            if spot and len(form) >= 2:
                self.spot.setdefault(form, kind)
        return key

    def key(self, kind: str, form: str) -> str | None:
        """The key of a known name written ``form`` with type ``kind``, else None."""
        return self.keys.get((kind, form))

    def by_key(self) -> dict[str, str]:
        """``keys`` by "TYPE:form" (the same lookups with one str: the alias book's and the
        compiled article step's), built on first use."""
        if self._by_key is None or len(self._by_key) != len(self.keys):
            self._by_key = {f"{k}:{f}": v for (k, f), v in self.keys.items()}
        return self._by_key

    def only_type(self, form: str) -> str | None:
        """The one type a known form has (None when unknown or known under several)."""
        return self.single.get(form)


def load() -> KnownNames:
    known = KnownNames()
    country_keys: dict[str, str] = {}
    press: dict[str, list[str]] = {}
    for code, names in _lines("country_names.tsv"):
        press[code] = names.split()
    for fields in _lines("countries.tsv"):
        code, canonical = fields[0], fields[1]
        others = fields[2].split() if len(fields) > 2 else []
        extra = press.get(code, [])
        # Spotted in text: the CLDR name and the press forms (the model finds the rest).
        country_keys[code] = known.add(LOCATION, canonical, extra, spot=True)
        known.add(LOCATION, canonical, others, spot=False)
    for char, code, readings in _lines("country_abbreviations.tsv"):
        key = country_keys[code]
        known.abbreviations[char] = Abbreviation(char, key, tuple(readings.split()))
        known.keys.setdefault((LOCATION, char), key)
    for fields in _lines("organizations.tsv"):
        forms = fields[1].split() if len(fields) > 1 else []
        known.add(ORGANIZATION, fields[0], forms, spot=True)
    known.single = {f: next(iter(k)) for f, k in known.types.items() if len(k) == 1}
    return known


@functools.cache
def known_names() -> KnownNames:
    """The tables, loaded once per process."""
    return load()
