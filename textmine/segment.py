"""Segment Chinese text into words with jieba's algorithm (rjieba) and our retail lexicons."""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import rjieba

from textmine.lexicons import Lexicons

# Placeholders left by masking/cleaning (<PHONE>, <URL> …) are not words.
_PLACEHOLDER = re.compile(r"<[A-Z]+>")


def _is_word(token: str) -> bool:
    """False for whitespace, punctuation and symbols; True for words, numbers and emoji."""
    if not token.strip():
        return False
    cat = unicodedata.category(token[0])
    if len(token) == 1:
        # Emoji (So) carry sentiment and stay; punctuation (P*) and other symbols go.
        return not cat.startswith("P") and cat not in ("Sm", "Sc", "Sk", "Zs", "Cc", "Cf")
    return any(not unicodedata.category(ch).startswith("P") for ch in token)


class Segmenter:
    """A jieba-compatible word segmenter with the user dictionary, stopwords and synonyms.

    Usable directly as a scikit-learn tokenizer: `TfidfVectorizer(tokenizer=Segmenter(lex))`.
    """

    def __init__(self, lexicons: Lexicons, hmm: bool = True) -> None:
        self.hmm = hmm
        self.stopwords = lexicons.stopwords
        self.synonyms = lexicons.synonyms
        self._jieba = rjieba.Jieba()
        for word, (freq, pos) in lexicons.userdict.items():
            # Like jieba's add_word(word) without a frequency: just enough to keep it whole.
            self._jieba.add_word(word, freq or self._jieba.suggest_freq(word), pos)
        # rjieba's add_word keeps the old tag of a word it already knows (续航 stays nr), so
        # tag() applies the userdict's tags itself.
        self._userdict_pos = {w: pos for w, (_, pos) in lexicons.userdict.items() if pos}
        self._word_cache: dict[str, str] = {}

    def __getstate__(self) -> dict:
        raise TypeError("Segmenter holds a native dictionary; build one per process instead.")

    def cut(self, text: str) -> list[str]:
        """All words in order, punctuation included (clause-level scoring needs it)."""
        if not text:
            return []
        if "<" in text:
            text = _PLACEHOLDER.sub(" ", text)
        return self._jieba.cut(text, self.hmm)

    def tag(self, text: str) -> list[tuple[str, str]]:
        """Words with jieba part-of-speech tags (the topic model filters on them)."""
        if not text:
            return []
        if "<" in text:
            text = _PLACEHOLDER.sub(" ", text)
        pos = self._userdict_pos
        return [(w, pos.get(w, p)) for w, p in self._jieba.tag(text, self.hmm)]

    def _learn(self, words: set[str]) -> None:
        """Judge each word not seen before once per process: the canonical form to keep (a
        synonym's target), or "" when it is a stopword, punctuation or space."""
        cache = self._word_cache
        for w in words.difference(cache):
            cache[w] = (self.synonyms.get(w, w) if w not in self.stopwords and _is_word(w)
                        else "")

    def filter(self, words: list[str]) -> list[str]:
        """Drop stopwords, punctuation and spaces; map synonyms to their canonical word."""
        self._learn(set(words))
        return list(filter(None, map(self._word_cache.__getitem__, words)))

    def __call__(self, text: str) -> list[str]:
        return self.filter(self.cut(text))

    def segment_texts(self, texts: pd.Series) -> tuple[list[list[str]], list[list[str]]]:
        """(words, tokens) for a batch: raw words for clause rules, filtered tokens to store."""
        cut = self.cut
        words = [cut(t) if isinstance(t, str) else [] for t in texts]
        # The per-document work is C-level map/filter over the cache of judged words.
        self._learn(set().union(*words))
        lookup = self._word_cache.__getitem__
        return words, [list(filter(None, map(lookup, w))) for w in words]
