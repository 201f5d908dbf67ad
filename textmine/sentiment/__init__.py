"""Document sentiment: models share one contract (`predict_proba(batch) -> P(positive)`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
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


SHIPPED_MODEL = "sentiment_default.npz"
# Names `load_model` resolves itself; anything else is the path of a saved model.
BUILTIN_MODELS = ("default", "snownlp", "baseline", "lexicon")


def shipped_model_path() -> Path:
    """The default model file installed with the package (textmine/models/)."""
    return Path(str(resources.files("textmine.models"))) / SHIPPED_MODEL


def load_model(name: str, lexicons: Lexicons) -> SentimentModel:
    """'default' (the shipped model), 'snownlp' (the baseline), 'lexicon' (rules) or a path."""
    if name in ("snownlp", "baseline"):
        from textmine.sentiment.snownlp_baseline import SnowNLPBaseline

        return SnowNLPBaseline()
    if name == "lexicon":
        from textmine.sentiment.lexicon import LexiconScorer

        return LexiconScorer(lexicons)
    path = shipped_model_path() if name == "default" else Path(name)
    if not path.is_file():
        raise TextmineError("E016", name, where=str(path),
                            fix="Use --model default, snownlp, lexicon, or the path of a model "
                                "saved by `textmine train sentiment`.")
    from textmine.sentiment.ngram import NgramModel

    try:
        return NgramModel.load(path, lexicons)
    except (OSError, ValueError, KeyError) as exc:
        raise TextmineError("E016", f"{type(exc).__name__}: {exc}", where=str(path),
                            fix="Re-create it with `textmine train sentiment`.") from exc


def model_columns(config) -> tuple[str, ...]:  # config: textmine.config.Config
    """Input columns the configured model reads besides the text: a model trained with
    `--domain-col` reads that column, else `product`; other models read none. Only the model
    file's header is read: the workers load the model itself."""
    name = config.sentiment_model
    if name in BUILTIN_MODELS and name != "default":
        return ()
    from textmine.sentiment.ngram import saved_settings

    try:
        settings = saved_settings(shipped_model_path() if name == "default" else name)
    except (OSError, ValueError, KeyError):
        return ()  # loading the model reports what is wrong with the file
    # A self-trained model also passes the batch to its anchor, which may read a column.
    inner = (model_columns(config.with_overrides(sentiment_model=settings.anchor))
             if settings.anchor and settings.anchor != name else ())
    if settings.domain_col:
        return tuple(dict.fromkeys((settings.domain_col, "product", *inner)))
    return inner


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
    result = apply_to_frame(frame, text_col, ("clean", "segment", "sentiment"), config,
                            keep=model_columns(config))
    out = frame.copy()
    out["sentiment"] = result["sentiment"]
    out["polarity"] = result["polarity"]
    return out
