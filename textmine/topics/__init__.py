"""Complaint topics: LDA tuned for short Chinese texts, automatic K, readable labels, stored models."""

from __future__ import annotations

from typing import Any

__all__ = ["TopicModel"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the model pulls in scipy and gensim, which `analyze` (and every
    # worker's fork server) only needs when a topic model exists.
    if name == "TopicModel":
        from textmine.topics.model import TopicModel

        return TopicModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
