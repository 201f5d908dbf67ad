"""The rules scorer's batch path (numpy over a whole batch) reads exactly as the per-document
rules (`spans`, the readable spec), and the aspects stage's batch path as `find`."""

from __future__ import annotations

import csv

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPORA, shared_path
from textmine.aspects import AspectFinder
from textmine.lexicons import load_lexicons
from textmine.segment import Segmenter
from textmine.sentiment import lexicon as rules
from textmine.sentiment.lexicon import LexiconScorer

LEXICONS = load_lexicons()
# The reference scorer only ever reads one document at a time (`spans`, the spec).
SCORER, REFERENCE = LexiconScorer(LEXICONS), LexiconScorer(LEXICONS)
FINDER, PER_DOCUMENT = AspectFinder(LEXICONS, SCORER), AspectFinder(LEXICONS, REFERENCE)


def cleared(spans: list[list]) -> bool:
    """`cleared_complaints` of one document, from its clauses."""
    opinions = [c[4] for c in spans if c[2]]
    return bool(opinions) and all(opinions)


def assert_batch_reads_as_documents(docs: list) -> None:
    batch = SCORER.clause_batch(docs)
    assert len(batch.raw) == len(batch.cleared_docs) == len(docs)
    assert batch.raw.dtype == float and batch.cleared_docs.dtype == bool
    for d, words in enumerate(docs):
        expected = REFERENCE.spans(words) if words is not None else []
        got = batch.spans(d)
        assert [s[:2] for s in got] == [s[:2] for s in expected], (words, got, expected)
        assert [s[4] for s in got] == [s[4] for s in expected], (words, got, expected)
        assert [s[2] for s in got] == pytest.approx([s[2] for s in expected], abs=1e-12)
        assert [s[3] for s in got] == pytest.approx([s[3] for s in expected], abs=1e-12)
        single = REFERENCE.raw_score(words) if words is not None else 0.0
        assert batch.raw[d] == pytest.approx(single, abs=1e-12), words
        assert batch.cleared_docs[d] == cleared(expected), words
    # The aspects stage reads the same clauses; its reference, on clauses from `spans`.
    assert FINDER.find_batch(docs) == [PER_DOCUMENT.find(w) if w else [] for w in docs]


def texts_of(path, column: str, limit: int | None = None) -> list[str]:
    with open(path, encoding="utf-8-sig") as fh:
        return [row[column] for row in csv.DictReader(fh)][:limit]


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return Segmenter(LEXICONS)


@pytest.mark.parametrize(("name", "column"), [("reviews.csv", "评论内容"), ("chats.csv", "内容")])
def test_batch_equals_single_documents_on_the_corpora(segmenter, name, column):
    docs = [segmenter.cut(t) for t in texts_of(CORPORA / name, column)]
    assert len(docs) > 400
    assert_batch_reads_as_documents(docs + [[], None])


def test_batch_equals_single_documents_on_shopping_reviews(segmenter):
    path = shared_path("online_shopping_10_cats", "online_shopping_10_cats.csv")
    assert_batch_reads_as_documents([segmenter.cut(t) for t in texts_of(path, "review", 1500)])


def test_scores_follow_each_new_batch_and_stages_share_its_clauses():
    scorer = LexiconScorer(LEXICONS)
    first = pd.DataFrame({"_words": [["物流", "很", "快"], ["不", "差"]]})
    second = pd.DataFrame({"_words": [["质量", "太", "差", "了"], ["不是", "不", "好"]]})
    for batch in (first, second, first):
        words = batch["_words"].tolist()
        assert scorer.raw_scores(batch).tolist() == [scorer.raw_score(w) for w in words]
        assert scorer.cleared_complaints(batch).tolist() == [cleared(scorer.spans(w))
                                                             for w in words]
        assert scorer.cached_spans(words[0]) == scorer.spans(words[0])
    assert scorer.cleared_complaints(second).tolist() == [False, True]
    # The same rows again (the aspects stage after the sentiment stage): nothing is re-read.
    assert scorer.clause_batch(first["_words"].tolist()) is scorer.clause_batch(
        list(first["_words"]))


# -- property: random word sequences over a vocabulary where every rule meets every other ----
def _vocabulary() -> list[str]:
    words = {"很", "好", "满意", "差", "不", "不是", "没有", "不太", "不够", "非常", "有点", "太",
             "但是", "但", "不过", "可是", "就是", "却", "虽然", "尽管", "难道", "凭什么", "不差",
             "没坏", "物流", "快", "慢", "质量", "价格", "便宜", "价格便宜", "速度", "还", "可以",
             "值得", "购买", "了", "的", "东西", "我", "，", "。", "！", "!", "？", " ", "…", "~",
             ":", "-", ")", ":-"}
    # Multi-word entries cut every way, so 2- and 3-word phrases (and their overlaps) occur.
    for entry in sorted(e for e in SCORER.weights if len(e) == 3)[:12]:
        words.update({entry[0], entry[1:], entry[:2], entry[2], entry[1]})
    return sorted(words)


VOCABULARY = _vocabulary()


def test_the_vocabulary_exercises_every_rule():
    scorer = REFERENCE
    kinds = {scorer.table[w][0] for w in VOCABULARY if scorer.table[w] is not None}
    assert kinds >= {rules._END, rules._SENTENCE, rules._NEG, rules._DEGREE, rules._OPINION,
                     rules._PREFIX, rules._CONTRAST, rules._MIDDLE, rules._CONCESSIVE,
                     rules._RHETORICAL, rules._GLUED}
    assert {w for w in VOCABULARY if w in rules.SOFT_NEGATIONS} and {
        w for w in VOCABULARY if w in rules.SPLIT_CONTRAST}
    joined = {a + b for a in VOCABULARY for b in VOCABULARY} | {
        a + b + c for a in VOCABULARY[:40] for b in VOCABULARY for c in VOCABULARY[:40]}
    assert len(joined & set(scorer.weights)) > 30
    degree_phrases = {a + b for a in VOCABULARY for b in VOCABULARY
                      if scorer.table[a] is not None and scorer.table[a][0] == rules._DEGREE}
    assert degree_phrases & set(scorer.weights)  # 很满意: read whole unless after a negation


documents = st.lists(st.sampled_from(VOCABULARY), max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents | st.none(), min_size=1, max_size=6))
def test_batch_equals_single_documents_on_random_word_sequences(docs):
    assert_batch_reads_as_documents(docs)
