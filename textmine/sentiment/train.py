"""Train a sentiment model from a labeled or star-rated file (`textmine train sentiment`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from textmine.config import Config
from textmine.errors import TextmineError
from textmine.sentiment.metrics import binary_labels, binary_scores
from textmine.sentiment.ngram import NgramModel, NgramSettings


def rating_labels(ratings: pd.Series, negative_max: float = 2.0, positive_min: float = 4.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(labels, used): stars <= negative_max are 0, >= positive_min are 1, the middle is unused."""
    if negative_max >= positive_min:
        raise TextmineError("E015", f"--negative-max {negative_max} >= --positive-min {positive_min}",
                            fix="Choose thresholds with a gap, e.g. --negative-max 2 --positive-min 4.")
    stars = pd.to_numeric(ratings.astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0], errors="coerce")
    labels = (stars >= positive_min).to_numpy(dtype=int)
    used = ((stars <= negative_max) | (stars >= positive_min)).fillna(False).to_numpy(dtype=bool)
    return labels, used


def prepare_texts(texts: pd.Series, config: Config) -> pd.DataFrame:
    """`text`, `tokens` and `_words` for raw texts, as the analyze pipeline makes them."""
    from textmine.pipeline import STAGES, resources_for

    resources = resources_for(config)
    raw = pd.DataFrame({"text_raw": texts.astype(object).where(texts.notna(), None).to_numpy()})
    return STAGES["segment"](STAGES["clean"](raw, resources), resources)


def cross_validate(batch: pd.DataFrame, labels: np.ndarray, settings: NgramSettings,
                   folds: int = 5, seed: int = 0, lexicons=None) -> dict:
    """Mean and per-fold scores of `folds`-fold cross-validation (stratified, shuffled)."""
    from sklearn.model_selection import StratifiedKFold

    rows = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels):
        model = NgramModel(settings, lexicons=lexicons).fit(batch.iloc[train_idx],
                                                            labels[train_idx])
        rows.append(binary_scores(labels[test_idx], model.predict_proba(batch.iloc[test_idx])))
    mean = {k: round(float(np.mean([r[k] for r in rows])), 4)
            for k in ("accuracy", "macro_f1", "roc_auc")}
    return {**mean, "folds": rows}


def train_file(path: str | Path, out: str | Path, *, text_col: str | None = None,
               label_col: str | None = None, rating_col: str | None = None,
               negative_max: float = 2.0, positive_min: float = 4.0,
               settings: NgramSettings | None = None, cv: int = 0,
               config: Config | None = None, name: str = "ngram",
               group_col: str | None = None, domain_col: str | None = None) -> dict:
    """Fit an NgramModel on the file, save it to `out` and return what was recorded.

    `group_col` (e.g. a product category or source column): the calibration folds keep each
    group together, so the blend with the rules scorer and C are chosen for unseen domains.
    `domain_col` (e.g. a product category column): the model also learns n-grams per domain
    and reads the same column (or `product`) when it scores.
    """
    from textmine.pipeline import resources_for
    from textmine.sentiment.evaluate import labeled_frame

    if (label_col is None) == (rating_col is None):
        raise TextmineError("E015", "give exactly one of --label-col and --rating-col",
                            fix="Use --label-col for 0/1 labels, --rating-col for star ratings.")
    config = config or Config()
    settings = settings or NgramSettings()
    frame, col = labeled_frame(path, text_col, label_col or rating_col, config)
    if label_col:
        labels, used = binary_labels(frame[label_col], where=f"{path}: {label_col}")
        source = {"label_col": label_col}
    else:
        labels, used = rating_labels(frame[rating_col], negative_max, positive_min)
        source = {"rating_col": rating_col, "negative_max": negative_max,
                  "positive_min": positive_min}
    labels = labels[used]
    if len(set(labels)) < 2 or min(labels.sum(), len(labels) - labels.sum()) < 5:
        raise TextmineError("E017", f"{int(labels.sum())} positive, "
                            f"{int(len(labels) - labels.sum())} negative rows", where=str(path),
                            fix="Training needs at least 5 rows of each class.")
    for column in (group_col, domain_col):
        if column is not None and column not in frame.columns:
            raise TextmineError("E007", column, where=str(path),
                                fix=f"Columns found: {', '.join(map(str, frame.columns))}.")
    groups = None
    if group_col is not None:
        groups = frame.loc[used, group_col].fillna("").astype(str).to_numpy()
        source["group_col"] = group_col
    batch = prepare_texts(frame.loc[used, col].reset_index(drop=True), config)
    if domain_col is not None:
        batch[domain_col] = frame.loc[used, domain_col].to_numpy(dtype=object)
        settings = replace(settings, domain_col=domain_col)
    lexicons = resources_for(config).lexicons
    summary = {"file": Path(path).name, "text_col": col, **source,
               "rows_in_file": int(len(frame)), "rows_left_out": int((~used).sum())}
    result: dict = {"out": None, "training": summary}
    if cv:
        result["cross_validation"] = cross_validate(batch, labels, settings, folds=cv,
                                                    lexicons=lexicons)
        summary["cross_validation"] = {k: result["cross_validation"][k]
                                       for k in ("accuracy", "macro_f1", "roc_auc")}
    model = NgramModel(settings, name=name, lexicons=lexicons).fit(batch, labels, summary=summary,
                                                                   groups=groups)
    result["out"] = str(model.save(out))
    result.update(model.info)
    return result
