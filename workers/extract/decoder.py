"""Run-time CRF: the trained crfsuite weights regrouped per token *type*, decoded without crfsuite.

Why: python-crfsuite needs every token's feature strings, and building and converting them was
most of the extractor's time. A token's features depend only on its own and its neighbours'
(surface, POS), so the weights can be summed once per type: each type gets a block of 5 x L
scores (its own state score, and what it adds as the -1, +1, -2, +2 neighbour), and a sentence
is scored by adding five blocks per token, then Viterbi. The compiled `_viterbi` module does
that in C; `PyDecoder` is its pure-Python twin (same results, used when the module is missing).

The regrouping mirrors `features.token_pieces` template by template (`TEMPLATES` below); the
export refuses a model with a template it does not know, and tests/extract checks that labels
agree with crfsuite's. Both files are written by `python -m workers.extract.train`.
"""

from __future__ import annotations

import marshal
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from workers.extract.features import NEVER_IN_NAME, lex_tags, shape
from workers.extract.lexicon import LEX_CLASSES
from workers.extract.model import bio_spans
from workers.extract.tokens import Fill

TABLES_FILE = "ner.bin"
FORMAT = 1

# crfsuite attribute template -> (component group, position); positions as in the C module:
# 0 own, 1 as previous token, 2 as next token, 3 as the token two before, 4 two after.
TEMPLATES: dict[str, tuple[str, int]] = {
    "w": ("W", 0), "-1w": ("W", 1), "+1w": ("W", 2), "+2w": ("W", 4),
    "p": ("POWN", 0), "p4": ("P4", 0),
    "-1p": ("PCTX", 1), "+1p": ("PCTX", 2), "-2p": ("PCTX", 3), "+2p": ("PCTX", 4),
    "sh": ("SH", 0), "-1sh": ("SH", 1), "+1sh": ("SH", 2), "-2sh": ("SH", 3),
    "len": ("LEN", 0),
    "s1": ("S1", 0), "-1s1": ("S1", 1),
    "f1": ("F1", 0), "+1f1": ("F1", 2),
    "s2": ("S2", 0),
    "lex": ("LEX", 0), "-1lex": ("LEX", 1), "+1lex": ("LEX", 2), "+2lex": ("LEX", 4),
}
# The sentence-boundary sentinel's pieces (features._BOS): one component of their own.
SENTINEL_ATTRS = {"-1w=BOS": 1, "+1w=EOS": 2, "-2w=BOS": 3, "+2w=EOS": 4}
NPOS = 5
F_NEVER, F_END_AFTER, F_BREAK = 1, 2, 4


class Decoder(Protocol):
    def add_type(self, flags: int, components: Sequence[int], /) -> int: ...
    def tag(self, type_ids: Sequence[int], /) -> bytes: ...
    def n_types(self) -> int: ...
    def block(self, type_id: int, /) -> list[float]: ...
    def set_bio(self, kinds: bytes, tags: tuple[str | None, ...], /) -> None: ...
    def tag_spans(self, type_ids: Sequence[int], /) -> list[tuple[int, int, str]]: ...


# --- reading crfsuite's model file (exact weights; tagger.info() rounds them to 6 digits) -------

def _cqdb_strings(b: bytes, off: int) -> list[str]:
    """The id -> string table of a crfsuite CQDB chunk."""
    cid, _, _, _, bwd_size, bwd_off = struct.unpack_from("<4sIIIII", b, off)
    if cid != b"CQDB":
        raise ValueError("not a crfsuite model (CQDB chunk missing)")
    out: list[str] = []
    for i in range(bwd_size):
        (rec,) = struct.unpack_from("<I", b, off + bwd_off + 4 * i)
        rid, ksize = struct.unpack_from("<iI", b, off + rec)
        if rec == 0 or rid != i:
            raise ValueError("unexpected CQDB layout")
        out.append(b[off + rec + 8:off + rec + 7 + ksize].decode("utf-8"))
    return out


def read_crfsuite(path: Path) -> tuple[list[str], dict[str, dict[int, float]], list[float]]:
    """(labels, {attribute: {label id: weight}}, transitions L*L) from a crfsuite CRF1d file."""
    b = path.read_bytes()
    magic, _, kind, _, _, n_labels, _, off_f, off_l, off_a, _, _ = struct.unpack_from(
        "<4sI4sIIIIIIIII", b, 0)
    if magic != b"lCRF" or kind != b"FOMC":
        raise ValueError(f"{path}: not a crfsuite CRF1d model")
    labels = _cqdb_strings(b, off_l)
    attrs = _cqdb_strings(b, off_a)
    chunk, _, n_feat = struct.unpack_from("<4sII", b, off_f)
    if chunk != b"FEAT" or len(labels) != n_labels:
        raise ValueError(f"{path}: unexpected layout")
    state: dict[str, dict[int, float]] = {}
    trans = [0.0] * (n_labels * n_labels)
    for kind_, src, dst, w in struct.iter_unpack("<IIId", b[off_f + 12:off_f + 12 + 20 * n_feat]):
        if kind_ == 0:
            state.setdefault(attrs[src], {})[dst] = w
        else:
            trans[src * n_labels + dst] = w
    return labels, state, trans


def export_tables(crf_path: Path, out: Path) -> None:
    """Regroup a crfsuite model's weights into per-template components; write them (marshal)."""
    labels, state, trans = read_crfsuite(crf_path)
    n_labels = len(labels)
    groups: dict[str, dict[str, dict[int, float]]] = {}  # group -> value -> slot -> weight
    sentinel: dict[int, float] = {}
    for attr, weights in state.items():
        if attr in SENTINEL_ATTRS:
            base = SENTINEL_ATTRS[attr] * n_labels
            for y, w in weights.items():
                sentinel[base + y] = sentinel.get(base + y, 0.0) + w
        template, eq, value = attr.partition("=")
        if template == "-2w" and attr in SENTINEL_ATTRS:
            continue  # only the sentinel has this template
        if not eq or template not in TEMPLATES:
            raise ValueError(f"feature template {template!r} is unknown to the decoder")
        group, position = TEMPLATES[template]
        slots = groups.setdefault(group, {}).setdefault(value, {})
        for y, w in weights.items():
            slot = position * n_labels + y
            slots[slot] = slots.get(slot, 0.0) + w
    comp_off = array("I", [0, 0])  # component 0 is empty
    ent_slot, ent_w = array("H"), array("d")

    def add(slots: dict[int, float]) -> int:
        for slot in sorted(slots):
            ent_slot.append(slot)
            ent_w.append(slots[slot])
        comp_off.append(len(ent_slot))
        return len(comp_off) - 2

    sentinel_id = add(sentinel)
    maps = {g: {v: add(s) for v, s in sorted(vals.items())} for g, vals in sorted(groups.items())}
    tables = {
        "format": FORMAT, "labels": labels, "trans": array("d", trans).tobytes(),
        "comp_off": comp_off.tobytes(), "ent_slot": ent_slot.tobytes(),
        "ent_w": ent_w.tobytes(), "sentinel": sentinel_id, "maps": maps,
        "byteorder": sys.byteorder,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(marshal.dumps(tables))


def tables_path() -> Path:
    """Where the shipped tables live (inside the package, next to ner.crf)."""
    return Path(__file__).with_name("data") / TABLES_FILE


# --- decoders --------------------------------------------------------------------------------

class PyDecoder:
    """Pure-Python twin of `_viterbi.Decoder` (same arguments, same labels; much slower)."""

    def __init__(self, n_labels: int, o_label: int, trans: bytes, comp_off: bytes,
                 ent_slot: bytes, ent_w: bytes) -> None:
        self.L = n_labels
        self.o = o_label
        t = array("d", trans)
        self.trans = [list(t[i * n_labels:(i + 1) * n_labels]) for i in range(n_labels)]
        self.comp_off = array("I", comp_off)
        self.ent_slot = array("H", ent_slot)
        self.ent_w = array("d", ent_w)
        self.blocks: list[list[list[float]]] = []  # type -> position -> label scores
        self.flags: list[int] = []

    def add_type(self, flags: int, components: Sequence[int], /) -> int:
        L = self.L
        blk = [0.0] * (NPOS * L)
        for c in components:
            for e in range(self.comp_off[c], self.comp_off[c + 1]):
                blk[self.ent_slot[e]] += self.ent_w[e]
        self.blocks.append([blk[p * L:(p + 1) * L] for p in range(NPOS)])
        self.flags.append(flags)
        return len(self.flags) - 1

    def n_types(self) -> int:
        return len(self.flags)

    def block(self, type_id: int, /) -> list[float]:
        return [x for row in self.blocks[type_id] for x in row]

    def _viterbi(self, ids: Sequence[int]) -> list[int]:
        n, blocks, rng = len(ids), self.blocks, range(self.L)
        sent = blocks[0]
        state: list[list[float]] = []
        for t, tid in enumerate(ids):
            own = blocks[tid][0]
            if self.flags[tid] & F_NEVER:
                state.append(own)
                continue
            p1 = (blocks[ids[t - 1]] if t >= 1 else sent)[1]
            n1 = (blocks[ids[t + 1]] if t + 1 < n else sent)[2]
            p2 = (blocks[ids[t - 2]] if t >= 2 else sent)[3]
            n2 = (blocks[ids[t + 2]] if t + 2 < n else sent)[4]
            state.append([own[y] + p1[y] + n1[y] + p2[y] + n2[y] for y in rng])
        score = list(state[0])
        back: list[list[int]] = [[]]
        for t in range(1, n):
            cur, bk = [], []
            for j in rng:
                best, arg = -sys.float_info.max, 0
                for i in rng:
                    s = score[i] + self.trans[i][j]
                    if best < s:
                        best, arg = s, i
                bk.append(arg)
                cur.append(best + state[t][j])
            score = cur
            back.append(bk)
        best, y = -sys.float_info.max, 0
        for i in rng:
            if best < score[i]:
                best, y = score[i], i
        out = [0] * n
        for t in range(n - 1, -1, -1):
            out[t] = y
            y = back[t][y] if t else y
        return out

    def set_bio(self, kinds: bytes, tags: tuple[str | None, ...], /) -> None:
        self.bio_names = [("O" if k == 0 else ("B-" if k == 1 else "I-") + str(t))
                          for k, t in zip(kinds, tags, strict=True)]

    def tag_spans(self, type_ids: Sequence[int], /) -> list[tuple[int, int, str]]:
        labels = self.tag(type_ids)
        spans: list[tuple[int, int, str]] = []
        start = 0
        for i, tid in enumerate([*type_ids, -1]):
            f = self.flags[tid] if tid >= 0 else F_BREAK
            end = i + 1 if f & F_END_AFTER else i
            if f & (F_BREAK | F_END_AFTER):
                names = [self.bio_names[y] for y in labels[start:end]]
                spans += ((start + a, start + b, t) for a, b, t in bio_spans(names))
                start = i + 1
        return spans

    def tag(self, type_ids: Sequence[int], /) -> bytes:
        out = bytearray(len(type_ids))
        start = 0
        for i, tid in enumerate(type_ids):
            f = self.flags[tid]
            if f & F_BREAK:
                if i > start:
                    out[start:i] = bytes(self._viterbi(type_ids[start:i]))
                out[i] = self.o
                start = i + 1
            elif f & F_END_AFTER:
                out[start:i + 1] = bytes(self._viterbi(type_ids[start:i + 1]))
                start = i + 1
        if len(type_ids) > start:
            out[start:] = bytes(self._viterbi(type_ids[start:]))
        return bytes(out)


def compiled_decoder_class() -> Callable[..., Decoder] | None:
    """The C decoder if it was built (pip install -e . builds it), else None."""
    try:
        from workers.extract._viterbi import Decoder as CDecoder
    except ImportError:
        return None
    return CDecoder


# --- the tagger: token types -> type ids -> labels ------------------------------------------

PosName = Callable[[int], tuple[str, ...]]


class TypeTagger:
    """Maps (surface, POS id) to a type id once, then tags whole texts of type ids.

    `type_id` is the only per-token Python work; the first sight of a type costs a handful of
    dict lookups (the same information `features.token_pieces` turns into strings).
    """

    def __init__(self, pos_name: PosName, path: Path | None = None,
                 compiled: bool | None = None) -> None:
        t: dict[str, Any] = marshal.loads((path or tables_path()).read_bytes())
        if t.get("format") != FORMAT or t.get("byteorder") != sys.byteorder:
            raise ValueError("NER tables are stale: rebuild with python -m workers.extract.train")
        self.labels: list[str] = t["labels"]
        self.o_label = self.labels.index("O")
        cls = compiled_decoder_class() if compiled is not False else None
        if cls is None:
            if compiled:
                raise ImportError("workers.extract._viterbi is not built (pip install -e .)")
            cls = PyDecoder
        self.compiled = cls is not PyDecoder
        self.decoder: Decoder = cls(len(self.labels), self.o_label, t["trans"], t["comp_off"],
                                    t["ent_slot"], t["ent_w"])
        maps: dict[str, dict[Any, int]] = t["maps"]
        empty: dict[Any, int] = {}
        self._w, self._pown, self._p4, self._pctx = (
            maps.get(k, empty) for k in ("W", "POWN", "P4", "PCTX"))
        self._sh, self._len, self._s1, self._f1, self._s2, self._lex = (
            maps.get(k, empty) for k in ("SH", "LEN", "S1", "F1", "S2", "LEX"))
        self._pos_name = pos_name
        self._pos: dict[int, tuple[bool, tuple[int, ...], int]] = {}
        # one dict per POS id: surface -> type id
        self.types: dict[int, dict[str, int]] = {}
        if self.decoder.add_type(0, [t["sentinel"]]) != 0:
            raise RuntimeError("the sentinel must be type 0")
        self.decoder.set_bio(bytes(0 if x == "O" else 1 if x[0] == "B" else 2 for x in self.labels),
                             tuple(None if x == "O" else x[2:] for x in self.labels))
        self.type_id: Callable[[str, int], int] = self._type_id
        self.fill: Fill = self._fill
        if self.compiled:  # the C twins of new_type and _fill, over the same tables
            self.decoder.configure(  # type: ignore[attr-defined]
                self.types, self._pos_info, self._pos,
                (self._w, self._sh, self._len, self._s1, self._f1, self._s2, self._lex),
                LEX_CLASSES)
            self.type_id = self.decoder.type_id  # type: ignore[attr-defined]
            self.fill = self.decoder.typed  # type: ignore[attr-defined]

    def _type_id(self, surface: str, pos_id: int) -> int:
        """The type id of (surface, POS id), registered on first sight (pure-Python path)."""
        by_surface = self.types.get(pos_id)
        t = by_surface.get(surface) if by_surface is not None else None
        return self.new_type(surface, pos_id) if t is None else t

    def _fill(self, morphemes: Iterable[Any], surface: list[str], pos: list[int],
              ids: list[int]) -> None:
        """Append each morpheme's surface, POS id and type id (pure-Python path)."""
        types = self.types
        for m in morphemes:
            s = m.surface()
            p = m.part_of_speech_id()
            surface.append(s)
            pos.append(p)
            by_surface = types.get(p)
            t = by_surface.get(s) if by_surface is not None else None
            ids.append(self.new_type(s, p) if t is None else t)

    def _pos_info(self, pos_id: int) -> tuple[bool, tuple[int, ...], int]:
        """(never in a name, own POS components, context POS component) of a POS id."""
        got = self._pos.get(pos_id)
        if got is None:
            pos = self._pos_name(pos_id)
            p = f"{pos[0]}|{pos[1]}|{pos[2]}"
            never = pos[0] in NEVER_IN_NAME or pos[1] in NEVER_IN_NAME
            own = () if never else (self._pown.get(p, 0), self._p4.get(p + "|" + pos[3], 0))
            got = self._pos[pos_id] = (never, own, self._pctx.get(p, 0))
        return got

    def new_type(self, surface: str, pos_id: int) -> int:
        """Register a type first seen (mirror of features.token_pieces)."""
        never, pos_own, pos_ctx = self._pos_info(pos_id)
        comps = [self._w.get(surface, 0), pos_ctx]
        flags = F_NEVER if never else 0
        if surface == "。":
            flags |= F_END_AFTER
        elif "\n" in surface:
            flags |= F_BREAK
        if not never:
            n = len(surface)
            comps += pos_own
            comps += (self._sh.get(shape(surface), 0), self._len.get(str(n if n < 6 else 6), 0),
                      self._s1.get(surface[-1], 0), self._f1.get(surface[0], 0))
            if n > 2:
                comps.append(self._s2.get(surface[-2:], 0))
            for tag in lex_tags(surface):
                comps.append(self._lex.get(tag, 0))
        tid = self.decoder.add_type(flags, comps)
        by_pos = self.types.get(pos_id)
        if by_pos is None:
            by_pos = self.types[pos_id] = {}
        by_pos[surface] = tid
        return tid

    def label_names(self, labels: bytes) -> list[str]:
        """Label strings of a tag() result (for tests and debugging)."""
        names = self.labels
        return [names[y] for y in labels]
