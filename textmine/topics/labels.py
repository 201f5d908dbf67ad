"""Readable topics: relevance-ranked label words, shares of complaints, representative quotes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

OTHER = -1  # the topic of documents that fit no topic well, shown as 其他
RELEVANCE_LAMBDA = 0.6  # Sievert & Shirley (2014): users found topics easiest to read near 0.6
LABEL_WORDS = 3


def relevance(topic_word: np.ndarray, term_prob: np.ndarray,
              lam: float = RELEVANCE_LAMBDA) -> np.ndarray:
    """λ·log p(w|k) + (1-λ)·log(p(w|k)/p(w)): frequent in the topic and distinctive for it."""
    log_tw = np.log(np.maximum(topic_word, 1e-12))
    return lam * log_tw + (1 - lam) * (log_tw - np.log(np.maximum(term_prob, 1e-12))[None, :])


def ranked_words(scores: np.ndarray, terms: Sequence[str], n: int = 10) -> list[list[str]]:
    """The n best terms of each topic by `scores` (ties by term order, so results are stable)."""
    out = []
    for row in scores:
        order = np.lexsort((np.arange(len(row)), -row))[:n]
        out.append([terms[i] for i in order])
    return out


def make_label(words: Sequence[str], taken: set[str] = frozenset(),
               n: int = LABEL_WORDS) -> str:
    """Join the first `n` words that do not repeat each other (物流 beside 物流太慢 says nothing new).

    A label already used by another topic gets one more word until it is unique.
    """
    chosen: list[str] = []
    label = ""
    for word in words:
        if any(word in c or c in word for c in chosen):
            continue
        chosen.append(word)
        label = "、".join(chosen)
        if len(chosen) >= n and label not in taken:
            break
    return label


def shares(topic_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Documents per topic and their share of all documents (the rest are -1, "other")."""
    counts = np.bincount(topic_ids[topic_ids >= 0], minlength=k)[:k]
    return counts, counts / max(len(topic_ids), 1)


def pick_quotes(texts: Sequence[str], topic_ids: np.ndarray, probs: np.ndarray, topic: int,
                n: int = 3, min_chars: int = 8, max_chars: int = 80) -> list[str]:
    """Up to `n` distinct texts most firmly in `topic`, short enough to read out in a meeting."""
    idx = np.flatnonzero(topic_ids == topic)
    fitting = [i for i in idx if isinstance(texts[i], str) and min_chars <= len(texts[i]) <= max_chars]
    pool = fitting or [i for i in idx if isinstance(texts[i], str) and texts[i]]
    pool.sort(key=lambda i: (-round(float(probs[i]), 3), len(texts[i]), texts[i]))
    quotes: list[str] = []
    for i in pool:
        if texts[i] not in quotes:
            quotes.append(texts[i])
        if len(quotes) == n:
            break
    return quotes
