"""Labels in the forms people send (0/1, neg/pos, 负面/正面) and the scores we report."""

from __future__ import annotations

import numpy as np
import pandas as pd

from textmine.errors import TextmineError

_POSITIVE = {"1", "1.0", "pos", "positive", "正面", "正向", "积极", "好评", "true", "yes"}
_NEGATIVE = {"0", "0.0", "neg", "negative", "负面", "负向", "消极", "差评", "false", "no"}


def binary_labels(values: pd.Series, where: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(labels 0/1, mask of rows that had a recognised label); other values are left out."""
    text = values.astype(str).str.strip().str.lower()
    pos, neg = text.isin(_POSITIVE).to_numpy(), text.isin(_NEGATIVE).to_numpy()
    known = pos | neg
    if not known.any():
        seen = ", ".join(sorted(set(values.dropna().astype(str)))[:5])
        raise TextmineError("E017", f"values seen: {seen or 'none'}", where=where,
                            fix="Labels must be 0/1, neg/pos, negative/positive or 负面/正面.")
    return pos.astype(int), known


def binary_scores(labels: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict:
    """accuracy, macro-F1 and ROC-AUC of P(positive) against 0/1 labels."""
    from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

    labels = np.asarray(labels, dtype=int)
    predicted = (np.asarray(proba) >= threshold).astype(int)
    auc = roc_auc_score(labels, proba) if len(set(labels)) == 2 else float("nan")
    return {"accuracy": round(float(accuracy_score(labels, predicted)), 4),
            "macro_f1": round(float(f1_score(labels, predicted, average="macro")), 4),
            "roc_auc": round(float(auc), 4), "n": int(len(labels))}
