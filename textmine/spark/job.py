"""`analyze --engine spark`: plan the local engine's batch job on Spark and write a Parquet folder.

The Spark side only plans. Raw rows are read once (files by the local engine's loader, one
task per file; tables and Parquet URIs by Spark) and spread over the cores. Pass 1 runs the
local preparer in `mapInArrow` (records, and rejects with reasons) and its output is the one
cached frame; dedup follows `analyze._classify`'s rules on its keys; pass 2 runs the pipeline's
stages (clean/mask -> segment -> sentiment -> aspects -> …) on the records to store, inside the
tasks that write documents/. Chat sessions come from `textmine.chats`' own SQL, per group of
customers (`groupBy().applyInArrow`).
"""

from __future__ import annotations

import functools
import json
import os
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from textmine.analyze import POST_RUN, PRE_RUN, RunResult, normalise_kind
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.pipeline import _ensure_stage_modules
from textmine.records import SEQ
from textmine.schema import DOCUMENTS, RUNS, to_arrow
from textmine.spark import storage
from textmine.spark.classify import CONFLICT_REASON, classify, conflict_rejects
from textmine.spark.errors import driver_errors
from textmine.spark.inputs import (
    RAW,
    SRC,
    Input,
    is_spark_input,
    open_spark_input,
    plan_files,
    plan_table,
    read_files,
    spark_frame,
)
from textmine.spark.schemas import ANALYZED, PREPARED, RECORD_FIELDS, REJECT_FIELDS, spark_schema
from textmine.spark.session import start_session
from textmine.spark.ship import ship_config
from textmine.spark.tasks import FAIL_SWITCH, analyze_partition, prepare_partition

MONTH = "month"  # documents/ is partitioned by the month of created_at (month=2026-03)
PARTITIONS_PER_CORE = 3
KEY_COLUMNS = ("seq", "doc_id", "source_hash", "session_id", "turn")  # what dedup looks at
# Writing documents/ is most of the JVM's work, and Parquet's per-value bookkeeping most of that.
# Dictionaries pay for columns with few distinct values (labels); for one-per-row values (IDs,
# text, times, scores) the writer builds a dictionary per page only to fall back to plain
# encoding, and for tokens (4.4 million values per 200,000 reviews, 68,666 distinct words)
# the hashing cost more JVM time than any other part of the write (files: +13%, 290 -> 328
# bytes per document). Min/max statistics of texts and token lists serve no reader (nobody
# filters on them); size statistics (row-group planning hints) serve none here either.
DICTIONARY_COLUMNS = ("kind", "source", "product", "channel", "role", "rating", "polarity",
                      "aspects.list.element.aspect", "aspects.list.element.polarity",
                      "aspects.list.element.score", "aspects.list.element.evidence",
                      "escalation.list.element", "turn_act",
                      "topic_id", "topic_label", "run_id")
NO_STATISTICS = ("text", "tokens.list.element", "aspects.list.element.aspect",
                 "aspects.list.element.evidence")
WRITE_OPTIONS = {"parquet.enable.dictionary": "false", "parquet.size.statistics.enabled": "false",
                 **{f"parquet.enable.dictionary#{name}": "true" for name in DICTIONARY_COLUMNS},
                 **{f"parquet.column.statistics.enabled#{name}": "false"
                    for name in NO_STATISTICS}}
MAX_OPEN_MONTHS = 24  # a task writes up to this many month folders at once, without sorting


def analyze_spark(inputs: list[str], *, kind: str = "reviews", config: Config | None = None,
                  columns: dict[str, str | None] | None = None, master: str = "local[*]",
                  output: str, encoding: str | None = None,
                  rejects_path: str | Path | None = None) -> RunResult:
    """Analyse `inputs` on Spark into the Parquet folder `output`; return the counts.

    `output` gets documents/ (by month), rejects/, sessions/ (chats), runs/ and run.json.
    Re-running into the same folder appends: documents already stored there count as
    duplicates (or conflicts), exactly like re-running into a DuckDB workspace.
    """
    config = config or Config()
    kind = normalise_kind(kind)
    started = datetime.now()
    t0 = time.perf_counter()
    _ensure_stage_modules()
    lexicons = load_lexicons(config.lexicons)
    columns = columns or {}
    # Files are validated before Spark starts: a bad file costs no JVM start-up.
    planned: list[list[Input] | str] = [
        spec if is_spark_input(spec) else plan_files(spec, columns, kind, encoding, config,
                                                     lexicons.role_of)
        for spec in inputs]
    log_path = _log_path(output)
    spark, started_here = start_session(master, log_path)
    startup = time.perf_counter() - t0
    run_id = uuid.uuid4().hex[:12]
    result = RunResult(run_id=run_id, workspace=str(output), kind=kind)
    try:
        with driver_errors(str(log_path)):
            config = _pre_run(config, output, kind)
            _run(spark, planned, kind, config, columns, lexicons, output, run_id, result,
                 rejects_path)
            result.extra.update(_post_run(output, run_id, kind, config))
            result.seconds = time.perf_counter() - t0
            result.extra.update({"engine": "spark", "master": master,
                                 "spark_startup_s": round(startup, 3)})
            _record_run(spark, result, output, started, config, lexicons.digest, inputs)
    finally:
        if started_here:
            spark.stop()
    if result.n_in != result.stored + result.duplicates + result.rejected:
        raise AssertionError(f"row accounting broke: {result.summary_line()}")
    return result


def _run(spark, planned: list, kind: str, config: Config, columns: dict[str, str | None],
         lexicons, output: str, run_id: str, result: RunResult,
         rejects_path: str | Path | None) -> None:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(config.batch_size))
    # Times in tables (TIMESTAMP) are rendered as local wall-clock text, like epoch values in files.
    spark.conf.set("spark.sql.session.timeZone", config.timezone)
    # Let adaptive execution size shuffles of persisted frames by the data too.
    spark.conf.set("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
    # The cached frame is read a few times and then dropped: compressing it costs more CPU
    # (dictionary statistics per column and batch) than the memory it saves is worth here.
    spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    # A task's documents go to one open file per month instead of being sorted by month first
    # (a sort of wide rows with token lists); over MAX_OPEN_MONTHS, Spark falls back to sorting.
    spark.conf.set("spark.sql.optimizer.plannedWrite.enabled", "false")
    spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", str(MAX_OPEN_MONTHS))
    inputs, frames = _assemble(spark, planned, kind, config, columns, lexicons.role_of)
    by_index = {i.index: i for i in inputs}
    parallelism = spark.sparkContext.defaultParallelism * PARTITIONS_PER_CORE
    # Raw rows are read once; pass 1's output (records and rejects) is what the job keeps.
    raw = _raw_rows(spark, inputs, frames, config).repartition(parallelism, SEQ)
    prepared = raw.mapInArrow(functools.partial(prepare_partition, inputs=by_index),
                              spark_schema(PREPARED)).persist(StorageLevel.MEMORY_AND_DISK)
    records = prepared.where(F.col("reason").isNull()).select(*[f.name for f in RECORD_FIELDS])
    documents_dir = storage.join(output, "documents")
    existing = (spark.read.parquet(documents_dir).select("doc_id", "source_hash")
                if storage.has_parquet(spark, documents_dir) else None)
    keys = classify(records.select(*KEY_COLUMNS), existing, kind).persist(
        StorageLevel.MEMORY_AND_DISK)
    shipped = ship_config(spark, config)
    try:
        by_status = dict(keys.groupBy("status").count().collect())
        per_input: dict[int, int] = {}
        by_reason: dict[str, int] = {}
        for src, reason, n in prepared.groupBy(SRC, "reason").count().collect():
            per_input[src] = per_input.get(src, 0) + n
            if reason is not None:
                by_reason[reason] = by_reason.get(reason, 0) + n
        rejects = prepared.where(F.col("reason").isNotNull()).select(
            F.lit(run_id).alias("run_id"), "source", F.col("source_row").alias("row"),
            "doc_id", *REJECT_FIELDS)
        if by_status.get("conflict"):
            by_reason[CONFLICT_REASON] = by_status["conflict"]
            rejects = rejects.unionByName(
                _conflicts(records, keys, shipped, kind, run_id))
        rejects.write.mode("append").parquet(storage.join(output, "rejects"))
        analyse = functools.partial(analyze_partition, config=shipped, kind=kind,
                                    fail_marker=os.environ.get(FAIL_SWITCH))
        documents = _to_store(records, keys, by_status, kind).mapInArrow(
            analyse, spark_schema(ANALYZED))
        # Analysis runs inside the writing tasks: a failed or retried task's files are
        # discarded by Spark's commit protocol, so no row is stored twice.
        documents.select(*[F.lit(run_id).alias(f.name) if f.name == "run_id" else F.col(f.name)
                           for f in DOCUMENTS],
                         F.date_format("created_at", "yyyy-MM").alias(MONTH)) \
            .write.mode("append").partitionBy(MONTH).options(**WRITE_OPTIONS) \
            .parquet(documents_dir)
        if rejects_path:
            _write_rejects_file(spark, output, run_id, rejects_path)
    finally:
        for frame in (keys, prepared):
            frame.unpersist()
    result.n_in = sum(per_input.values())
    result.stored = by_status.get("new", 0)
    result.duplicates = by_status.get("duplicate", 0)
    result.rejected_by_reason = dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
    result.rejected = sum(by_reason.values())
    result.sources = [{"source": i.name, "rows": per_input.get(i.index, 0),
                       "columns": i.colmap.found()} for i in inputs]
    if kind == "chat":
        from textmine.spark.sessions import write_sessions

        result.extra["sessions"] = write_sessions(spark, output, run_id, config)


def _to_store(records, keys, by_status: dict[str, int], kind: str):
    """The records pass 2 analyses: the new ones."""
    from pyspark.sql import functions as F

    new = F.col("status") == "new"
    if kind == "chat":  # turns may have got their number and `<session>:<turn>` ID in dedup
        return records.drop("doc_id", "turn").join(
            keys.where(new).select("seq", "doc_id", "turn"), "seq")
    if by_status.get("new", 0) == sum(by_status.values()):
        return records
    return records.join(keys.where(~new).select("seq"), "seq", "left_anti")


def _conflicts(records, keys, config: Config, kind: str, run_id: str):
    """Rejects for IDs reused with other text; the excerpt is the cleaned, masked text, as
    locally (the clean stage runs on just these rows)."""
    from pyspark.sql import functions as F

    rows = records.join(keys.where(F.col("status") == "conflict").select("seq"), "seq")
    clean = functools.partial(analyze_partition, config=config, kind=kind, stage_names=("clean",))
    cleaned = rows.mapInArrow(clean, spark_schema(ANALYZED)).select(
        "seq", "source", "source_row", "text")
    return conflict_rejects(cleaned.join(keys.select("seq", "doc_id"), "seq"), run_id)


def _assemble(spark, planned: list, kind: str, config: Config, columns: dict[str, str | None],
              role_of: dict[str, str]) -> tuple[list[Input], dict[int, Any]]:
    """Number the inputs in command-line order; open tables and URIs now that Spark runs."""
    inputs: list[Input] = []
    frames: dict[int, Any] = {}
    for item in planned:
        if isinstance(item, str):
            frame = open_spark_input(spark, item)
            inp = plan_table(item, frame.columns, columns, kind, config, role_of)
            frames[len(inputs)] = frame
            items = [inp]
        else:
            items = item
        for inp in items:
            inp.index = len(inputs)
            inputs.append(inp)
    return inputs, frames


def _raw_rows(spark, inputs: list[Input], frames: dict[int, Any], config: Config):
    """Every input's rows in the RAW shape, one frame (files: one reading task per file)."""
    files = [i for i in inputs if i.source is not None]
    parts = [spark_frame(spark, inputs[index], frame) for index, frame in frames.items()]
    if files:
        reader = functools.partial(read_files, files=files, batch_size=config.batch_size)
        parts.insert(0, spark.range(len(files), numPartitions=len(files))
                     .mapInArrow(reader, spark_schema(RAW)))
    return functools.reduce(lambda a, b: a.unionByName(b), parts)


def _pre_run(config: Config, output: str, kind: str) -> Config:
    """PRE_RUN hooks (e.g. the current topic model) see the output folder as a workspace."""
    path = storage.local_path(output)
    if not PRE_RUN or storage.is_uri(output) or not path.is_dir():
        return config
    from textmine.workspace import open_workspace

    with open_workspace(path, read_only=True) as ws:
        for hook in PRE_RUN:
            config = hook(ws, config, kind)
    return config


def _post_run(output: str, run_id: str, kind: str, config: Config) -> dict[str, Any]:
    """POST_RUN hooks (e.g. topic assignments into the overlay) on the output folder.

    Chat sessions are skipped: the Spark job computed them (a folder's tables are views).
    Output on HDFS/S3 cannot be opened as a workspace here, so hooks run for local folders only.
    """
    if storage.is_uri(output):
        return {}
    from textmine.workspace import open_workspace

    try:
        from textmine.chats import sessions_after_run
    except ModuleNotFoundError:
        sessions_after_run = None
    hooks = [hook for hook in POST_RUN if hook is not sessions_after_run]
    figures: dict[str, Any] = {}
    if hooks:
        with open_workspace(storage.local_path(output)) as ws:
            for hook in hooks:
                figures.update(hook(ws, run_id, kind, config) or {})
    return figures


def _write_rejects_file(spark, output: str, run_id: str, path: str | Path) -> None:
    from pyspark.sql import functions as F

    from textmine.export import write_frame

    frame = (spark.read.parquet(storage.join(output, "rejects"))
             .where(F.col("run_id") == run_id).toPandas())
    write_frame(frame.sort_values(["source", "row"], kind="stable", ignore_index=True), path)


def _record_run(spark, result: RunResult, output: str, started: datetime, config: Config,
                lexicon_digest: str, inputs: list[str]) -> None:
    """runs/ (one Parquet file per run, like the workspace's `runs` table) and run.json."""
    from textmine import __version__

    row = {"run_id": result.run_id, "command": "analyze --engine spark",
           "args": json.dumps({"files": inputs, "kind": result.kind}, ensure_ascii=False),
           "started_at": started, "finished_at": datetime.now(), "status": "ok",
           "textmine_version": __version__, "lexicon_digest": lexicon_digest,
           "sentiment_model": config.sentiment_model, "n_in": result.n_in,
           "n_stored": result.stored, "n_duplicates": result.duplicates,
           "n_rejected": result.rejected,
           "details": json.dumps({"sources": result.sources, "kind": result.kind,
                                  **result.extra}, ensure_ascii=False, default=str)}
    table = to_arrow(pd.DataFrame([row]), RUNS)
    if storage.is_uri(output):
        spark.createDataFrame(table.to_pandas(), spark_schema(RUNS)).coalesce(1) \
            .write.mode("append").parquet(storage.join(output, "runs"))
    else:
        import pyarrow.parquet as pq

        runs = storage.local_path(output) / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, runs / f"run-{result.run_id}.parquet")
    storage.write_json(spark, storage.join(output, "run.json"), result.to_dict())


def _log_path(output: str) -> Path:
    if storage.is_uri(output):
        import tempfile

        return Path(tempfile.gettempdir()) / f"textmine-spark-{os.getpid()}.log"
    return storage.local_path(output) / "_spark.log"

