"""The `topics` stage: `analyze` assigns new complaints to the workspace's current topic model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from textmine import analyze
from textmine.config import Config
from textmine.pipeline import Resources, Stage, register
from textmine.topics import store
from textmine.workspace import Workspace

if TYPE_CHECKING:
    from textmine.topics.model import TopicModel


def covered(batch: pd.DataFrame, on: str = "complaints", product: str | None = None) -> np.ndarray:
    """Rows the model speaks for: complaints (or all), customers' turns only in chats.

    The same rule as `store.documents_where`, in pandas.
    """
    n = len(batch)
    mask = batch["text"].notna().to_numpy() if "text" in batch else np.ones(n, dtype=bool)
    if "kind" in batch and "role" in batch:
        mask &= ~((batch["kind"] == "chat") & (batch["role"] != "customer")).to_numpy()
    if on == "complaints":
        complaint = batch["is_complaint"].fillna(False).astype(bool).to_numpy()
        mask &= complaint | (batch["polarity"] == "negative").to_numpy()
    if product:
        mask &= (batch["product"] == product).to_numpy() if "product" in batch else False
    return mask


def _model(resources: Resources, path: str) -> TopicModel:
    # One load per process and model file; Resources.extra is the per-process cache.
    key = ("topic_model", path)
    if key not in resources.extra:
        from textmine.topics.model import TopicModel  # scipy and gensim: only with a model

        resources.extra[key] = TopicModel.load(path)
    return resources.extra[key]


def topics_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """tokens + complaint flags -> topic_id, topic_label, topic_prob (null when not covered)."""
    batch = batch.copy()
    n = len(batch)
    topic_id = pd.array([None] * n, dtype="Int32")
    topic_prob = pd.array([None] * n, dtype="Float64")
    topic_label = pd.Series([None] * n, dtype=object, index=batch.index)
    extra = resources.config.extra
    path = extra.get("topic_model")
    if path and n:
        model = _model(resources, path)
        mask = covered(batch, extra.get("topic_on", "complaints"), extra.get("topic_product"))
        if mask.any():
            tokens = [t if t is not None else [] for t in batch["tokens"][mask]]
            ids, probs = model.predict(tokens)
            topic_id[mask] = ids
            topic_prob[mask] = probs
            labels = model.labels
            topic_label[mask] = [labels[i] for i in ids]
    batch["topic_id"] = topic_id
    batch["topic_label"] = topic_label
    batch["topic_prob"] = topic_prob
    return batch


register(Stage("topics", requires=("tokens", "polarity", "is_complaint"),
               assigns=("topic_id", "topic_label", "topic_prob"), func=topics_stage))


def attach_current_model(ws: Workspace, config: Config, kind: str) -> Config:
    """PRE_RUN hook: hand the current topic model (as a cache file) to the stage via the config."""
    attached = store.export_for_workers(ws)
    if not attached:
        return config
    return config.with_overrides(extra={**config.extra, **attached})


def record_assignments(ws: Workspace, run_id: str, kind: str, config: Config) -> dict[str, Any]:
    """POST_RUN hook: note this run's assignments in doc_topics (which version assigned them)."""
    version = config.extra.get("topic_version")
    if version is None:
        return {}
    return {"topics_assigned": store.record_run_assignments(ws, run_id, int(version)),
            "topic_model_version": int(version)}


if attach_current_model not in analyze.PRE_RUN:
    analyze.PRE_RUN.append(attach_current_model)
if record_assignments not in analyze.POST_RUN:
    analyze.POST_RUN.append(record_assignments)
