"""`fit_topics`: select complaints, fit, store as the current version, assign, summarise."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textmine.errors import TextmineError
from textmine.topics import store
from textmine.topics.model import DEFAULT_K_RANGE, TopicModel
from textmine.topics.select import topic_overlap
from textmine.workspace import open_workspace

CARRY_OVER = 0.6  # a refitted topic keeps a person's label when this share of top words matches


def fit_topics(workspace: str | Path, *, k: int | str = "auto",
               k_range: tuple[int, ...] = DEFAULT_K_RANGE, on: str = "complaints",
               product: str | None = None, since: str | None = None, sample: int | None = None,
               engine: str = "gensim", seed: int = 0, passes: int = 10, lexicons: Any = None,
               min_docs: int = 20) -> dict[str, Any]:
    """Fit a topic model on the workspace's complaints and make it current; returns a summary."""
    started = time.perf_counter()
    with open_workspace(workspace) as ws:
        store.ensure_tables(ws)
        docs = store.select_documents(ws, on, product, since, sample)
        if len(docs) < min_docs:
            raise TextmineError("E019", f"{len(docs)} matching documents", where=str(workspace),
                                fix=f"Topics need at least {min_docs}; widen --since/--product "
                                    "or use --on all.")
        model = TopicModel(k=k, k_range=k_range, engine=engine, seed=seed, passes=passes,
                           lexicons=lexicons)
        model.fit([t if t is not None else [] for t in docs["tokens"]])
        previous = store.current_version(ws)
        filters = {"on": on, "product": product, "since": since, "sample": sample}
        version = store.save_model(ws, model, filters)
        carried = _carry_labels(ws, previous, version) if previous is not None else {}
        applied = store.apply_model(ws, version, everything=True)
        store.summarise(ws, version)
        summary = store.model_summary(ws, version)
        summary["table"] = store.topic_table(ws, version)
    summary.update({"assigned": applied["assigned"], "fitted_on": len(docs),
                    "labels_carried_over": carried,
                    "seconds": round(time.perf_counter() - started, 2)})
    return summary


def _carry_labels(ws, old: int, new: int) -> dict[int, str]:
    """Renamed topics of the old version give their label to a closely matching new topic."""
    renamed = ws.query("SELECT top_terms, custom_label FROM topics WHERE version = ? "
                       "AND custom_label IS NOT NULL ORDER BY topic_id", [old])
    if renamed.empty:
        return {}
    fresh = ws.query("SELECT topic_id, top_terms FROM topics WHERE version = ? ORDER BY topic_id",
                     [new])
    new_tops = [list(t) for t in fresh["top_terms"]]
    carried = {}
    for terms, label in zip(renamed["top_terms"], renamed["custom_label"], strict=True):
        _, match = topic_overlap([list(terms)], new_tops)
        j = match[0]
        shared = len(set(terms) & set(new_tops[j])) / max(len(terms), 1)
        if shared >= CARRY_OVER:
            topic_id = int(fresh["topic_id"].iloc[j])
            carried[topic_id] = label
            ws.con.execute("UPDATE topics SET custom_label = ? WHERE version = ? AND topic_id = ?",
                           [label, new, topic_id])
    return carried
