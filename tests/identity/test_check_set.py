"""Identity on articles written for newsflow with entities identity-dev never shows
(bench/identity/articles.py): B-cubed over the gold mentions, as ../shared/tools/identity_eval.py
scores it, read in order through one alias book as ``newsflow extract`` does."""

from __future__ import annotations

import importlib.util
from collections import Counter, defaultdict
from pathlib import Path

from workers.extract import get_extractor
from workers.identity import Identity

ARTICLES = Path(__file__).resolve().parents[2] / "bench" / "identity" / "articles.py"


def load_set() -> list[dict]:
    spec = importlib.util.spec_from_file_location("articles", ARTICLES)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built: list[dict] = module.build()
    return built


def bcubed(gold: list[dict], keys: dict[str, dict[tuple[int, int], str]]) -> tuple[float, float]:
    """(B-cubed F1, keys per multi-mention entity), the scorer's definitions."""
    members: dict[str, list] = defaultdict(list)
    pairs = []
    for n, g in enumerate(gold):
        spans = set()
        for k, m in enumerate(g["mentions"]):
            span = tuple(m["span"])
            spans.add(span)
            key = keys[g["id"]].get(span) or f"MISS:{n}:{k}"
            members[key].append(m["cluster"])
            pairs.append((m["cluster"], key))
        for span, key in keys[g["id"]].items():
            if span not in spans:
                members[key].append(None)
    size = Counter(c for c, _ in pairs)
    p = sum(sum(x == c for x in members[k]) / len(members[k]) for c, k in pairs) / len(pairs)
    r = sum(sum(x == c for x in members[k]) / size[c] for c, k in pairs) / len(pairs)
    per: dict[str, set] = defaultdict(set)
    for cluster, key in pairs:
        per[cluster].add(key)
    multi = [c for c in size if size[c] > 1]
    return 2 * p * r / (p + r), sum(len(per[c]) for c in multi) / len(multi)


def test_identity_carries_over_to_other_entities() -> None:
    gold = load_set()
    extract, identity = get_extractor(), Identity()
    keys = {}
    for g in gold:
        ents, _ = identity.entities(g["text"], extract.rows(g["text"]))
        keys[g["id"]] = {(e["start"], e["end"]): e["key"] for e in ents}
    f1, per_entity = bcubed(gold, keys)
    assert f1 >= 0.95, f1
    assert per_entity <= 1.1, per_entity
