"""The bad-input matrix: raw records a crawler might send that are broken, odd or hostile.

One list, used twice: ``tests/test_faults_bad_input.py`` checks the outcome of every kind whose
outcome is fixed (a dead-letter class, or processed), and the fault harness (``tests/chaos``)
mixes all of them, the open ones too, into its randomized runs, where the only rule is that each
record ends in the enriched or the dead-letter topic.

Values are built on first use (``bad_inputs()``): some are megabytes.
"""

from __future__ import annotations

import functools
import gzip
from dataclasses import dataclass
from typing import Any

import orjson

JA = "東京都の山田太郎知事は大阪で記者会見を開いた。"
GOOD = {"url": "https://example.test/ok", "body": JA * 3}

#: Outcomes besides a dead-letter class.
PROCESSED = "processed"
BOUNDED = "processed, or dead-lettered as timeout"  # either way within the stage time bound
#: too big an output for the broker, or too slow to extract under the test's 3 s stage timeout
OVERSIZED = "dead-lettered as output_too_large, or as timeout"
OPEN = "enriched or dead-lettered"  # no fixed outcome (yet): only "never lost" is checked
#: Real sentences with control characters between their characters: cleaning must drop the
#: controls and keep the sentences (issue 15).
SENTENCES = "北海道の鈴木一郎さんは札幌市で新しい店を開いた。政府は来年度の予算案を閣議決定した。"

#: All 47 prefectures (a complete public list): a page that names many entities.
PREFECTURES = [
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県",
    "群馬県", "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県",
    "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府",
    "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県",
    "鹿児島県", "沖縄県",
]  # fmt: skip


@dataclass(frozen=True)
class BadInput:
    """One kind of bad input: the raw value (a dict is sent as JSON, bytes as they are, None is
    a tombstone) and the outcome: a dead-letter ``error_class``, PROCESSED, BOUNDED or OPEN."""

    name: str
    value: Any
    outcome: str
    #: True for pages slow enough to hit a low NEWSFLOW_STAGE_TIMEOUT_S on purpose.
    slow: bool = False

    @property
    def url(self) -> str | None:
        return self.value.get("url") if isinstance(self.value, dict) else None


def html_deep(n: int) -> str:
    """A page nested ``n`` ``<div>``s deep (quadratic in Resiliparse before issue 15)."""
    return "<html><body>" + "<div>" * n + JA + "</div>" * n + "</body></html>"


def _page(name: str, body: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"https://x.test/{name}", "body": body, **extra}


def _cases() -> list[BadInput]:
    ctl = "".join(chr(c) for c in range(32) if chr(c) not in "\t\n\r")
    return [
        # -- not a raw article at all: dead letter at the clean stage ------------------------
        BadInput("not-json", b"\x00\x01 this is { not json", "invalid_json"),
        BadInput(
            "invalid-utf8", b'{"url": "https://x.test/a", "body": "\xff\xfe\xfa"}', "invalid_json"
        ),
        BadInput("json-array", b"[1, 2, 3]", "not_an_object"),
        BadInput("json-string", b'"just a string"', "not_an_object"),
        BadInput("json-null", b"null", "not_an_object"),
        BadInput("binary", bytes(range(256)) * 8, "invalid_json"),
        BadInput("gzip", gzip.compress(orjson.dumps(_page("h", JA))), "invalid_json"),
        BadInput(
            "lone-surrogate", b'{"url": "https://x.test/i", "body": "\\ud800 x"}', "invalid_json"
        ),
        BadInput(
            "raw-control-char", b'{"url": "https://x.test/j", "body": "a\x01b"}', "invalid_json"
        ),
        BadInput("json-trailing-garbage", orjson.dumps(_page("tg", JA)) + b" xyz", "invalid_json"),
        BadInput("json-too-deep", b"[" * 100_000 + b"]" * 100_000, "invalid_json"),
        BadInput(
            "json-infinite-number",
            b'{"url": "https://x.test/inf", "body": "x", "n": 1e999}',
            "invalid_json",
        ),
        BadInput("json-with-bom", b"\xef\xbb\xbf" + orjson.dumps(_page("bom", JA)), "invalid_json"),
        BadInput(
            "utf16-json", orjson.dumps(_page("u16", JA)).decode().encode("utf-16"), "invalid_json"
        ),
        BadInput(
            "shift-jis-bytes",
            orjson.dumps(_page("sjis", "X")).replace(b'"X"', b'"' + JA.encode("shift_jis") + b'"'),
            "invalid_json",
        ),
        BadInput("empty-value", b"", OPEN),  # Kafka keeps b"" apart from a tombstone
        BadInput("tombstone", None, "tombstone"),
        # -- JSON objects that break the schema ------------------------------------------------
        BadInput("missing-url", {"body": JA}, "invalid_record"),
        BadInput("missing-body", {"url": "https://x.test/b"}, "invalid_record"),
        BadInput("body-not-string", {"url": "https://x.test/c", "body": 12345}, "invalid_record"),
        BadInput("url-not-string", {"url": ["a"], "body": JA}, "invalid_record"),
        BadInput("null-url", {"url": None, "body": JA}, "invalid_record"),
        BadInput(
            "unknown-content-type", _page("k", JA, content_type="application/pdf"), "invalid_record"
        ),
        BadInput("huge-title", _page("l", JA, title="長" * 5000), "invalid_record"),
        BadInput("title-not-string", _page("tn", JA, title=123), "invalid_record"),
        BadInput("id-not-string", _page("in", JA, id=42), "invalid_record"),
        BadInput("id-empty", _page("ie", JA, id=""), "invalid_record"),
        BadInput("id-too-long", _page("il", JA, id="i" * 600), "invalid_record"),
        BadInput(
            "url-too-long", {"url": "https://x.test/" + "u" * 9000, "body": JA}, "invalid_record"
        ),
        BadInput("empty-body", _page("d", ""), "empty_body"),
        BadInput("whitespace-body", _page("e", " \n\t\u3000 "), "empty_body"),
        BadInput("too-large-10mb", _page("f", "あ" * 3_500_000), "too_large"),
        BadInput("single-5mb-line", _page("g", "a" * 5_000_000), "too_large"),
        # -- valid, if odd: processed (markup bounded before parsing, workers/clean/markup.py) --
        BadInput("html-bomb-deep", _page("m", html_deep(30_000)), PROCESSED),
        BadInput("nested-div-100k", _page("nd", html_deep(100_000)), PROCESSED),
        # 60,000 paragraphs read (the rest said in `truncated`), one entity each: an enriched
        # record of 5 MB, over the broker's 1 MB default, is a dead letter, not a failed send
        BadInput(
            "html-100k-elements",
            _page("n", "<html><body>" + "<p>東京</p>" * 100_000 + "</body></html>"),
            OVERSIZED,
        ),
        BadInput("over-sudachi-line", _page("o", JA * 3000), PROCESSED),
        BadInput(
            "escaped-control-chars",
            _page("p", "東京\u0000\u0007で\u001b会見\u200bした。" + JA),
            PROCESSED,
        ),
        BadInput(
            "control-chars-in-sentences",
            _page("cs", "".join(c + "\x00\x07\x1b\x1f"[i % 4] for i, c in enumerate(SENTENCES))),
            PROCESSED,
        ),
        BadInput("non-japanese", _page("q", "The mayor met the press. " * 20), PROCESSED),
        BadInput(
            "null-optional-fields", _page("r", JA, title=None, source=None, lang=None), PROCESSED
        ),
        BadInput(
            "duplicate-id-other-content",
            {"id": "dup-1", "url": "https://x.test/other", "body": "大阪市の会見で話した。" + JA},
            PROCESSED,
        ),
        # -- text cut by a size bound: processed, the cut said in `truncated` ------------------
        BadInput("line-200kb-no-punctuation", _page("t1", JA + "\n" + "あ" * 200_000), PROCESSED),
        BadInput("line-1mb-kanji", _page("t2", JA + "\n" + "漢" * 333_333), PROCESSED),
        BadInput("line-3mb-kanji", _page("t3", JA + "\n" + "漢" * 1_000_000), PROCESSED),
        BadInput(
            "entity-expansion",
            _page(
                "t4",
                f"<html><body><p>{JA}</p><p>" + "&#x5CB8;&#x7530;" * 10_004 + "</p></body></html>",
                content_type="text/html",
            ),
            PROCESSED,
        ),
        # -- no text left after cleaning: dead-lettered, not enriched empty --------------------
        BadInput("emoji-only", _page("em", "😀🎉🗾🍣" * 200), "empty_text"),
        BadInput(
            "script-only-html",
            _page(
                "so",
                "<html><head><script>var t='東京都';</script></head></html>",
                content_type="text/html",
            ),
            "empty_text",
        ),
        BadInput("control-chars-only", _page("co", ctl * 50), "empty_text"),
        # -- valid, no fixed outcome: never lost, that is all ----------------------------------
        # Slow on purpose, for the fault harness's stage-timeout kills: 100 lines of ~20,000
        # characters (2 M, within the clean stage's page and line bounds), seconds of tagging;
        # under a low stage timeout a timeout, else an enriched record too big for the broker.
        BadInput(
            "text-2m-chars-slow",
            _page("sl", "\n".join([(JA * 800)[:19_999]] * 100)),
            OPEN,
            slow=True,
        ),
        BadInput("kanji-line-1mb", _page("k1", "漢字書籍新聞記事" * 43_000), OPEN),
        BadInput("kanji-line-3mb", _page("k3", "漢字書籍新聞記事" * 130_000), OPEN),
        BadInput("repeated-name-run", _page("rn", "岸田" * 10_000), OPEN),
        BadInput("zero-width-only", _page("zw", "\u200b\u200c\u200d\ufeff" * 100), OPEN),
        BadInput(
            "style-only-html",
            _page("st", "<html><style>p{color:red}</style><body></body></html>"),
            OPEN,
        ),
        BadInput("comment-only-html", _page("cm", "<html><!-- 東京都で会見 --></html>"), OPEN),
        BadInput(
            "attribute-list-10k",
            _page(
                "al",
                "<html><body><p "
                + " ".join(f"a{i}='x'" for i in range(10_000))
                + ">"
                + JA
                + "</p></body></html>",
            ),
            OPEN,
        ),
        BadInput(
            "attribute-value-1mb",
            _page("av", f"<html><body><p title='{'x' * 1_000_000}'>{JA}</p></body></html>"),
            OPEN,
        ),
        BadInput(
            "text-node-2mb", _page("tn2", f"<html><body><p>{JA * 30_000}</p></body></html>"), OPEN
        ),
        BadInput("unclosed-tags", _page("uc", "<html><body>" + "<p><b><i>" * 5000 + JA), OPEN),
        BadInput(
            "bad-character-references",
            _page("cr", "<p>&#0; &#xFFFFFFFF; &#55296; &bogus; &amp&lt;" + JA + "</p>"),
            OPEN,
        ),
        BadInput("body-with-bom", _page("bb", "\ufeff" + JA), OPEN),
        BadInput("carriage-return-lines", _page("rl", "\r".join([JA] * 20)), OPEN),
        BadInput("combining-marks", _page("cb", "ア\u0301\u0302\u0303" * 2000 + JA), OPEN),
        BadInput("halfwidth-kana", _page("hw", "ﾄｳｷｮｳﾄ ﾉ ﾔﾏﾀﾞﾀﾛｳ ﾁｼﾞ。" + JA), OPEN),
        BadInput("plain-text-declared-html", _page("ph", JA * 5, content_type="text/html"), OPEN),
        BadInput(
            "html-declared-plain",
            _page("hp", f"<html><body><p>{JA}</p></body></html>", content_type="text/plain"),
            OPEN,
        ),
        BadInput("published-at-garbage", _page("pg", JA, published_at="not a date"), OPEN),
        BadInput("many-entities", _page("me", "、".join(PREFECTURES * 40) + "で会見した。"), OPEN),
        BadInput(
            "duplicate-json-keys",
            b'{"url": "https://x.test/dk", "body": "x", "body": "' + JA.encode() + b'"}',
            OPEN,
        ),
        BadInput("unknown-extra-fields", _page("xf", JA, extra={"a": [1, {"b": None}]}), OPEN),
    ]


@functools.cache
def bad_inputs() -> tuple[BadInput, ...]:
    """Every kind, in a fixed order (built once per process)."""
    cases = _cases()
    assert len({c.name for c in cases}) == len(cases), "duplicate bad-input names"
    return tuple(cases)


def by_name() -> dict[str, BadInput]:
    return {c.name: c for c in bad_inputs()}
