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
    without_text = frame.attrs["rows_without_text"]
    summary = {"file": Path(path).name, "text_col": col, **source,
               "rows_in_file": int(len(frame)) + without_text, "rows_without_text": without_text,
               "rows_left_out": int((~used).sum()) + without_text}
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


def confident_rows(proba: np.ndarray, share: float) -> np.ndarray:
    """Mask of the `share` most confident rows of each predicted class (P >= 0.5 positive).

    Per class, so a start model that leans to one class does not fill the training rows
    with it."""
    predicted = proba >= 0.5
    confidence = np.abs(proba - 0.5)
    keep = np.zeros(len(proba), bool)
    for cls in (False, True):
        rows = np.flatnonzero(predicted == cls)
        keep[rows[np.argsort(-confidence[rows], kind="stable")[: int(share * len(rows))]]] = True
    return keep


# C of the self-trained model, as on the held-out categories the method was chosen on.
SELF_TRAIN_C = 4.0


def _check_share(share: float) -> None:
    if not 0 < share <= 1:
        raise TextmineError("E015", f"--confident-share {share}",
                            fix="Give a share of rows between 0 and 1, e.g. 0.5.")


def _self_training_model(start: str, settings: NgramSettings | None, lexicons,
                         name: str) -> NgramModel:
    """An unfitted model anchored on `start`: building it loads `start` (once), so a bad
    name or file fails here."""
    from textmine.sentiment import BUILTIN_MODELS

    anchor = start if start in BUILTIN_MODELS else str(Path(start).resolve())
    settings = replace(settings or NgramSettings(C=SELF_TRAIN_C), anchor=anchor, base=None)
    return NgramModel(settings, name=name, lexicons=lexicons)


def _fit_on_confident(model: NgramModel, batch: pd.DataFrame, share: float,
                      summary: dict | None) -> NgramModel:
    """Fit `model` on the rows its anchor is surest of, labelled with the anchor's reading."""
    start_model = model.anchor_model
    proba = start_model.predict_proba(batch)
    keep = confident_rows(proba, share)
    labels = (proba[keep] >= 0.5).astype(int)
    if min(labels.sum(), len(labels) - labels.sum()) < 5:
        raise TextmineError("E017", f"{int(labels.sum())} confident positive, "
                            f"{int(len(labels) - labels.sum())} confident negative rows",
                            fix="Self-training needs at least 5 confident rows of each class: "
                                "give more texts or a larger --confident-share.")
    summary = {**(summary or {}), "self_trained_from": model.settings.anchor,
               "start_version": getattr(start_model, "version", ""), "confident_share": share,
               "rows_scored": int(len(batch)), "rows_not_confident": int((~keep).sum())}
    model.fit(batch[keep].reset_index(drop=True), labels, summary=summary)
    if model.info["validation"]:
        # Out-of-fold scores here measure agreement with the start model's labels.
        model.info["validation"]["against"] = "the start model's labels (no true labels)"
    return model


def self_train(batch: pd.DataFrame, start: str, share: float = 0.5,
               settings: NgramSettings | None = None, lexicons=None,
               summary: dict | None = None, name: str = "ngram") -> NgramModel:
    """Adapt the model `start` ("default" or a saved model's path) to the domain of `batch`
    (text, tokens, _words; no labels) by self-training.

    `start` scores every row; the `share` most confident rows of each predicted class become
    training rows labelled with that prediction, and the model fitted on them learns the
    domain's own n-grams. The returned model averages its logit with `start`'s (its
    `anchor`), so texts with few new n-grams keep `start`'s reading. One round at share 0.5:
    chosen on shopping categories held out of the training data (README, sentiment section).
    """
    from textmine.lexicons import load_lexicons

    _check_share(share)
    model = _self_training_model(start, settings, lexicons or load_lexicons(), name)
    return _fit_on_confident(model, batch, share, summary)


def self_train_file(path: str | Path, out: str | Path, *, text_col: str | None = None,
                    start: str = "default", share: float = 0.5,
                    settings: NgramSettings | None = None, config: Config | None = None,
                    name: str = "ngram") -> dict:
    """`self_train` on the texts of a file (no label column); save the model to `out`."""
    from textmine.pipeline import resources_for
    from textmine.sentiment import model_columns
    from textmine.sentiment.evaluate import labeled_frame

    _check_share(share)
    config = config or Config()
    model = _self_training_model(start, settings, resources_for(config).lexicons, name)
    frame, col = labeled_frame(path, text_col, None, config)
    batch = prepare_texts(frame[col], config)
    for column in model_columns(config.with_overrides(sentiment_model=start)):
        if column in frame.columns:  # a start model trained with --domain-col reads it
            batch[column] = frame[column].to_numpy(dtype=object)
    without_text = frame.attrs["rows_without_text"]
    summary = {"file": Path(path).name, "text_col": col,
               "rows_in_file": len(frame) + without_text, "rows_without_text": without_text}
    try:
        _fit_on_confident(model, batch, share, summary)
    except TextmineError as exc:
        exc.where = exc.where or str(path)
        raise
    model.info["training"]["rows_left_out"] = (without_text
                                               + model.info["training"]["rows_not_confident"])
    return {"out": str(model.save(out)), **model.info}
