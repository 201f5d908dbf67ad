"""Complaint topics: LDA tuned for short Chinese texts, automatic K, readable labels, stored models."""

from textmine.topics.model import TopicModel

__all__ = ["TopicModel"]
