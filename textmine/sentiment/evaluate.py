"""Score a labeled file with a sentiment model and report accuracy, macro-F1, ROC-AUC, speed."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from textmine.config import Config
from textmine.errors import TextmineError
from textmine.sentiment.metrics import binary_labels, binary_scores


def labeled_frame(path: str | Path, text_col: str | None, label_col: str | None,
                  config: Config) -> tuple[pd.DataFrame, str]:
    """The file's rows that have text (the others counted in `attrs["rows_without_text"]`),
    with the label column, if any, checked to exist."""
    from textmine.filejobs import has_text, read_all

    frame, col = read_all(path, text_col, config)
    if label_col is not None and label_col not in frame.columns:
        raise TextmineError("E007", label_col, where=str(path),
                            fix=f"Columns found: {', '.join(map(str, frame.columns))}.")
    present = has_text(frame[col])
    kept = frame[present].reset_index(drop=True)
    kept.attrs["rows_without_text"] = int((~present).sum())  # counted, not silently lost
    return kept, col


def evaluate_file(path: str | Path, text_col: str | None, label_col: str,
                  model: str | None = None, config: Config | None = None) -> dict:
    """{accuracy, macro_f1, roc_auc, n, docs_per_s, model, skipped} for `model` on the file.

    Labels may be 0/1, neg/pos, negative/positive or 负面/正面; rows with another label are
    skipped (counted). docs_per_s covers cleaning, segmentation and scoring.
    """
    from textmine.pipeline import apply_to_frame, resources_for
    from textmine.sentiment import model_columns

    config = (config or Config()).with_overrides(sentiment_model=model)
    frame, col = labeled_frame(path, text_col, label_col, config)
    without_text = frame.attrs["rows_without_text"]
    labels, known = binary_labels(frame[label_col], where=f"{path}: {label_col}")
    frame = frame[known].reset_index(drop=True)
    start = time.perf_counter()
    scored = apply_to_frame(frame, col, ("clean", "segment", "sentiment"), config,
                            keep=model_columns(config))
    elapsed = time.perf_counter() - start
    result = binary_scores(labels[known], scored["sentiment"].to_numpy(dtype=float))
    loaded = resources_for(config).sentiment_model
    result.update(docs_per_s=round(len(frame) / elapsed, 1) if elapsed else None,
                  model=config.sentiment_model, model_version=getattr(loaded, "version", ""),
                  skipped=int((~known).sum()),
                  without_text=without_text)
    return result
