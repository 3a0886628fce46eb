"""Property tests: extraction on any text raises nothing and its offsets slice the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers.clean import clean_page
from workers.extract import get_extractor

NAMES = ["東京", "山田太郎", "トヨタ自動車", "ロシア", "プーチン大統領", "ＮＡＴＯ", "北朝鮮", "\n",
         "。", "、", "は", "で", "会見した", " ", "\u3000", "𠮷野家", "ｶﾀｶﾅ"]  # fmt: skip
japanese = st.lists(st.one_of(st.sampled_from(NAMES), st.text(max_size=20)), max_size=80).map(
    "".join
)


def _check(text: str) -> None:
    for e in get_extractor()(text):
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end] == e.text
        assert e.type in ("PERSON", "ORGANIZATION", "LOCATION")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=500), japanese))
def test_offsets_slice_the_text_for_any_input(text: str) -> None:
    _check(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=japanese, kind=st.sampled_from(["text/plain", "text/html"]))
def test_offsets_slice_the_cleaned_text(text: str, kind: str) -> None:
    body = f"<html><body><p>{text}</p></body></html>" if kind == "text/html" else text
    _check(clean_page(body, kind).text)
