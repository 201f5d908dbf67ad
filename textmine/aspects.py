"""Aspect opinions: each clause's lexicon opinion attributed to the aspects its words name."""

from __future__ import annotations

import numpy as np
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
        found = self[word] = self.by_prefix(word)
        return found

    def by_prefix(self, word: str) -> str:
        """The aspect of the longest taxonomy word (2+ characters) that starts `word`."""
        longest = min(len(word) - 1, self.longest)
        return next((self.aspect_of[word[:k]] for k in range(longest, 1, -1)
                     if word[:k] in self.aspect_of), "")


class AspectFinder:
    """Clauses from the lexicon scorer + the aspect taxonomy (`lexicons/aspects.txt`)."""

    def __init__(self, lexicons: Lexicons, scorer: LexiconScorer | None = None) -> None:
        self.scorer = scorer or LexiconScorer(lexicons)
        self.aspect_of = lexicons.aspect_of
        self._aspect = _AspectOf(self.aspect_of)
        # The batch path: aspect code per id of the scorer's vocabulary (0: none).
        self._names = [""]
        self._code_of = {"": 0}
        self._codes = np.zeros(0, np.int64)
        self._proba: dict[float, float] = {}

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

    def find_batch(self, docs: list) -> list[list[dict]]:
        """`find` for each `_words` list of a batch (None or empty: []), from the clauses the
        scorer keeps for the batch: aspect words are located with numpy, and dicts are built
        only for the clauses that name an aspect."""
        clauses = self.scorer.clause_batch(docs)
        out: list[list[dict]] = [[] for _ in docs]
        codes = self._aspect_codes()[clauses.ids]
        at = np.flatnonzero(codes)
        ends = clauses.end
        if not len(at) or not len(ends):
            return out
        # The clause holding each aspect word (none for punctuation between clauses).
        clause = np.searchsorted(ends, at, "right")
        inside = clause < len(ends)
        inside[inside] = clauses.start[clause[inside]] <= at[inside]
        clause, code = clause[inside], codes[at[inside]]
        # Each aspect once per clause, in text order.
        first = np.unique(clause * len(self._names) + code, return_index=True)[1]
        first.sort()
        clause, code = clause[first], code[first]
        docs, names, proba = clauses.docs, self._names, self._proba
        doc = clauses.doc[clause]
        base = clauses.offsets[doc]
        last, entry = -1, None
        for c, a, d, score, start, end in zip(
                clause.tolist(), code.tolist(), doc.tolist(), clauses.score[clause].tolist(),
                (clauses.start[clause] - base).tolist(), (ends[clause] - base).tolist(),
                strict=True):
            if c != last:
                last = c
                p = proba.get(score)
                if p is None:
                    if len(proba) > 100_000:  # scores repeat: keep the memo small
                        proba.clear()
                    p = proba[score] = round(self.scorer.clause_proba(score), 4)
                entry = ("positive" if score > 0 else "negative" if score < 0 else "neutral",
                         p, "".join(docs[d][start:end]).strip())
            out[d].append({"aspect": names[a], "polarity": entry[0], "score": entry[1],
                           "evidence": entry[2]})
        return out

    def _aspect_codes(self) -> np.ndarray:
        """Aspect code per vocabulary id, filled in for the words the scorer added since."""
        words, done = self.scorer.vocab.words, len(self._codes)
        if len(words) > done:
            names, code_of, aspect_of = self._names, self._code_of, self.aspect_of
            by_prefix = self._aspect.by_prefix
            new = []
            for w in words[done:]:
                aspect = aspect_of.get(w) or (by_prefix(w) if len(w) > 2 else "")
                code = code_of.get(aspect)
                if code is None:
                    code = code_of[aspect] = len(names)
                    names.append(aspect)
                new.append(code)
            self._codes = np.concatenate([self._codes, np.array(new, np.int64)])
        return self._codes


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
    finder = aspect_finder(resources)
    batch = batch.copy(deep=False)  # stages add columns; the rows are not modified
    batch["aspects"] = finder.find_batch(batch["_words"].tolist())
    return batch


register(Stage("aspects", requires=("_words", "text"), assigns=("aspects",), func=aspects_stage))
