"""Rebuild the shipped NER model: `python -m workers.extract.train [--gold FILE] [--eval]`.

Trains on ner-dev minus the held-back bucket (a hash of `curid` into 5 buckets, bucket 0 held
back) so the figures the eval command reports on that bucket are honest. Writes
workers/extract/data/ner.crf (crfsuite) and ner.bin (the same weights regrouped per token type,
what extraction tags with; see decoder.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycrfsuite

from workers.extract.features import Featurizer
from workers.extract.model import GOLD_TAG, OUTPUT_TYPE, Tagger, bio_labels, bio_spans, model_path
from workers.extract.tokens import Tokenizer
from workers.extract.weights import export_tables

REPO = Path(__file__).resolve().parents[2]
DEFAULT_GOLD = REPO / ".." / "shared" / "data" / "ner-dev" / "ner-dev.json"
HOLDOUT_BUCKETS = 5
HOLDOUT_BUCKET = 0
PARAMS = {"c1": 0.05, "c2": 0.01, "max_iterations": 200, "feature.possible_transitions": True}


def bucket(curid: object) -> int:
    """Stable bucket of an article id (same article -> same side of the split)."""
    return int(hashlib.md5(str(curid).encode()).hexdigest(), 16) % HOLDOUT_BUCKETS


def split(data: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(train, held back) by curid bucket."""
    train = [d for d in data if bucket(d["curid"]) != HOLDOUT_BUCKET]
    held = [d for d in data if bucket(d["curid"]) == HOLDOUT_BUCKET]
    return train, held


def load(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        data: list[dict[str, Any]] = json.load(f)
    return data


def _examples(
    data: list[dict[str, Any]], tok: Tokenizer, feat: Featurizer
) -> Iterator[tuple[list[list[str]], list[str]]]:
    for d in data:
        tokens = tok(d["text"])
        ents = [(e["span"][0], e["span"][1], GOLD_TAG[e["type"]]) for e in d["entities"]]
        yield feat(tokens), bio_labels(tokens, ents)


def train(data: list[dict[str, Any]], out: Path, params: dict[str, Any] | None = None) -> None:
    """Fit the CRF on `data` and write it to `out`."""
    tok = Tokenizer()
    feat = Featurizer(tok.pos_name)
    trainer = pycrfsuite.Trainer(verbose=False)
    for rows, labels in _examples(data, tok, feat):
        trainer.append(rows, labels)
    trainer.set_params({**PARAMS, **(params or {})})
    out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(out))
    export_tables(out, out.with_suffix(".bin"))  # ner.crf -> ner.bin


def quick_eval(data: list[dict[str, Any]], path: Path) -> dict[str, float]:
    """Typed exact-span F1 of the bare model (no rules) on `data`, for tuning only."""
    tok = Tokenizer()
    feat = Featurizer(tok.pos_name)
    tagger = Tagger(path)
    c: Counter[str] = Counter()
    for d in data:
        tokens = tok(d["text"])
        pred = set()
        for a, b, tag in bio_spans(tagger(feat(tokens))):
            if tag in OUTPUT_TYPE:
                pred.add((tokens[a].start, tokens[b - 1].end, OUTPUT_TYPE[tag]))
        gold = {
            (e["span"][0], e["span"][1], OUTPUT_TYPE[GOLD_TAG[e["type"]]])
            for e in d["entities"]
            if GOLD_TAG[e["type"]] in OUTPUT_TYPE
        }
        for cls in ("PERSON", "ORGANIZATION", "LOCATION", ""):
            g = {x for x in gold if not cls or x[2] == cls}
            p = {x for x in pred if not cls or x[2] == cls}
            c[cls + "tp"] += len(g & p)
            c[cls + "np"] += len(p)
            c[cls + "ng"] += len(g)
    res = {}
    for cls in ("PERSON", "ORGANIZATION", "LOCATION", ""):
        tp, np_, ng = c[cls + "tp"], c[cls + "np"], c[cls + "ng"]
        res[cls or "typed"] = 2 * tp / (np_ + ng) if np_ + ng else 0.0
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    ap.add_argument("--out", type=Path, default=None, help="default: the shipped model path")
    ap.add_argument("--eval", action="store_true", help="print bare-model F1 on the held-back part")
    ap.add_argument("--param", action="append", default=[], help="crfsuite param k=v (tuning)")
    a = ap.parse_args(argv)
    train_part, held = split(load(a.gold))
    out = a.out or model_path()
    params = {k: float(v) for k, v in (p.split("=", 1) for p in a.param)}
    t0 = time.perf_counter()
    train(train_part, out, params)
    print(
        f"trained on {len(train_part)} sentences (held back {len(held)}) in "
        f"{time.perf_counter() - t0:.1f} s -> {out}",
        file=sys.stderr,
    )
    if a.eval:
        print(json.dumps(quick_eval(held, out), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
