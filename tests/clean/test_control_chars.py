"""Control characters are removed, and the text around them stays (NUL, C0/C1 controls, ANSI)."""

from __future__ import annotations

import random

import pytest

from workers.clean import clean_page
from workers.clean.normalize import normalize_line, page_lines

SENTENCES = [
    "北海道の鈴木一郎さんは札幌市で新しい店を開いた。",
    "政府は来年度の予算案を閣議決定した。",
    "大阪府の知事は記者会見で説明し、府民に協力を求めた。",
    "市は二十日、老朽化した中央図書館を建て替えると発表した。",
]
#: Every C0 control but tab, newline and CR; DEL; and C1 controls but NEL.
CONTROLS = [chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 133),
                             *range(134, 160))]  # fmt: skip


def sprinkle(text: str, rng: random.Random, rate: float) -> str:
    return "".join(ch + (rng.choice(CONTROLS) if rng.random() < rate else "") for ch in text)


@pytest.mark.parametrize("rate", [0.3, 1.0])
@pytest.mark.parametrize("kind", ["text/plain", "text/html", None])
def test_sentences_mixed_with_controls_keep_their_text(rate: float, kind: str | None) -> None:
    """The issue's page: sentences with NUL and control characters between their characters
    came out empty. Now each sentence comes out whole."""
    rng = random.Random(7)
    mixed = [sprinkle(s, rng, rate) for s in SENTENCES]
    if kind == "text/html":
        body = "<html><body>" + "".join(f"<p>{s}</p>" for s in mixed) + "</body></html>"
    else:
        body = "".join(mixed)  # one line, as the fault check sent it
    text = clean_page(body, kind).text
    for sentence in SENTENCES:
        assert sentence in text.replace(" ", "")  # a form feed is whitespace: a space
    assert not any(c in text for c in CONTROLS)


def test_controls_split_nothing_and_join_nothing() -> None:
    """VT, the file/group/record separators and NEL are removed although str.splitlines()
    breaks lines at them; a form feed is a space, as in HTML; newlines still break lines."""
    lines = page_lines("東京\x1cで\x1d会見\x1eした。\n大阪\x0bで\x85話し\x0cた。")
    assert lines == ["東京で会見した。", "大阪で話し た。"]
    assert normalize_line("東京\x85大阪\x0b市") == "東京大阪市"


def test_ansi_escape_sequences_go_as_a_whole() -> None:
    assert normalize_line("\x1b[31m東京\x1b[0mで会見した。") == "東京で会見した。"
    assert normalize_line("abc\x1b[1;32mdef\x00g") == "abcdefg"


def test_a_page_of_controls_only_comes_out_empty() -> None:
    assert clean_page("".join(CONTROLS) * 50, "text/plain").text == ""
