"""texts_matching: one scan of the joined batch says which texts hold a phrase."""

import re

import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from textmine.pipeline import texts_matching

PHRASES = ["要退款", "质量差", "退", "假货"]
PATTERN = re2.compile("|".join(map(re.escape, sorted(PHRASES, key=len, reverse=True))))
_pieces = st.sampled_from(["要", "退款", "质量", "差", "假", "货", "好", "\n", " ", "，"])
_texts = st.one_of(st.none(), st.lists(_pieces, max_size=8).map("".join), st.text(max_size=12))


@settings(max_examples=200, deadline=None)
@given(st.lists(_texts, max_size=12))
def test_a_text_matches_when_a_phrase_occurs_in_it_alone(texts):
    expected = [bool(t) and any(p in t for p in PHRASES) for t in texts]
    assert texts_matching(PATTERN, texts).tolist() == expected


def test_a_phrase_split_across_two_texts_matches_neither():
    assert texts_matching(PATTERN, ["质量", "差不多", "要", "退款"]).tolist() == [False, False, False, True]
