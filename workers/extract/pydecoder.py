"""Pure-Python twin of the compiled decoder (workers/extract/_viterbi.c).

Used when the C module is not built (same labels, slower: ``decoder.PY_DECODER_SLOWDOWN``, said
once in a warning) and by
tests that pin both to crfsuite's labels. Kept out of decoder.py so start-up does not compile it.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence

from workers.extract.model import bio_spans
from workers.extract.typeflags import F_BREAK, F_END_AFTER, F_NEVER, NPOS


class PyDecoder:
    """Pure-Python twin of `_viterbi.Decoder` (same arguments, same labels; much slower)."""

    def __init__(
        self,
        n_labels: int,
        o_label: int,
        trans: bytes,
        comp_off: bytes,
        ent_slot: bytes,
        ent_w: bytes,
    ) -> None:
        self.L = n_labels
        self.o = o_label
        t = array("d", trans)
        self.trans = [list(t[i * n_labels : (i + 1) * n_labels]) for i in range(n_labels)]
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
        self.blocks.append([blk[p * L : (p + 1) * L] for p in range(NPOS)])
        self.flags.append(flags)
        return len(self.flags) - 1

    def n_types(self) -> int:
        return len(self.flags)

    def forget(self) -> None:
        del self.blocks[1:], self.flags[1:]

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
        self.bio_names = [
            ("O" if k == 0 else ("B-" if k == 1 else "I-") + str(t))
            for k, t in zip(kinds, tags, strict=True)
        ]

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
                out[start : i + 1] = bytes(self._viterbi(type_ids[start : i + 1]))
                start = i + 1
        if len(type_ids) > start:
            out[start:] = bytes(self._viterbi(type_ids[start:]))
        return bytes(out)
