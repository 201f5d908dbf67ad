"""`analyze --engine spark`: plan the local engine's batch job on Spark and write a Parquet folder.

The Spark side only plans: input rows go through `analyze.analyze_batch` (the local engine's
worker job: prepare -> clean/mask -> segment -> sentiment -> aspects -> … ) inside
`mapInArrow`, dedup follows `analyze._classify`'s rules, and chat sessions come from
`textmine.chats`' own SQL, run per group of customers with `groupBy().applyInPandas`.
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
import pyarrow as pa

from textmine.analyze import POST_RUN, PRE_RUN, RunResult, analyze_batch, normalise_kind
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.load import ROW, UnreadableRow
from textmine.pipeline import _ensure_stage_modules
from textmine.records import SEQ
from textmine.schema import DOCUMENTS, RUNS, to_arrow
from textmine.spark import storage
from textmine.spark.classify import CONFLICT_REASON, classify, conflict_rejects
from textmine.spark.errors import driver_errors, reraise_portable
from textmine.spark.inputs import (
    BAD,
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
from textmine.spark.schemas import ANALYZED, REJECT_FIELDS, spark_schema
from textmine.spark.session import start_session
from textmine.spark.ship import executor_config, ship_config

MONTH = "month"  # documents/ is partitioned by the month of created_at (month=2026-03)
FAIL_SWITCH = "TEXTMINE_SPARK_FAIL_FIRST_ATTEMPT"  # tests: a marker path; partition 0 fails once
PARTITIONS_PER_CORE = 3
KEY_COLUMNS = ("seq", "doc_id", "source_hash", "session_id", "turn")  # what dedup looks at


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
    # Let adaptive execution size the dedup shuffle (and so the number of files written) by
    # the data, also for the persisted frame; 200 fixed partitions make hundreds of tiny files.
    spark.conf.set("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
    inputs, frames = _assemble(spark, planned, kind, config, columns, lexicons.role_of)
    raw = _raw_rows(spark, inputs, frames, config)
    parallelism = spark.sparkContext.defaultParallelism * PARTITIONS_PER_CORE
    job = functools.partial(_analyze_partition, inputs={i.index: i for i in inputs},
                            config=ship_config(spark, config), kind=kind,
                            fail_marker=os.environ.get(FAIL_SWITCH))
    staging = storage.join(output, "_staging", run_id)
    # Analysed rows are written once through Spark's commit protocol: a failed or retried task
    # leaves nothing behind, and every later step reads the staged Parquet, not a recompute.
    (raw.repartition(parallelism, SEQ).mapInArrow(job, spark_schema(ANALYZED))
     .write.mode("overwrite").parquet(staging))
    staged = spark.read.parquet(staging)
    documents_dir = storage.join(output, "documents")
    existing = (spark.read.parquet(documents_dir).select("doc_id", "source_hash")
                if storage.has_parquet(spark, documents_dir) else None)
    records = staged.where(F.col("reason").isNull()).drop(SRC, *REJECT_FIELDS)
    # Dedup decides on a narrow key frame (Parquet reads only these columns); the wide rows
    # (tokens, aspects …) are read once more, by the write, and never shuffled or cached.
    keys = classify(records.select(*KEY_COLUMNS), existing, kind).persist(
        StorageLevel.MEMORY_AND_DISK)
    try:
        by_status = dict(keys.groupBy("status").count().collect())
        per_input: dict[int, int] = {}
        by_reason: dict[str, int] = {}
        for src, reason, n in staged.groupBy(SRC, "reason").count().collect():
            per_input[src] = per_input.get(src, 0) + n
            if reason is not None:
                by_reason[reason] = by_reason.get(reason, 0) + n
        if by_status.get("conflict"):
            by_reason[CONFLICT_REASON] = by_status["conflict"]
        rejects = (staged.where(F.col("reason").isNotNull())
                   .select(F.lit(run_id).alias("run_id"), "source",
                           F.col("source_row").alias("row"), "doc_id", *REJECT_FIELDS))
        if by_status.get("conflict"):
            conflicts = keys.where(F.col("status") == "conflict").select("seq", "doc_id").join(
                records.select("seq", "source", "source_row", "text"), "seq")
            rejects = rejects.unionByName(conflict_rejects(conflicts, run_id))
        rejects.write.mode("append").parquet(storage.join(output, "rejects"))
        if kind == "chat":  # chat turns may have got their turn number and ID in dedup
            new = records.drop("doc_id", "turn").join(
                keys.where(F.col("status") == "new").select("seq", "doc_id", "turn"), "seq")
        elif by_status.get("new", 0) < sum(by_status.values()):
            new = records.join(keys.where(F.col("status") != "new").select("seq"), "seq",
                               "left_anti")
        else:
            new = records
        stored = new.select(*[F.lit(run_id).alias(f.name) if f.name == "run_id" else F.col(f.name)
                              for f in DOCUMENTS],
                            F.date_format("created_at", "yyyy-MM").alias(MONTH))
        stored.write.mode("append").partitionBy(MONTH).parquet(documents_dir)
        if rejects_path:
            _write_rejects_file(spark, output, run_id, rejects_path)
    finally:
        keys.unpersist()
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
    storage.delete(spark, storage.join(output, "_staging"))


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


def _analyze_partition(batches, inputs: dict[int, Input], config: Config, kind: str,
                       fail_marker: str | None):
    """mapInArrow body: RAW batches -> analysed records and rejects (ANALYZED batches)."""
    from pyspark import TaskContext

    config = executor_config(config)
    context = TaskContext.get()
    inject = bool(fail_marker) and context.partitionId() == 0 and context.attemptNumber() == 0
    with reraise_portable():
        for number, batch in enumerate(batches):
            frame = batch.to_pandas()
            for src, part in frame.groupby(SRC, sort=False):
                inp = inputs[int(src)]
                bad = part[part[BAD].notna()]
                if len(bad):
                    unreadable = [UnreadableRow(None if pd.isna(r) else int(r), d)
                                  for r, d in zip(bad[ROW], bad[BAD], strict=True)]
                    yield from _rejects_batches(inp.preparer.unreadable(unreadable), inp.index)
                good = part[part[BAD].isna()]
                if not len(good):
                    continue
                raw = good.drop(columns=[SRC, BAD]).reset_index(drop=True)
                raw[ROW] = raw[ROW].astype("int64")
                raw[SEQ] = raw[SEQ].astype("int64")
                table, rejects = analyze_batch(raw, inp.preparer, config, kind)
                yield from _records_batches(table, inp.index)
                yield from _rejects_batches(rejects, inp.index)
            if inject and number == 0:
                # The first batch is already on its way to the writer: the retry must not
                # leave those rows twice (Spark's commit protocol discards the attempt's file).
                Path(fail_marker).write_text("failed once\n")
                raise RuntimeError(f"injected failure ({FAIL_SWITCH})")


def _records_batches(table: pa.Table, index: int):
    n = table.num_rows
    if not n:
        return
    arrays = list(table.columns) + [pa.array([index] * n, pa.int32())] + \
        [pa.nulls(n, pa.string()) for _ in REJECT_FIELDS]
    yield from pa.Table.from_arrays(arrays, schema=ANALYZED).to_batches()


def _rejects_batches(rejects: pd.DataFrame, index: int):
    if not len(rejects):
        return
    frame = rejects.rename(columns={"row": "source_row"}).assign(**{SRC: index})
    yield from to_arrow(frame, ANALYZED).to_batches()


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

