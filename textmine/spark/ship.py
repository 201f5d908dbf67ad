"""Ship a run's lexicon folder and model files to the executors once (SparkContext.addFile)."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from textmine.config import Config

SHIPPED = "spark-file:"  # a config value the executor resolves with SparkFiles.get


def ship_config(spark, config: Config) -> Config:
    """Driver: addFile every local path the config names; return the config pointing at them.

    Paths are `lexicons` (a folder), `sentiment_model` when it is a saved model, and any
    `extra` value that is an existing path (e.g. the topic model a PRE_RUN hook attached).
    Executors fetch each file once and keep it for every task they run.
    """
    def ship(value: Any) -> Any:
        if not isinstance(value, str) or not value or "://" in value or not Path(value).exists():
            return value
        return SHIPPED + _add(spark, Path(value))

    extra = {k: ship(v) for k, v in config.extra.items()}
    return dataclasses.replace(config, lexicons=ship(config.lexicons),
                               sentiment_model=ship(config.sentiment_model), extra=extra)


def _add(spark, path: Path) -> str:
    """Register a copy under a name unique to the path and its contents (a session may ship
    two folders that share a base name, and Spark refuses a name it has seen with other bytes)."""
    path = path.resolve()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha1(str(path).encode())
    for f in files:
        digest.update(f.read_bytes())
    name = f"tm-{digest.hexdigest()[:12]}-{path.name}"
    copy = Path(tempfile.gettempdir()) / "textmine-ship" / name
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        staging = copy.with_name(copy.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        if path.is_dir():
            shutil.copytree(path, staging)
        else:
            shutil.copy2(path, staging)
        staging.rename(copy)
    if name not in _added(spark):
        spark.sparkContext.addFile(str(copy), recursive=copy.is_dir())
        _added(spark).add(name)
    return name


def _added(spark) -> set[str]:
    # One registry per SparkContext: a test session runs several jobs in one context.
    key = id(spark.sparkContext)
    return _REGISTERED.setdefault(key, set())


_REGISTERED: dict[int, set[str]] = {}


def executor_config(config: Config) -> Config:
    """Executor: replace shipped names with the local copies SparkFiles fetched."""
    from pyspark import SparkFiles

    def local(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(SHIPPED):
            return SparkFiles.get(value[len(SHIPPED):])
        return value

    return dataclasses.replace(config, lexicons=local(config.lexicons),
                               sentiment_model=local(config.sentiment_model),
                               extra={k: local(v) for k, v in config.extra.items()})
