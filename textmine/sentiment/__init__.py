"""Document sentiment: models share one contract (`predict_proba(batch) -> P(positive)`)."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from textmine.errors import TextmineError
from textmine.lexicons import Lexicons

POLARITIES = ("negative", "neutral", "positive")


class SentimentModel(Protocol):
    """Anything with a name, a version and `predict_proba` over a batch DataFrame.

    The batch carries `text` (cleaned, masked), `tokens` (filtered words) and `_words` (all
    words with punctuation, in order), so a model uses whichever view it was built for.
    """

    name: str
    version: str

    def predict_proba(self, batch: pd.DataFrame) -> np.ndarray: ...


def load_model(name: str, lexicons: Lexicons) -> SentimentModel:
    """'snownlp' (the baseline), 'default' (the shipped model) or a path to a saved model."""
    if name in ("snownlp", "baseline"):
        from textmine.sentiment.snownlp_baseline import SnowNLPBaseline

        return SnowNLPBaseline()
    if name == "default":
        from textmine.sentiment.snownlp_baseline import SnowNLPBaseline

        return SnowNLPBaseline()
    raise TextmineError("E016", name, fix="Use --model snownlp, default, or a saved model path.")


def polarity(sentiment: np.ndarray | pd.Series, low: float, high: float) -> np.ndarray:
    """negative below `low`, positive at or above `high`, neutral between."""
    values = np.asarray(sentiment, dtype=float)
    return np.where(values < low, "negative", np.where(values >= high, "positive", "neutral"))


def score(frame: pd.DataFrame, text_col: str = "text", model: str | None = None,
          config=None) -> pd.DataFrame:  # config: textmine.config.Config
    """`frame` with `sentiment` and `polarity` added (the library twin of `textmine sentiment`)."""
    from textmine.config import Config
    from textmine.pipeline import apply_to_frame

    config = (config or Config()).with_overrides(sentiment_model=model)
    result = apply_to_frame(frame, text_col, ("clean", "segment", "sentiment"), config)
    out = frame.copy()
    out["sentiment"] = result["sentiment"]
    out["polarity"] = result["polarity"]
    return out
