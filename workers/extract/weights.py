"""Export a trained crfsuite model as the run-time tables of decoder.py (ner.crf -> ner.bin).

The weights are read from crfsuite's binary file (exact; tagger.info() rounds them to six
digits) and regrouped by feature template into components: one per value of a template group
(all of a surface's w/-1w/+1w/+2w weights are one component, and so on), each a sparse list of
(position * L + label, weight). A token type's block is then the sum of a handful of components
(decoder.TypeTagger.new_type, and its C twin). Run by `python -m workers.extract.train`.
"""

from __future__ import annotations

import marshal
import struct
import sys
from array import array
from pathlib import Path

from workers.extract.decoder import FORMAT

# crfsuite attribute template -> (component group, position); positions as in the C module:
# 0 own, 1 as previous token, 2 as next token, 3 as the token two before, 4 two after.
TEMPLATES: dict[str, tuple[str, int]] = {
    "w": ("W", 0),
    "-1w": ("W", 1),
    "+1w": ("W", 2),
    "+2w": ("W", 4),
    "p": ("POWN", 0),
    "p4": ("P4", 0),
    "-1p": ("PCTX", 1),
    "+1p": ("PCTX", 2),
    "-2p": ("PCTX", 3),
    "+2p": ("PCTX", 4),
    "sh": ("SH", 0),
    "-1sh": ("SH", 1),
    "+1sh": ("SH", 2),
    "-2sh": ("SH", 3),
    "len": ("LEN", 0),
    "s1": ("S1", 0),
    "-1s1": ("S1", 1),
    "f1": ("F1", 0),
    "+1f1": ("F1", 2),
    "s2": ("S2", 0),
    "lex": ("LEX", 0),
    "-1lex": ("LEX", 1),
    "+1lex": ("LEX", 2),
    "+2lex": ("LEX", 4),
}
# The sentence-boundary sentinel's pieces (features._BOS): one component of their own.
SENTINEL_ATTRS = {"-1w=BOS": 1, "+1w=EOS": 2, "-2w=BOS": 3, "+2w=EOS": 4}


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
        out.append(b[off + rec + 8 : off + rec + 7 + ksize].decode("utf-8"))
    return out


def read_crfsuite(path: Path) -> tuple[list[str], dict[str, dict[int, float]], list[float]]:
    """(labels, {attribute: {label id: weight}}, transitions L*L) from a crfsuite CRF1d file."""
    b = path.read_bytes()
    magic, _, kind, _, _, n_labels, _, off_f, off_l, off_a, _, _ = struct.unpack_from(
        "<4sI4sIIIIIIIII", b, 0
    )
    if magic != b"lCRF" or kind != b"FOMC":
        raise ValueError(f"{path}: not a crfsuite CRF1d model")
    labels = _cqdb_strings(b, off_l)
    attrs = _cqdb_strings(b, off_a)
    chunk, _, n_feat = struct.unpack_from("<4sII", b, off_f)
    if chunk != b"FEAT" or len(labels) != n_labels:
        raise ValueError(f"{path}: unexpected layout")
    state: dict[str, dict[int, float]] = {}
    trans = [0.0] * (n_labels * n_labels)
    for kind_, src, dst, w in struct.iter_unpack("<IIId", b[off_f + 12 : off_f + 12 + 20 * n_feat]):
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
        "format": FORMAT,
        "labels": labels,
        "trans": array("d", trans).tobytes(),
        "comp_off": comp_off.tobytes(),
        "ent_slot": ent_slot.tobytes(),
        "ent_w": ent_w.tobytes(),
        "sentinel": sentinel_id,
        "maps": maps,
        "byteorder": sys.byteorder,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(marshal.dumps(tables))
