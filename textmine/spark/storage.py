"""The output folder: local paths through Python, URIs (hdfs://, s3a:// …) through Hadoop's FS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any


def is_uri(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


def local_path(location: str) -> Path:
    return Path(location[len("file://"):] if location.startswith("file://") else location)


def join(location: str, *parts: str) -> str:
    if is_uri(location):
        return "/".join([location.rstrip("/"), *parts])
    return str(local_path(location).joinpath(*parts))


def has_parquet(spark, location: str) -> bool:
    """Does `location` hold any Parquet file (a table a previous run wrote)?"""
    if not is_uri(location):
        path = local_path(location)
        return path.is_dir() and any(path.rglob("*.parquet"))
    fs, path = _hadoop(spark, location)
    if not fs.exists(path):
        return False
    files = fs.listFiles(path, True)
    while files.hasNext():
        if files.next().getPath().getName().endswith(".parquet"):
            return True
    return False


def delete(spark, location: str) -> None:
    if not is_uri(location):
        shutil.rmtree(local_path(location), ignore_errors=True)
        return
    fs, path = _hadoop(spark, location)
    fs.delete(path, True)


def write_json(spark, location: str, data: dict[str, Any]) -> None:
    """Write (replace) a small JSON file; locally via a temporary file and an atomic rename."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    if not is_uri(location):
        path = local_path(location)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return
    fs, path = _hadoop(spark, location)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def _hadoop(spark, location: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path
