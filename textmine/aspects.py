"""Aspect opinions: each clause's lexicon opinion attributed to the aspects its words name."""

from __future__ import annotations

import pandas as pd

from textmine.lexicons import Lexicons
from textmine.pipeline import Resources, Stage, register
from textmine.sentiment.lexicon import LexiconScorer


class _AspectOf(dict):
    """Word -> aspect, or "" for none; filled in for unknown words on first sight, so that
    compounds rjieba keeps whole (价格便宜, 物流太慢) resolve via their longest aspect prefix."""

    def __init__(self, aspect_of: dict[str, str]) -> None:
        super().__init__(aspect_of)
        self.aspect_of = aspect_of
        self.longest = max(map(len, aspect_of), default=0)

    def __missing__(self, word: str) -> str:
        longest = min(len(word) - 1, self.longest)
        found = next((self.aspect_of[word[:k]] for k in range(longest, 1, -1)
                      if word[:k] in self.aspect_of), "")
        self[word] = found
        return found


class AspectFinder:
    """Clauses from the lexicon scorer + the aspect taxonomy (`lexicons/aspects.txt`)."""

    def __init__(self, lexicons: Lexicons, scorer: LexiconScorer | None = None) -> None:
        self.scorer = scorer or LexiconScorer(lexicons)
        self.aspect_of = lexicons.aspect_of
        self._aspect = _AspectOf(self.aspect_of)

    def find(self, words: list[str]) -> list[dict]:
        """[{aspect, polarity, score, evidence}] in text order; one entry per aspect and clause.

        `score` is the clause's P(positive) (0.5 when the clause holds no opinion, polarity
        `neutral`); `evidence` is the clause text.
        """
        named_at = list(map(self._aspect.__getitem__, words))
        hits = [i for i, a in enumerate(named_at) if a]
        if not hits:
            return []
        out: list[dict] = []
        proba = self.scorer.clause_proba
        h, last = 0, len(hits)
        for start, end, score, *_ in self.scorer.cached_spans(words):
            while h < last and hits[h] < start:
                h += 1
            if h == last:
                break
            named: list[str] = []
            while h < last and hits[h] < end:
                aspect = named_at[hits[h]]
                if aspect not in named:
                    named.append(aspect)
                h += 1
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
