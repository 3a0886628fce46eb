"""The flattened-text path on synthetic Japanese and English pages (own text, general shapes)."""

from __future__ import annotations

from workers.clean import clean_page
from workers.clean.boilerplate import best_run, find_body, soft_wrapped_blocks

BODY_JA = [
    "県は二十日、来年度から山間部の小学校で給食の地元食材の割合を五割に引き上げると発表した。",
    "農家の収入を支え、子どもに地域の農業を知ってもらう狙いがあり、約三十校が対象になる。",
    "<課題は配送>",
    "一方、冬場は道路が凍結して配送が遅れることが多く、県は保冷車の購入費を補助する方向で調整している。",
    "知事は会見で「食べることを通じて地元を好きになってほしい」と述べ、市町村との協議を急ぐ考えを示した。",
]


def synthetic_japanese_page() -> str:
    """Breadcrumbs, headline, date, body, then related links, a ranking and an ad block."""
    ranking = []
    for rank in range(1, 6):
        ranking += [f"{rank}", f"話題の記事その{rank}、思わぬ結末に読者から驚きの声が…"]
    lines = [
        "トップ",
        "地域",
        "山間部の給食、地元食材を五割に 県が方針",
        "2023年11月20日(月)18時05分",
        *BODY_JA,
        "関連記事",
        "経済",
        "物価上昇、家計への影響広がる 専門家は",
        "経済",
        "観光客数が回復、県内の宿泊施設で予約",
        "人気ランキング",
        *ranking,
        "メールマガジンの登録はこちら",
        "© 2023 Example News",
    ]
    return "\n".join(lines)


def test_japanese_page_keeps_body_only() -> None:
    page = clean_page(synthetic_japanese_page(), "text/plain")
    assert page.text.splitlines() == BODY_JA


def test_japanese_page_metadata() -> None:
    page = clean_page(synthetic_japanese_page(), "text/plain")
    assert page.title == "山間部の給食、地元食材を五割に 県が方針"
    assert page.published_at == "2023-11-20T18:05:00+09:00"


def test_output_is_nfkc_and_offsets_index_it() -> None:
    text = synthetic_japanese_page().replace("五割", "５０％")
    page = clean_page(text, "text/plain")
    assert "50%" in page.text and "５０％" not in page.text
    start = page.text.index("50%")
    assert page.text[start : start + 3] == "50%"


def test_caption_restating_the_lead_is_dropped() -> None:
    lead = BODY_JA[0]
    caption = "11月20日、" + lead + "写真は県庁で会見する知事(2023年 撮影)"
    page = clean_page("\n".join(["見出しの行です", caption, *BODY_JA]), "text/plain")
    assert caption not in page.text
    assert lead in page.text


def test_english_page_with_soft_wraps() -> None:
    body = [
        "The council voted on Tuesday to extend the opening hours of the city library",
        "until nine in the evening, after a survey showed strong demand from students.",
        "Officials said the change would cost little, because volunteers will staff the desk.",
    ]
    nav = ["Home", "News", "Sports", "Weather", "Contact us"]
    page = clean_page("\n".join([*nav, *body, *nav]), "text/plain")
    assert page.text.splitlines() == body


def test_soft_wrapped_lines_are_grouped() -> None:
    lines = ["This sentence runs on", "across a line break.", "A new one."]
    assert soft_wrapped_blocks(lines) == [[0, 1], [2]]


def test_best_run_is_the_max_sum_span() -> None:
    assert best_run([-1, 5, -2, 6, -10, 3]) == (1, 4)
    assert best_run([-1, -2]) == (0, 0)


def test_find_body_on_no_lines() -> None:
    assert find_body([]).kept == []
