"""The rules scorer: negation, degree, contrast, exclamation and rhetorical questions."""

from __future__ import annotations

import pandas as pd
import pytest

from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.pipeline import apply_to_frame
from textmine.segment import Segmenter
from textmine.sentiment.lexicon import LexiconScorer


@pytest.fixture(scope="module")
def lexicon():
    lexicons = load_lexicons()
    segmenter = Segmenter(lexicons)
    scorer = LexiconScorer(lexicons)
    return lambda text: scorer.raw_score(segmenter.cut(text))


def polarities(texts: list[str], model: str = "lexicon") -> list[str]:
    frame = pd.DataFrame({"text": texts})
    out = apply_to_frame(frame, "text", ("clean", "segment", "sentiment"),
                         Config(sentiment_model=model, workers=1))
    return list(out["polarity"])


def test_issue_cases_lexicon_model():
    found = polarities(["不太好", "不是不好", "物流很快，但是质量太差"])
    assert found[0] == "negative" and found[1] != "negative" and found[2] == "negative"


def test_negation_flips_positive_and_softens_negative(lexicon):
    assert lexicon("好") > 0 > lexicon("不好")
    assert lexicon("不差") > 0
    assert lexicon("不差") < lexicon("好")  # 不差 is not 很好
    assert lexicon("没有想象中的好") < 0  # scope reaches past three words


def test_double_negation_is_not_negative(lexicon):
    assert lexicon("不是不好") > 0


def test_degree_scales_and_softens_under_negation(lexicon):
    assert lexicon("非常满意") > lexicon("满意") > lexicon("有点满意") > 0
    assert lexicon("不满意") < lexicon("不是很满意") < 0
    assert lexicon("不满意") < lexicon("不太满意") < 0


def test_contrast_clause_wins(lexicon):
    assert lexicon("物流很快，但是质量太差") < 0
    assert lexicon("虽然价格有点贵，但是质量很好") > 0
    assert lexicon("质量好但价格贵") < 0  # 但 splits a clause without punctuation


def test_exclamation_and_rhetorical_question(lexicon):
    assert lexicon("好！") > lexicon("好")
    assert lexicon("难道这就是正品吗？") < 0 < lexicon("这就是正品")


def test_phrases_rjieba_splits_are_matched(lexicon):
    assert lexicon("物流快") > 0  # 物流快 is one lexicon entry, two rjieba words
