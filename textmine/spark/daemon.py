"""pyspark's worker daemon (`spark.python.daemon.module`) with textmine's stages imported.

Every Python worker of an executor is forked from this process, so the imports (~0.5 CPU-s)
cost one start-up per executor instead of one per worker. The run's resources (segmenter,
sentiment model) depend on its settings and shipped files; each worker builds them in the
background after pass 1 (`tasks.keys_partition`).
"""

from __future__ import annotations


def main() -> None:
    from pyspark.daemon import manager

    import textmine.spark.tasks  # noqa: F401  (the batch job and its imports)
    from textmine.pipeline import _ensure_stage_modules

    _ensure_stage_modules()
    manager()


if __name__ == "__main__":
    main()
