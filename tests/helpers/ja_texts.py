"""Japanese texts that the extract tests run both implementations of a step over: names with
nested titles, ・-joined katakana, full-width and half-width forms, line breaks of every kind,
a character outside the BMP, punctuation only; plus the seed page and body when present."""

from __future__ import annotations

from pathlib import Path

SEED = Path(__file__).resolve().parents[2] / ".." / "shared" / "seed"

HARD_TEXTS = [
    "ロシアのプーチン大統領と金正恩朝鮮労働党総書記は北東アジアの安全保障について会談した。",
    "ＮＡＴＯの会合で、ﾌﾟｰﾁﾝ大統領はロシアの立場を説明した。米国務省は声明を出した。",
    "キングス・カレッジ・ロンドン(ロンドン大学)のハモン・パチェコ・パルド教授は語った。",
    "𠮷野家の話。\r\n\u3000ソウルと平壌、そして1950年の朝鮮戦争。",
    "。。\n\n。",
]


def with_seed(texts: list[str]) -> list[str]:
    """``texts`` and then the seed body and page, when ../shared/seed is there."""
    out = list(texts)
    for name in ("body.txt", "page.txt"):
        if (SEED / name).exists():
            out.append((SEED / name).read_text(encoding="utf-8"))
    return out
