"""The Spark engine: `textmine analyze --engine spark` runs the local engine's stages on a cluster."""

from __future__ import annotations

import pyspark  # noqa: F401  (a missing pyspark must fail here: the CLI reports `textmine[spark]`)

from textmine.spark.job import analyze_spark

__all__ = ["analyze_spark"]
