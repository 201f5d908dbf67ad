"""Lexicon-and-rules sentiment, clause by clause: negation, degree, contrast, ! and rhetoric.

Rules, in the order a clause is read (a clause ends at , 。 ! ? ; ~ … or a space):
- a sentiment word (or a phrase of up to three adjacent words, e.g. 物流/快) adds its weight;
- a negation (不, 没有, 并非 …) flips the next opinion within four words: a negated positive
  becomes as negative, a negated negative only mildly positive (不差 is not 很好); two
  negations cancel to a weak positive (不是不好);
- a degree adverb scales the next opinion (非常 1.8, 有点 0.6); after a negation it softens
  instead (不是很满意 and 不太满意 are milder than 不满意);
- a clause ending in ! counts 1.3x; a rhetorical question (难道, 怎么能, 凭什么 …) is negative;
- contrast (但是, 不过, 就是 … opening a clause, or 却 anywhere) makes that clause count 1.5x
  and the clauses before it in the sentence 0.5x; a 虽然/尽管 clause counts 0.5x.
The document score is the sum of clause scores; P(positive) = sigmoid(a * score + b) with a
and b fitted on labeled reviews (see `CALIBRATION`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from textmine.lexicons import Lexicons

CLAUSE_END = frozenset(",，。.!！?？;；~～…:：\n \t")
SENTENCE_END = frozenset("。.!！?？\n")
CONCESSIVE = frozenset({"虽然", "虽", "尽管", "虽说", "固然"})
RHETORICAL = frozenset({"难道", "怎么能", "怎么可以", "凭什么", "岂", "何必", "好意思", "有脸"})
MIDDLE_CONTRAST = frozenset({"却", "反而", "倒是"})
SOFT_NEGATIONS = frozenset({"不太", "不大", "不怎么", "不够", "不算", "算不上", "谈不上", "称不上"})
SPLIT_CONTRAST = frozenset({"但", "但是", "可是", "不过", "然而"})
NEGATION_CHARS = frozenset("不没无未别")
NEGATION_SCOPE = 4  # words between a negation and the opinion it flips
# sigmoid(a * score + b): a logistic regression of the labels on the lexicon score over
# online_shopping_10_cats without 酒店 (56,788 reviews) gave a = 0.741, b = -0.386.
CALIBRATION = (0.741, -0.386)


# Word roles in the one lookup table the scorer consults per word.
(_END, _SENTENCE, _NEG, _DEGREE, _OPINION, _PREFIX, _CONTRAST, _MIDDLE, _CONCESSIVE,
 _RHETORICAL, _GLUED) = range(11)


class _Roles(dict):
    """Word -> (role, value, is a prefix) or None, filled in for unknown words on first sight.

    rjieba glues 不/没 to some words (不差, 没坏): those read as a negated opinion (_GLUED).
    """

    def __init__(self, weights: dict[str, float]) -> None:
        super().__init__()
        self.weights = weights

    def __missing__(self, word: str) -> tuple[int, float, bool] | None:
        rest = word[1:]
        role = ((_GLUED, self.weights[rest], False)
                if len(word) > 1 and word[0] in NEGATION_CHARS and rest in self.weights else None)
        self[word] = role
        return role


@dataclass(frozen=True)
class Clause:
    """One clause: its words, its opinion score (before contrast) and its weight in the doc."""

    words: tuple[str, ...]
    score: float
    weight: float

    @property
    def text(self) -> str:
        return "".join(self.words)


class LexiconScorer:
    """Rules over `_words` (all words in order, punctuation included); SentimentModel contract."""

    name = "lexicon"

    def __init__(self, lexicons: Lexicons, calibration: tuple[float, float] = CALIBRATION) -> None:
        self.weights = dict(lexicons.sentiment)
        self.calibration = calibration
        self.version = f"lexicon:{lexicons.digest}"
        self._memo: dict[int, tuple[list[str], list[list]]] = {}
        # One dict says what a word does, so an ordinary word costs one failed lookup (done
        # for a whole document by map()). Entries rjieba splits (物流快 → 物流/快) are matched
        # by joining up to 3 words; only words that start such an entry try it.
        prefixes = {e[:i] for e in self.weights for i in range(1, len(e))}
        self.prefixes = frozenset(prefixes)
        roles: dict[str, tuple[int, float]] = {p: (_PREFIX, 0.0) for p in prefixes}
        roles.update((w, (_OPINION, v)) for w, v in self.weights.items())
        roles.update((w, (_DEGREE, v)) for w, v in lexicons.degree.items())
        roles.update((w, (_NEG, 0.0)) for w in lexicons.negations)
        for words, kind in ((lexicons.contrast, _CONTRAST), (MIDDLE_CONTRAST, _MIDDLE),
                            (CONCESSIVE, _CONCESSIVE), (RHETORICAL, _RHETORICAL)):
            roles.update((w, (kind, 0.0)) for w in words)
        roles.update((ch, (_SENTENCE if ch in SENTENCE_END else _END, 0.0)) for ch in CLAUSE_END)
        # (role, value, starts a longer lexicon entry)
        self.table = _Roles(self.weights)
        self.table.update((w, (kind, value, w in prefixes)) for w, (kind, value) in roles.items())

    def spans(self, words: list[str]) -> list[list]:
        """[start, end, score, weight, cleared] per clause: word span, opinion score, contrast
        weight, and whether its only opinions are negated complaints (不差, 不是不好).

        A clause ends at punctuation, and also before 但/但是/可是/不过/然而 in mid-sentence
        (质量好但价格贵 is two opinions).
        """
        weights, prefixes = self.weights, self.prefixes
        roles = list(map(self.table.__getitem__, words))
        out: list[list] = []
        n = len(words)
        # Per clause: [first word, score, pending negations, index of the last negation,
        # degree scale, degree after negation, contrast, concessive, rhetorical].
        start, sentence = 0, 0
        total, negated, last_neg, scale, softened = 0.0, 0, -9, 1.0, False
        contrast = concessive = rhetorical = False
        cleared = others = 0  # negated negative opinions; all other opinions

        def close(end: int, exclaim: bool) -> None:
            score = total
            if rhetorical:
                score = -abs(score) if score else -1.0
            elif exclaim:
                score *= 1.3
            weight = 1.0
            if contrast:
                weight = 1.5
                for span in out[sentence:]:
                    span[3] *= 0.5
            elif concessive:
                weight = 0.5
            out.append([start, end, score, weight, cleared > 0 and others == 0])

        # Only words with a role are visited: ordinary words (most of them) cost nothing here.
        hits = [i for i, role in enumerate(roles) if role is not None]
        hits.append(n)  # the end of the text closes the last clause
        pos = 0  # first word not yet read (a phrase reads several)
        for i in hits:
            if i < pos:
                continue
            kind, value, prefix = roles[i] if i < n else (_SENTENCE, 0.0, False)
            if kind == _GLUED:
                negated, last_neg, kind = negated + 1, i, _OPINION
            if kind <= _SENTENCE or (kind == _CONTRAST and i - start >= 2
                                     and words[i] in SPLIT_CONTRAST):
                if i > start:
                    close(i, i < n and words[i] in ("!", "！"))
                if kind == _SENTENCE:
                    sentence = len(out)
                total, negated, scale, softened = 0.0, 0, 1.0, False
                contrast = concessive = rhetorical = False
                cleared = others = 0
                if kind <= _SENTENCE:
                    start = pos = i + 1
                    continue
                start = i  # the contrast word opens the next clause
            pos = i + 1
            if prefix and pos < n and not (negated and kind == _DEGREE):
                # Longest phrase first: three words, then two. (Not 很满意 after a negation:
                # the degree word must soften instead.)
                two = words[i] + words[pos]
                three = (two + words[pos + 1] if pos + 1 < n and two in prefixes else "")
                if three in weights:
                    kind, value, pos = _OPINION, weights[three], pos + 2
                elif two in weights:
                    kind, value, pos = _OPINION, weights[two], pos + 1
            if kind == _OPINION:
                if negated and pos - last_neg <= NEGATION_SCOPE + 1:
                    if softened:
                        scale = min(scale, 1.0) * 0.7
                    if negated % 2 == 0 or value < 0:
                        cleared += 1
                    else:
                        others += 1
                    if negated % 2 == 0:
                        value = abs(value) * 0.5
                    else:
                        value = -value if value > 0 else -value * 0.5
                else:
                    others += 1
                total += value * scale
                negated, scale, softened = 0, 1.0, False
            elif kind == _NEG:
                negated, last_neg = negated + 1, i
                if words[i] in SOFT_NEGATIONS:
                    scale, softened = 1.0, True
            elif kind == _DEGREE:
                scale *= value
                softened = softened or negated > 0
            elif kind == _CONTRAST:
                contrast = contrast or i - start < 2
            elif kind == _MIDDLE:
                contrast = True
            elif kind == _CONCESSIVE:
                concessive = concessive or i - start < 2
            elif kind == _RHETORICAL:
                rhetorical = True
        return out

    def clauses(self, words: list[str]) -> list[Clause]:
        """The document's clauses with their words, scores and contrast weights."""
        return [Clause(tuple(words[a:b]), score, weight) for a, b, score, weight in self.spans(words)]

    # -- documents -------------------------------------------------------------------------
    def raw_score(self, words: list[str]) -> float:
        """Sum of the clause scores weighted for contrast."""
        return sum(span[2] * span[3] for span in self.spans(words))

    def raw_scores(self, batch: pd.DataFrame) -> np.ndarray:
        """Document scores for a batch; its clauses are kept until the next batch, so the
        aspects stage that follows reuses them (`cached_spans`) instead of reading again."""
        words = batch["_words"].tolist()
        spans = [self.spans(w) if w is not None else [] for w in words]
        self._memo = {id(w): (w, s) for w, s in zip(words, spans, strict=True)}
        return np.array([sum([c[2] * c[3] for c in s]) for s in spans], dtype=float)

    def cleared_complaints(self, batch: pd.DataFrame) -> np.ndarray:
        """True where every clause with an opinion holds only negated complaints (不差,
        没问题, 不是不好): text a bag of n-grams reads as negative. Uses the cached clauses."""
        flags = []
        for w in batch["_words"].tolist():
            opinions = [c[4] for c in (self.cached_spans(w) if w is not None else []) if c[2]]
            flags.append(bool(opinions) and all(opinions))
        return np.array(flags, dtype=bool)

    def cached_spans(self, words: list[str]) -> list[list]:
        """`spans(words)`, from the last batch's results when this is the same word list."""
        hit = self._memo.get(id(words))
        return hit[1] if hit is not None and hit[0] is words else self.spans(words)

    def predict_proba(self, batch: pd.DataFrame) -> np.ndarray:
        """P(positive) per row from the `_words` column."""
        return self.proba_from_raw(self.raw_scores(batch))

    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-np.clip(a * raw + b, -50, 50)))

    def clause_proba(self, score: float) -> float:
        """A clause score as P(positive) (no prior: a clause without opinion is 0.5)."""
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.calibration[0] * score))))
