"""Aspect opinions: each clause's lexicon opinion attributed to the aspects its words name."""

from __future__ import annotations

import pandas as pd

from textmine.lexicons import Lexicons
from textmine.pipeline import Resources, Stage, register
from textmine.sentiment.lexicon import LexiconScorer


class AspectFinder:
    """Clauses from the lexicon scorer + the aspect taxonomy (`lexicons/aspects.txt`)."""

    def __init__(self, lexicons: Lexicons, scorer: LexiconScorer | None = None) -> None:
        self.scorer = scorer or LexiconScorer(lexicons)
        self.aspect_of = lexicons.aspect_of
        # Word -> aspect or "" for every word seen; compounds rjieba keeps whole (价格便宜,
        # 物流太慢) resolve through their longest aspect-word prefix.
        self._cache: dict[str, str] = dict(self.aspect_of)
        self._longest = max(map(len, self.aspect_of), default=0)

    def _aspect(self, word: str) -> str:
        found = self._cache.get(word)
        if found is None:
            longest = min(len(word) - 1, self._longest)
            found = next((self.aspect_of[word[:k]] for k in range(longest, 1, -1)
                          if word[:k] in self.aspect_of), "")
            self._cache[word] = found
        return found

    def find(self, words: list[str]) -> list[dict]:
        """[{aspect, polarity, score, evidence}] in text order; one entry per aspect and clause.

        `score` is the clause's P(positive) (0.5 when the clause holds no opinion, polarity
        `neutral`); `evidence` is the clause text.
        """
        named_at = list(map(self._aspect, words))
        if not any(named_at):
            return []
        out = []
        proba = self.scorer.clause_proba
        for start, end, score, *_ in self.scorer.cached_spans(words):
            named = dict.fromkeys(a for a in named_at[start:end] if a)
            if not named:
                continue
            polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
            evidence = "".join(words[start:end]).strip()
            p = round(proba(score), 4)
            out.extend({"aspect": a, "polarity": polarity, "score": p, "evidence": evidence}
                       for a in named)
        return out


def aspect_finder(resources: Resources) -> AspectFinder:
    """The process's AspectFinder for these resources (built once, kept in `resources.extra`)."""
    finder = resources.extra.get("aspect_finder")
    if finder is None:
        # Share the sentiment model's rules scorer: it keeps the clauses of the batch it just
        # scored, so this stage does not read the words again.
        model = resources.sentiment_model
        scorer = model if isinstance(model, LexiconScorer) else getattr(model, "lexicon_scorer", None)
        finder = resources.extra["aspect_finder"] = AspectFinder(resources.lexicons, scorer)
    return finder


def aspects_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """_words -> aspects (list of {aspect, polarity, score, evidence} per document)."""
    find = aspect_finder(resources).find
    batch = batch.copy()
    batch["aspects"] = [find(w) if w is not None and len(w) else [] for w in batch["_words"]]
    return batch


register(Stage("aspects", requires=("_words", "text"), assigns=("aspects",), func=aspects_stage))
