"""snownlp's naive-Bayes sentiment model, applied to our tokens in one vectorised pass."""

from __future__ import annotations

import gzip
import marshal
import math
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pandas as pd


class SnowNLPBaseline:
    """Same numbers as `snownlp.sentiment.classify` given the same words, ~100x faster.

    snownlp scores a word list with add-one naive Bayes: P(pos) = 1 / (1 + exp(-(prior + sum of
    per-word log-likelihood ratios))). We read its trained counts once and precompute the
    ratios, so a document costs one dictionary lookup per token. `SnowNLP(text).sentiments`
    also re-segments every text with its own slow segmenter; we use our tokens instead.
    """

    name = "snownlp"
    version = "snownlp-0.12.3-nb"

    def __init__(self) -> None:
        # Locate the counts without importing snownlp: its __init__ loads every model (~4 s).
        spec = find_spec("snownlp")
        path = Path(spec.origin).parent / "sentiment" / "sentiment.marshal.3"
        with gzip.open(path, "rb") as fh:
            data = marshal.loads(fh.read())
        pos, neg = data["d"]["pos"], data["d"]["neg"]
        pos_total, neg_total = float(pos["total"]), float(neg["total"])
        # AddOneProb stores count+1 for seen words and uses 1 for unseen ones.
        self.prior = math.log(pos_total) - math.log(neg_total)
        self.unknown = math.log(1.0 / pos_total) - math.log(1.0 / neg_total)
        words = set(pos["d"]) | set(neg["d"])
        self.llr = {
            w: math.log(pos["d"].get(w, 1) / pos_total) - math.log(neg["d"].get(w, 1) / neg_total)
            for w in words
        }

    def log_odds(self, tokens: list[str]) -> float:
        get, unknown = self.llr.get, self.unknown
        return self.prior + sum(get(w, unknown) for w in tokens)

    def predict_proba(self, batch: pd.DataFrame) -> np.ndarray:
        """P(positive) per row from the `tokens` column."""
        z = np.fromiter((self.log_odds(t) for t in batch["tokens"]), dtype=float, count=len(batch))
        return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))
