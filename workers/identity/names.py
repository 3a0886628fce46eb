"""How two names of one type can be the same entity: pure string relations, no tables.

``abbreviates(short, full, kind)`` is the in-article test (a short form after or before its
full form in one article); the alias book (``book.py``) uses the stricter ``cross_article``
tests for names that never met in one article.
"""

from __future__ import annotations

import functools
import re

#: A short form is at most this long (the longest are katakana family names).
MAX_SHORT = 12
#: A leading kanji run longer than this gives no abbreviations (their number grows fast).
MAX_ABBREVIATED_RUN = 8


def _words(block: str) -> list[str]:
    """Whitespace-separated words of a block (keeps the long lists readable)."""
    return block.split()


# A name's ・-joined parts (katakana names, ・ or = between given and family name).
_DOTS = str.maketrans({"=": "・", "･": "・", "＝": "・"})

#: Words that end an organisation's full name and that its short form leaves out (トヨタ自動車
#: -> トヨタ, 東京電力ホールディングス -> 東京電力, 三菱UFJフィナンシャル・グループ -> 三菱UFJ).
ORG_TAILS: tuple[str, ...] = tuple(
    sorted(
        [
            "党",
            "ホールディングス",
            "ホールディング",
            "グループ",
            "フィナンシャル・グループ",
            "フィナンシャルグループ",
            "株式会社",
            "自動車",
            "自動車工業",
            "銀行",
            "証券",
            "電機",
            "電気",
            "製作所",
            "工業",
            "重工業",
            "重工",
            "商事",
            "物産",
            "製薬",
            "化学",
            "建設",
            "不動産",
            "通信",
            "放送",
            "生命",
            "生命保険",
            "損害保険",
            "保険",
            "航空",
            "鉄道",
            "電鉄",
            "電力",
            "ガス",
            "石油",
            "製鉄",
            "鉄鋼",
            "産業",
            "興業",
            "食品",
            "製菓",
            "飲料",
            "ビール",
            "百貨店",
            "通運",
            "海運",
            "汽船",
            "運輸",
            "倉庫",
            "電子",
            "精機",
            "光学",
            "新聞",
            "新聞社",
        ],
        key=len,
        reverse=True,
    )
)

#: Latin abbreviations of a full name's last word that short forms use in its place:
#: ソフトバンクグループ -> ソフトバンクG, 東京電力ホールディングス -> 東京電力HD.
ORG_TAIL_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "ホールディングス": ("HD",),
    "グループ": ("G",),
    "フィナンシャルグループ": ("FG",),
    "フィナンシャル・グループ": ("FG",),
}

#: Word abbreviations a short form makes of a full name's last word, moving it to the front:
#: 東日本旅客鉄道 -> JR東日本 (the JR companies), 日本貨物鉄道 -> JR貨物 is irregular and left out.
ORG_TAIL_AS_PREFIX: dict[str, str] = {"旅客鉄道": "JR"}


#: Generic words that end names; alone they are no short form of a name (銀行, 党, 委員会).
GENERIC_WORDS: frozenset[str] = frozenset(ORG_TAILS) | frozenset(
    _words(
        """
    省 庁 府 局 院 会 協会 連合 連盟 機構 機関 委員会 組合 財団 基金 公社 大学 学会 研究所
    本部 政府 政権 議会 裁判所 軍 隊 団 部 課 社 会社 事務所 センター
    """
    )
)


def parts(name: str) -> list[str]:
    """The ・-joined parts of a name (one part for most names)."""
    return [p for p in name.translate(_DOTS).split("・") if p]


@functools.cache
def char_kind(ch: str) -> str:
    """K kanji, H hiragana, T katakana, A latin or digit, O else."""
    o = ord(ch)
    if 0x3041 <= o <= 0x309F:
        return "H"
    if 0x30A1 <= o <= 0x30FA or o == 0x30FC:
        return "T"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or o == 0x3005:
        return "K"
    if ch.isascii() and ch.isalnum():
        return "A"
    return "O"


_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\u3005"


@functools.cache
def _kanji_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(all kanji, the kanji a name starts with), compiled on first use: each costs ~0.8 ms
    (sre builds a bitmap of the kanji ranges), and with the compiled twin (compiled.py) a
    process never needs them."""
    return re.compile(f"[{_KANJI}]+"), re.compile(f"[{_KANJI}]*")


def kanji_run(name: str) -> int:
    """How many kanji a name starts with."""
    return _kanji_patterns()[1].match(name).end()  # type: ignore[union-attr]


#: offsets where katakana starts after another script (三菱UFJ|フィナンシャル)
KATAKANA_AFTER_OTHER = re.compile("(?<=[^\u30a1-\u30fa\u30fc・])[\u30a1-\u30fa\u30fc]")


def all_kanji(name: str) -> bool:
    return _kanji_patterns()[0].fullmatch(name) is not None


def script_cuts(name: str) -> list[int]:
    """Offsets inside a name where its script changes (三菱UFJ|フィナンシャル) or a ・ part ends."""
    cuts = []
    for i in range(1, len(name)):
        a, b = char_kind(name[i - 1]), char_kind(name[i])
        if (a != b and "O" not in (a, b)) or name[i] == "・":
            cuts.append(i)
    return cuts


def is_subsequence(short: str, full: str) -> bool:
    """Whether the characters of ``short`` appear in ``full`` in order."""
    it = iter(full)
    return all(ch in it for ch in short)


def org_prefix(short: str, full: str) -> bool:
    """``short`` is ``full`` without its generic last word(s) (トヨタ自動車 -> トヨタ) or cut
    where the script changes (三菱UFJ|フィナンシャル・グループ)."""
    if len(short) < 2 or not full.startswith(short) or len(full) <= len(short):
        return False
    rest = full[len(short) :].lstrip("・")
    if rest in ORG_TAILS:
        return True
    return len(short) in script_cuts(full) and char_kind(full[len(short)]) in "TA"


def org_tail_prefix(short: str, full: str) -> bool:
    """東日本旅客鉄道 -> JR東日本: the last word abbreviated and moved to the front;
    ソフトバンクグループ -> ソフトバンクG: abbreviated in its place."""
    for tail, abbr in ORG_TAIL_AS_PREFIX.items():
        if full.endswith(tail) and short == abbr + full[: -len(tail)]:
            return True
    for tail, abbrs in ORG_TAIL_ABBREVIATIONS.items():
        if full.endswith(tail) and short in {full[: -len(tail)] + a for a in abbrs}:
            return True
    return False


def kanji_abbreviation(short: str, full: str) -> bool:
    """A Japanese abbreviation that keeps characters of the full name in order, starting with
    its first: 日本銀行 -> 日銀, 経済産業省 -> 経産省, 立憲民主党 -> 立民, 国際連合 -> 国連.
    Both in kanji (the full name may end in other script); at least two characters kept and
    at least two left out."""
    return (
        len(short) >= 2
        and len(full) >= len(short) + 2
        and short[0] == full[0]
        and all_kanji(short)
        and char_kind(full[1]) == "K"
        and is_subsequence(short, full)
    )


def inner_word(short: str, full: str) -> bool:
    """A short form that is a word inside the full name, after a place name it starts with:
    日本維新の会 -> 維新. Kanji, two characters at least, not the full name's start or end."""
    if len(short) < 2 or not all_kanji(short):
        return False
    at = full.find(short)
    return at > 0 and at + len(short) < len(full)


def abbreviates(short: str, full: str, kind: str) -> bool:
    """Whether ``short`` can stand for ``full`` (same type) within one article."""
    if len(short) >= len(full) or (
        short[0] != full[0] and short not in full and not short.startswith("JR")
    ):
        return False  # every rule below needs one of these (a cheap first test)
    if kind == "PERSON":
        ps = parts(full)
        # family or given name of a ・-joined name, or the leading surname of a kanji name
        return short in ps[1:] or short == ps[0] or full.startswith(short)
    if kind == "LOCATION":
        return False  # places are joined through the known-name tables only (大阪 ≠ 大阪府)
    if short in GENERIC_WORDS:
        return False
    return (
        org_prefix(short, full)
        or org_tail_prefix(short, full)
        or kanji_abbreviation(short, full)
        or (len(short) >= 2 and full.endswith(short) and char_kind(short[0]) == "K")
        or inner_word(short, full)
    )


def person_short(short: str, full: str) -> bool:
    """Across articles: a surname for a full kanji name (岸田 -> 岸田文雄), or the family name
    of a ・-joined name (プーチン -> ウラジーミル・プーチン)."""
    if all_kanji(short):
        return 2 <= len(short) <= 3 and full.startswith(short) and 1 <= len(full) - len(short) <= 3
    ps = parts(full)
    return len(ps) > 1 and short == ps[-1] and len(short) >= 2
