"""Turn tokens of short Chinese complaints into topic-model terms: POS filter, filler, phrases, DF pruning."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

# jieba tags kept: nouns (n, nr, ns, nz, vn …), verbs (v, vd …), adjectives (a, ad, an …), and
# Latin-script words (eng: ipad, win7, wifi), which name products in these reviews.
KEEP_POS_PREFIXES = ("n", "v", "a", "eng")
NEGATION_PREFIXES = "不没"
URL_PIECES = frozenset({"http", "https", "www", "com", "cn", "html", "htm"})

Doc = Sequence[str]


def _fold(word: str) -> str:
    # iPad, IPAD and ipad are one product name.
    return word.lower() if word.isascii() else word


def _joins(left: str, right: str) -> str:
    # Chinese compounds read naturally without a separator (屏幕+碎 -> 屏幕碎); Latin words need one.
    return f"{left}_{right}" if left[-1:].isascii() and right[:1].isascii() else left + right


class PosLookup:
    """Part of speech of a single word, from the segmenter's tagger (userdict tags win), cached.

    jieba tags a dictionary word with its dictionary tag whatever the context, so tagging the
    word alone matches tagging it in the sentence; a word the tagger splits (an HMM-made word)
    takes the tag of its last piece, the head of a Chinese compound.
    """

    def __init__(self, segmenter: Any) -> None:
        self._segmenter = segmenter
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        pos = self._cache.get(word)
        if pos is None:
            if word.isascii():
                # ipad, win7 are product words; URL pieces, 3.5 and bare numbers are not.
                product_like = word.isalnum() and not word.isdigit() and word not in URL_PIECES
                pos = "eng" if product_like else "x"
            else:
                tagged = self._segmenter.tag(word)
                pos = tagged[-1][1] if tagged else "x"
            self._cache[word] = pos
        return pos


def candidate_filter(pos_of: Callable[[str], str], excluded: frozenset[str],
                     keep_pos: tuple[str, ...] = KEEP_POS_PREFIXES,
                     min_chars: int = 2) -> Callable[[str], bool]:
    """A cached predicate: may this token become a topic term (POS kept, not filler/stopword)?"""
    cache: dict[str, bool] = {}

    def keep(word: str) -> bool:
        ok = cache.get(word)
        if ok is None:
            # Negated verbs (不想, 没用, 不到) say that something is wrong, not what: no topic.
            pos = pos_of(word)
            # A one-character noun can name the product (书, 奶, 鞋); other single characters
            # (用, 买, 差) are too vague for a topic.
            long_enough = len(word) >= min_chars or pos == "n"
            ok = cache[word] = (long_enough and word not in excluded
                                and word[0] not in NEGATION_PREFIXES and pos.startswith(keep_pos))
        return ok

    return keep


def merge_phrases(doc: Doc, phrases: dict[tuple[str, str], str]) -> list[str]:
    """Greedy left-to-right bigram merge (what gensim's frozen Phrases does), from a lookup table."""
    out: list[str] = []
    i, n = 0, len(doc)
    while i < n:
        if i + 1 < n:
            joined = phrases.get((doc[i], doc[i + 1]))
            if joined is not None:
                out.append(joined)
                i += 2
                continue
        out.append(doc[i])
        i += 1
    return out


@dataclass
class TermVocabulary:
    """What fitting learned: which unigrams count, which bigrams merge, and the term index.

    Self-contained once fitted (no segmenter, POS tagger or lexicon needed to transform token
    lists), so a stored model gives the same terms next week even if the lexicons changed.
    """

    no_below: int = 5  # a term must occur in at least this many documents …
    no_above: float = 0.25  # … and in at most this share of them
    max_terms: int = 8000
    phrase_min_count: int = 10
    phrase_threshold: float = 0.5  # NPMI scoring: 0.5 keeps word pairs that mostly occur together
    unigrams: frozenset[str] = field(default_factory=frozenset)
    phrases: dict[tuple[str, str], str] = field(default_factory=dict)
    terms: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _seen: dict[str, str] = field(default_factory=dict, repr=False)

    def fit(self, docs: Iterable[Doc], keep: Callable[[str], bool]) -> list[list[str]]:
        """Learn from token lists; return each document's terms (filtered, phrased, pruned)."""
        from gensim.models.phrases import Phrases

        kept = [[w for w in map(_fold, doc) if keep(w)] for doc in docs]
        self.unigrams = frozenset(w for doc in kept for w in doc)
        learner = Phrases(kept, min_count=self.phrase_min_count, threshold=self.phrase_threshold,
                          scoring="npmi", delimiter="\x00")
        self.phrases = {}
        for key in learner.export_phrases():
            left, right = key.split("\x00")
            self.phrases[(left, right)] = _joins(left, right)
        phrased = [merge_phrases(doc, self.phrases) for doc in kept]
        df = Counter(w for doc in phrased for w in set(doc))
        n_docs = max(len(phrased), 1)
        ceiling = self.no_above * n_docs
        allowed = [(w, c) for w, c in df.items() if self.no_below <= c <= ceiling]
        # Most frequent first, ties by word: the same data always gives the same term order.
        allowed.sort(key=lambda wc: (-wc[1], wc[0]))
        self.terms = [w for w, _ in allowed[:self.max_terms]]
        self._index = {w: i for i, w in enumerate(self.terms)}
        return [[w for w in doc if w in self._index] for doc in phrased]

    def transform(self, docs: Iterable[Doc]) -> list[list[str]]:
        """Each document's terms, by the fitted rules (unknown words dropped)."""
        phrases, index = self.phrases, self._index
        # token -> the unigram it counts as, or "" (one dict lookup per token after the first).
        seen = self._seen
        out = []
        for doc in docs:
            kept = []
            for token in doc:
                word = seen.get(token)
                if word is None:
                    folded = _fold(token)
                    word = seen[token] = folded if folded in self.unigrams else ""
                if word:
                    kept.append(word)
            if len(kept) > 1 and phrases:
                kept = merge_phrases(kept, phrases)
            out.append([w for w in kept if w in index])
        return out

    def counts(self, term_docs: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Document-term count matrix (documents × terms)."""
        index = self._index
        indptr = np.zeros(len(term_docs) + 1, dtype=np.int64)
        ids: list[int] = []
        for i, doc in enumerate(term_docs):
            ids.extend(index[w] for w in doc)
            indptr[i + 1] = len(ids)
        data = np.ones(len(ids), dtype=np.float64)
        matrix = sparse.csr_matrix((data, np.asarray(ids, dtype=np.int32), indptr),
                                   shape=(len(term_docs), len(self.terms)))
        matrix.sum_duplicates()
        return matrix

    def state(self) -> dict[str, Any]:
        """JSON-ready state for saving."""
        return {"settings": {"no_below": self.no_below, "no_above": self.no_above,
                             "max_terms": self.max_terms,
                             "phrase_min_count": self.phrase_min_count,
                             "phrase_threshold": self.phrase_threshold},
                "unigrams": sorted(self.unigrams),
                "phrases": [[a, b, j] for (a, b), j in sorted(self.phrases.items())],
                "terms": self.terms}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TermVocabulary:
        vocab = cls(**state["settings"])
        vocab.unigrams = frozenset(state["unigrams"])
        vocab.phrases = {(a, b): j for a, b, j in state["phrases"]}
        vocab.terms = list(state["terms"])
        vocab._index = {w: i for i, w in enumerate(vocab.terms)}
        return vocab
