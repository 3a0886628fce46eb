"""Synthetic Japanese news pages for benchmarks and fault tests, deterministic from a seed.

Why synthetic: the benchmark needs 100,000+ distinct, realistic pages and the dev sets hold a
few hundred. Body sentences come from ``../shared/data/ner-dev`` (real Japanese prose with real
entities, so the extractor does real work); headline, date line, navigation, related links,
ranking list and footer are assembled like a real news page (see ``../shared/seed/page.txt``)
from generic site vocabulary and from other sentences, never by copying a page wholesale.

    from workers.bench.corpus import generate_pages
    for raw in generate_pages(1000, seed=7, kind="html"):   # raw-article dicts
        ...
"""

from __future__ import annotations

import datetime as dt
import functools
import html as html_lib
import random
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

Kind = Literal["text", "html", "mixed"]

NER_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ner-dev" / "ner-dev.json"

# Generic site vocabulary for the boilerplate (section names, link labels, footer lines).
_SECTIONS = (
    "トップ", "ニュース", "国内", "国際", "ワールド", "ビジネス", "経済", "マーケット", "政治",
    "社会", "テクノロジー", "科学", "スポーツ", "エンタメ", "ライフ", "カルチャー", "地域",
    "オピニオン", "特集", "動画", "写真",
)  # fmt: skip
_RELATED_HEADERS = ("関連記事", "あわせて読みたい", "おすすめ記事", "この記事を読んだ人に")
_RANKING_HEADERS = ("アクセスランキング", "人気記事ランキング", "よく読まれている記事")
_FOOTER = (
    "会社概要", "お問い合わせ", "利用規約", "プライバシーポリシー", "広告掲載について",
    "サイトマップ", "採用情報", "著作権について", "メールマガジン登録", "公式アプリ",
)  # fmt: skip
_SITE_NAMES = ("日刊ニュースウェブ", "東都新報デジタル", "アジア経済タイムズ", "みなと通信")
_WEEKDAYS = "月火水木金土日"
_DATE_LIKE = re.compile(r"\d+\s*[年月日/.-]")
_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=9)))


@functools.cache
def _sentences(path: str) -> tuple[str, ...]:
    """The ner-dev sentences (only those that end like prose), loaded once per process."""
    data = orjson.loads(Path(path).read_bytes())
    out = [s["text"].strip() for s in data if s["text"].strip().endswith(("。", "」", "）"))]
    if not out:
        raise ValueError(f"no usable sentences in {path}")
    return tuple(out)


def _headline(rng: random.Random, sentences: Sequence[str], limit: int = 34) -> str:
    """A headline-like line: the first clause of a sentence, cut with an ellipsis when long."""
    s = rng.choice(sentences).rstrip("。")
    while _DATE_LIKE.search(s):  # a dated headline would pass for the page's date line
        s = rng.choice(sentences).rstrip("。")
    clause = s.split("、")[0] if len(s) > limit else s
    return clause if len(clause) <= limit else clause[: limit - 1] + "…"


def _date(rng: random.Random) -> dt.datetime:
    return _EPOCH + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))


def _date_line(d: dt.datetime) -> str:
    return f"{d.year}年{d.month}月{d.day}日({_WEEKDAYS[d.weekday()]}){d.hour}時{d.minute:02d}分"


def _page_parts(rng: random.Random, sentences: Sequence[str]) -> dict[str, Any]:
    """Everything one page shows, as plain strings; rendered as text or HTML afterwards."""
    paragraphs = [
        "".join(rng.choice(sentences) for _ in range(rng.randint(1, 5)))
        for _ in range(rng.randint(6, 14))
    ]
    return {
        "site": rng.choice(_SITE_NAMES),
        "section": rng.choice(_SECTIONS),
        "nav": rng.sample(_SECTIONS, rng.randint(6, 12)),
        "headline": _headline(rng, sentences),
        "date": _date(rng),
        "caption": _headline(rng, sentences, 60) if rng.random() < 0.5 else None,
        "paragraphs": paragraphs,
        "related_header": rng.choice(_RELATED_HEADERS),
        "related": [_headline(rng, sentences) for _ in range(rng.randint(3, 6))],
        "ranking_header": rng.choice(_RANKING_HEADERS),
        "ranking": [_headline(rng, sentences, 24) for _ in range(10)],
        "footer": rng.sample(_FOOTER, rng.randint(4, len(_FOOTER))),
    }


def render_text(p: dict[str, Any]) -> str:
    """The page flattened to text, one block per line, like a simple crawler sends it."""
    lines = [p["site"], *p["nav"], p["section"], "", p["headline"], "", _date_line(p["date"])]
    if p["caption"]:
        lines.append(p["caption"])
    for para in p["paragraphs"]:
        lines += ["", para]
    lines += ["", p["related_header"], *p["related"], p["ranking_header"]]
    for i, title in enumerate(p["ranking"], 1):
        lines += [f"  • {i}", f"    {title}"]
    lines += p["footer"]
    lines.append(f"Copyright © {p['site']} All rights reserved.")
    return "\n".join(lines) + "\n"


def render_html(p: dict[str, Any]) -> str:
    """The page as HTML with <head> metadata, header navigation, article, aside and footer."""
    e = html_lib.escape
    iso = p["date"].isoformat()
    nav = "".join(f'<li><a href="/{i}/">{e(s)}</a></li>' for i, s in enumerate(p["nav"]))
    body = "".join(f"<p>{e(t)}</p>\n" for t in p["paragraphs"])
    caption = f"<figure><figcaption>{e(p['caption'])}</figcaption></figure>" if p["caption"] else ""
    related = "".join(f'<li><a href="/a/{i}">{e(t)}</a></li>' for i, t in enumerate(p["related"]))
    ranking = "".join(
        f'<li><span class="rank">{i}</span><a href="/r/{i}">{e(t)}</a></li>'
        for i, t in enumerate(p["ranking"], 1)
    )
    footer = "".join(f'<li><a href="/f/{i}">{e(t)}</a></li>' for i, t in enumerate(p["footer"]))
    return (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">'
        f"<title>{e(p['headline'])} | {e(p['site'])}</title>"
        f'<meta property="og:title" content="{e(p["headline"])}">'
        f'<meta property="article:published_time" content="{iso}">'
        '<link rel="stylesheet" href="/css/site.css"><script src="/js/ads.js"></script>'
        f'</head><body><header><div class="logo">{e(p["site"])}</div>'
        f'<nav><ul class="global-nav">{nav}</ul></nav></header>\n'
        f'<main><div class="breadcrumb"><a href="/">トップ</a> &gt; {e(p["section"])}</div>'
        f"<article><h1>{e(p['headline'])}</h1>"
        f'<time datetime="{iso}">{_date_line(p["date"])}</time>{caption}\n'
        f'<div class="article-body">\n{body}</div></article>\n'
        f'<section class="related"><h2>{e(p["related_header"])}</h2><ul>{related}</ul></section>'
        f'</main><aside class="ranking"><h2>{e(p["ranking_header"])}</h2><ol>{ranking}</ol>'
        f"</aside><footer><ul>{footer}</ul><p>Copyright © {e(p['site'])}</p></footer>"
        "</body></html>\n"
    )


def generate_pages(
    n: int, seed: int = 0, kind: Kind = "text", sentences_path: str | Path = NER_DEV
) -> Iterator[dict[str, Any]]:
    """``n`` raw-article dicts (``id``, ``url``, ``body``, ``content_type``, ``source``).

    The same (n, seed, kind) gives the same pages; page i does not depend on n, so a longer
    corpus starts with the shorter one. ``kind="mixed"`` alternates text and HTML pages.
    """
    sentences = _sentences(str(sentences_path))
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        parts = _page_parts(rng, sentences)
        as_html = kind == "html" or (kind == "mixed" and i % 2 == 1)
        body = render_html(parts) if as_html else render_text(parts)
        yield {
            "id": f"bench-{seed}-{i:07d}",
            "url": f"https://news.example.jp/{parts['date']:%Y/%m/%d}/{seed}-{i}",
            "body": body,
            "content_type": "text/html" if as_html else "text/plain",
            "source": "newsflow-bench",
        }


def body_paragraphs(page_index: int, seed: int = 0, sentences_path: str | Path = NER_DEV) -> str:
    """The gold article body of one generated page (paragraphs joined by newlines), for checks."""
    rng = random.Random(f"{seed}:{page_index}")
    return "\n".join(_page_parts(rng, _sentences(str(sentences_path)))["paragraphs"])
