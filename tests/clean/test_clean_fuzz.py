"""Property tests: the clean stage takes any text or HTML without an exception escaping."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers.clean import clean_page
from workers.clean.normalize import normalize_line

TAGS = ["<p>", "</p>", "<div>", "</div>", "<br>", "<h1>", "</h1>", "<script>", "</script>",
        "<title>", "</title>", "<meta charset='utf-8'>", "<!--", "-->", "<", ">", "&amp;",
        "&#0;"]  # fmt: skip
japanese = st.text(alphabet=st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF), max_size=50)
html_like = st.lists(st.one_of(st.sampled_from(TAGS), st.text(max_size=30), japanese), max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.text(max_size=2000), kind=st.sampled_from([None, "text/plain", "text/html"]))
def test_any_text_cleans_without_exception(body: str, kind: str | None) -> None:
    page = clean_page(body, kind)
    assert isinstance(page.text, str)
    assert "\n\n" not in page.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=html_like)
def test_any_html_cleans_without_exception(parts: list[str]) -> None:
    page = clean_page("<html><body>" + "".join(parts), "text/html")
    assert isinstance(page.text, str)
    assert page.title is None or isinstance(page.title, str)


@settings(max_examples=300, deadline=None)
@given(line=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80))
def test_normalize_line_is_idempotent(line: str) -> None:
    # clean_text_page joins page_lines' output without normalizing it a second time
    once = normalize_line(line)
    assert normalize_line(once) == once
