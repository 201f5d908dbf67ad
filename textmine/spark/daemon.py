"""pyspark's worker daemon (`spark.python.daemon.module`), warmed like the local fork server.

Every Python worker of an executor is forked from this process. Importing textmine's stages
here, and building the run's segmenter and sentiment model when its settings are in the
environment (`textmine.warm`, TEXTMINE_WARM_CONFIG, set by the job when nothing was shipped),
costs one start-up per executor instead of one per worker; each worker's first task then
starts on warm resources.
"""

from __future__ import annotations


def main() -> None:
    from pyspark.daemon import manager

    import textmine.spark.tasks  # noqa: F401  (the stages and their imports)
    import textmine.warm  # noqa: F401  (builds the resources named by TEXTMINE_WARM_CONFIG)

    manager()


if __name__ == "__main__":
    main()
