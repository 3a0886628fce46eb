"""The run-time decoder (decoder.py + the compiled _viterbi) is crfsuite, only faster.

Extraction never calls crfsuite; these tests pin that its labels are crfsuite's labels, that
the per-type regrouping of weights mirrors features.token_pieces exactly, and that the shipped
tables were exported from the shipped model.
"""

from __future__ import annotations

import functools
import marshal
from pathlib import Path

import pytest

from tests.helpers.ja_texts import HARD_TEXTS, with_seed
from workers.extract import get_extractor
from workers.extract.decoder import TypeTagger, compiled_decoder_class, tables_path
from workers.extract.entities import sentences
from workers.extract.features import _BOS, Featurizer, token_pieces
from workers.extract.model import Tagger, bio_spans, model_path
from workers.extract.pydecoder import PyDecoder
from workers.extract.tokens import Tokenizer
from workers.extract.typeflags import NPOS
from workers.extract.weights import export_tables, read_crfsuite
from workers.extract.words import WORDS, WordClass

SENTENCES = [
    *HARD_TEXTS,
    "トヨタ自動車は2024年、愛知県豊田市で新型車「カローラ」を発表した。\n\n東京証券取引所",
    "BOS EOS と w=BOS の扱い",
]


@functools.cache
def _tokenizer() -> Tokenizer:
    return Tokenizer()


def _texts() -> list[str]:
    return with_seed(SENTENCES)


def _crfsuite_labels(text: str) -> list[str]:
    """Labels the way extraction used to get them: crfsuite over feature strings per sentence."""
    tok = _tokenizer()
    tokens = tok(text)
    labels = ["O"] * len(tokens)
    feat, crf = Featurizer(tok.pos_name), _crf()
    for a, b in sentences(tokens):
        labels[a:b] = crf(feat(tokens[a:b]))
    return labels


@functools.cache
def _crf() -> Tagger:
    return Tagger()


def _decoder_labels(tagger: TypeTagger, text: str) -> list[str]:
    tokens = _tokenizer().typed(text, tagger.fill)
    return tagger.label_names(tagger.decoder.tag(tokens.type_id))


def test_compiled_decoder_is_built() -> None:
    assert compiled_decoder_class() is not None, "run pip install -e . to build _viterbi"
    assert TypeTagger(_tokenizer().pos_name).compiled


@pytest.mark.parametrize("compiled", [True, False])
def test_decoder_labels_are_crfsuite_labels(compiled: bool) -> None:
    if compiled and compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    tagger = TypeTagger(_tokenizer().pos_name, compiled=compiled)
    for text in _texts():
        assert _decoder_labels(tagger, text) == _crfsuite_labels(text), text[:40]


@pytest.mark.parametrize("compiled", [True, False])
def test_decoder_spans_are_crfsuite_spans_per_sentence(compiled: bool) -> None:
    if compiled and compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    tagger = TypeTagger(_tokenizer().pos_name, compiled=compiled)
    for text in [*_texts(), "東京。大阪\n\n名古屋と京都。"]:
        tokens = _tokenizer()(text)
        labels = _crfsuite_labels(text)
        want = [
            (a + x, a + y, tag)
            for a, b in sentences(tokens)
            for x, y, tag in bio_spans(labels[a:b])
        ]
        typed = _tokenizer().typed(text, tagger.fill)
        assert tagger.decoder.tag_spans(typed.type_id) == want, text[:40]


def test_type_blocks_are_the_sums_of_the_feature_weights() -> None:
    """Each type's five blocks equal the weights of token_pieces' strings, summed by hand."""
    labels, state, _ = read_crfsuite(model_path())
    n = len(labels)
    tok = _tokenizer()
    tagger = TypeTagger(tok.pos_name, compiled=False)
    decoder = tagger.decoder
    assert isinstance(decoder, PyDecoder)

    def expected(pieces: tuple[list[str], ...]) -> list[list[float]]:
        out = [[0.0] * n for _ in range(NPOS)]
        for position, attrs in enumerate(pieces):
            for attr in attrs:
                for y, w in state.get(attr, {}).items():
                    out[position][y] += w
        return out

    def close(a: list[list[float]], b: list[list[float]]) -> bool:
        return all(
            abs(x - y) < 1e-9
            for ra, rb in zip(a, b, strict=True)
            for x, y in zip(ra, rb, strict=True)
        )

    assert close(decoder.blocks[0], expected(_BOS))  # the sentence-boundary sentinel
    seen = 0
    for text in _texts():
        tokens = tok.typed(text, tagger.fill)
        for s, p, t in zip(tokens.surface, tokens.pos, tokens.type_id, strict=True):
            assert close(decoder.blocks[t], expected(token_pieces(s, tok.pos_name(p)))), s
            seen += 1
    assert seen > 100


def test_compiled_types_are_the_python_types() -> None:
    """_viterbi's type_id/typed (C) compute the same blocks as TypeTagger.new_type (Python)."""
    if compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    tok = _tokenizer()
    c = TypeTagger(tok.pos_name, compiled=True)
    py = TypeTagger(tok.pos_name, compiled=False)
    odd = [
        "ab",
        "x",
        "ＡＢＣ１２３",
        "東京都庁舎",
        "大学院",
        "北朝鮮労働党",
        "ﾌﾟｰﾁﾝ",
        "㍿",
        "〇〇〇",
        "\n",
        " \n",
        "。",
        "1950年代",
        "かなカナ漢字abc123",
        "AI",
        "ヴェ",
        "Ⅻ",
        "𠮷",
    ]
    pairs = [(s, p) for text in _texts() for s, p in zip(*_surface_pos(tok, text), strict=True)]
    pairs += [(s, p) for s in odd for p in {p for _, p in pairs}]
    for s, p in pairs:
        assert c.decoder.block(c.type_id(s, p)) == pytest.approx(
            py.decoder.block(py.type_id(s, p)), abs=1e-12
        ), (s, tok.pos_name(p))
    assert c.types == py.types  # same ids in the same order


@pytest.mark.parametrize("compiled", [True, False])
def test_type_cache_starts_over_past_its_bound(compiled: bool) -> None:
    if compiled and compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    tagger = TypeTagger(_tokenizer().pos_name, compiled=compiled)
    text = SENTENCES[0]
    want = _decoder_labels(tagger, text)
    grown = tagger.decoder.n_types()
    assert grown > 10
    tagger.bound(max_types=grown)  # not past the bound: kept
    assert tagger.decoder.n_types() == grown
    tagger.bound(max_types=5)
    assert tagger.decoder.n_types() == 1 and not tagger.types  # only the sentinel is left
    assert _decoder_labels(tagger, text) == want
    assert tagger.decoder.n_types() == grown


def _surface_pos(tok: Tokenizer, text: str) -> tuple[list[str], list[int]]:
    tokens = tok(text)
    return [t.surface for t in tokens], [t.pos for t in tokens]


def test_shipped_tables_come_from_the_shipped_model(tmp_path: Path) -> None:
    out = tmp_path / "ner.bin"
    export_tables(model_path(), out)
    fresh, shipped = (marshal.loads(p.read_bytes()) for p in (out, tables_path()))
    assert fresh == shipped, "ner.bin is stale: python -m workers.extract.train writes both files"


def test_export_refuses_unknown_templates(tmp_path: Path) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    trainer.append([["w=東京", "zz=1"], ["w=の"]], ["B-LOC", "O"])
    trainer.set_params({"max_iterations": 5})
    crf = tmp_path / "m.crf"
    trainer.train(str(crf))
    with pytest.raises(ValueError, match="zz"):
        export_tables(crf, tmp_path / "m.bin")


def _word_classes() -> tuple[WordClass, ...]:
    """Every step's word classes (building the extractor registers them)."""
    get_extractor()
    return tuple(WORDS.classes)


def _scan_inputs(text: str) -> list[tuple[int, str, object]]:
    from workers.extract.tokens import split_for_sudachi

    tokenize = _tokenizer()._tok.tokenize
    return [(offset, chunk, tokenize(chunk)) for offset, chunk in split_for_sudachi(text)]


def test_compiled_scan_is_the_python_scan() -> None:
    """_viterbi's scan (surfaces from end offsets, C) gives what fill + tag_spans give, and
    the same word-class bits as WordClasses.of."""
    if compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    c = TypeTagger(_tokenizer().pos_name, compiled=True)
    py = TypeTagger(_tokenizer().pos_name, compiled=False)
    classes = _word_classes()
    c.set_word_classes(classes)
    py.set_word_classes(classes)
    seen = 0
    texts = [
        *_texts(),
        "",
        "東京。大阪\n\n名古屋と京都。",
        "東京(とうきょう)に行く",
        "ｶﾞｷﾞ\u3099ka\u0301",
        "  \n\t東京\r\n\r\n大阪  ",
    ]
    for text in texts:
        chunks = _scan_inputs(text)
        got, want = c.scan(chunks), py.scan(chunks)
        assert got == want, text[:40]
        surface, _, starts, _, words = got
        assert all(text[s : s + len(w)] == w for s, w in zip(starts, surface, strict=True))
        assert words == WORDS.of(surface, classes)
        seen |= words
    assert c.types == py.types
    assert bin(seen).count("1") >= 5  # the texts have titles, dots, brackets, known names ...


def test_compiled_scan_repeats_through_its_surface_cache() -> None:
    """Known tokens come from scan's surface cache (keyed by the chunk's code points, so the same
    surface in a chunk of another str kind must match): a second scan, and one after the type
    cache starts over, give what the first gave."""
    if compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    c = TypeTagger(_tokenizer().pos_name, compiled=True)
    classes = _word_classes()
    c.set_word_classes(classes)
    texts = [*_texts(), "ab cd", "東京ab cd", "𠮷野家ab cd東京", "ab cd"]
    first = [c.scan(_scan_inputs(text)) for text in texts]
    assert [c.scan(_scan_inputs(text)) for text in texts] == first
    c.bound(max_types=1)
    assert c.decoder.n_types() == 1
    assert [c.scan(_scan_inputs(text)) for text in reversed(texts)] == first[::-1]
    # other classes: the cached words' bits are computed again
    c.set_word_classes(classes[::-1])
    for text, (surface, pos, starts, spans, _) in zip(texts, first, strict=True):
        got = c.scan(_scan_inputs(text))
        assert got == (surface, pos, starts, spans, WORDS.of(surface, classes[::-1]))


class _Morpheme:
    """A hand-made morpheme: what scan reads of Sudachi's."""

    def __init__(self, text: str, begin: int, end: int, pos: int) -> None:
        self._text, self._b, self._e, self._p = text, begin, end, pos

    def surface(self) -> str:
        return self._text[self._b : self._e]

    def begin(self) -> int:
        return self._b

    def end(self) -> int:
        return self._e

    def part_of_speech_id(self) -> int:
        return self._p


@pytest.mark.parametrize(
    "bounds",
    [
        [(0, 2), (2, 4)],
        [(1, 2), (2, 4)],
        [(0, 2), (2, 3)],
        [(0, 2), (2, 2), (2, 4)],
        [(0, 3), (3, 5)],
    ],
)
def test_scan_takes_each_surface_when_morphemes_do_not_tile(bounds: list[tuple[int, int]]) -> None:
    """Surfaces come from end offsets only while the morphemes tile the chunk; else from
    surface() and begin(), as before. Sudachi always tiles (offsets were always summed from
    surface lengths); this pins the fallback for what scan can see: a first morpheme that does
    not start the chunk, an end that does not move on or is past the chunk, a last one that
    ends early."""
    if compiled_decoder_class() is None:
        pytest.skip("_viterbi not built")
    pos = _tokenizer()._tok.tokenize("東京")[0].part_of_speech_id()
    text = "東京大阪"
    ms = [_Morpheme(text, b, e, pos) for b, e in bounds]
    c = TypeTagger(_tokenizer().pos_name, compiled=True)
    classes: tuple[WordClass, ...] = (
        ("in", frozenset({"東京"})),
        ("first", "大"),
        ("last", "阪"),
        ("only", "京東"),
        ("split", ("東大", frozenset({"京", "阪"}))),
        ("in", frozenset()),
    )
    c.set_word_classes(classes)
    surface, pos_ids, starts, _, words = c.scan([(5, text, ms), (20, text, ms)])
    assert words == WORDS.of(surface, classes)
    assert surface == [text[b:e] for b, e in bounds] * 2
    assert starts == [5 + b for b, _ in bounds] + [20 + b for b, _ in bounds]
    assert pos_ids == [pos] * 2 * len(bounds)
