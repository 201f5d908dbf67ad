"""`analyze --engine spark`: plan the local engine's batch job on Spark and write a Parquet folder.

The Spark side only plans, and full rows cross the JVM once, from the Python workers' Arrow
batches straight into the Parquet writer:
1. keys: the local preparer runs in the tasks that read the input (file shares or a table's
   rows) and returns each record's dedup keys, and the rejects with reasons;
2. dedup follows the local engine's rules (`ledger.RunLedger`) on those keys, in Spark;
3. documents: the tasks read the input again and run the local engine's batch job
   (`analyze.analyze_batch`) on the rows dedup kept (the few repeats, broadcast, are left
   out), inside the tasks that write documents/ — so the commit protocol covers them.
Chat turns without numbers get them in dedup and are joined on before writing. Chat sessions
come from `textmine.chats`' own SQL, per group of customers (`groupBy().applyInArrow`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from textmine.analyze import POST_RUN, PRE_RUN, RunResult, normalise_kind
from textmine.config import Config
from textmine.ledger import CONFLICT
from textmine.lexicons import load_lexicons
from textmine.pipeline import _ensure_stage_modules
from textmine.schema import DOCUMENTS, RUNS, to_arrow
from textmine.spark import storage
from textmine.spark.classify import classify, repeats
from textmine.spark.errors import driver_errors
from textmine.spark.inputs import (
    Input,
    Plan,
    is_spark_input,
    open_spark_input,
    plan_files,
    plan_table,
    spark_frame,
)
from textmine.spark.schemas import (
    CONFLICTS,
    KEYS,
    MONTH,
    REJECT_FIELDS,
    SRC,
    STORED,
    STORED_SEQ,
    spark_schema,
)
from textmine.spark.session import start_session
from textmine.spark.ship import ship_config
from textmine.spark.tasks import (
    FAIL_SWITCH,
    conflicts_partition,
    documents_partition,
    keys_partition,
)

SPLITS_PER_CORE = 1  # reading tasks per core: file shares are interleaved batches, so even
KEY_COLUMNS = ("seq", "doc_id", "source_hash", "session_id", "turn")  # what dedup looks at
BROADCAST_LIMIT = 2_000_000  # more repeats (and more new rows) than this: join, don't broadcast
# Writing documents/ is most of the JVM's work, and Parquet's per-value bookkeeping most of that.
# Dictionaries pay for columns with few distinct values (labels); for one-per-row values (IDs,
# text, times, scores, aspect evidence) the writer builds a dictionary per page only to fall
# back to plain encoding, and for tokens (4.4 million values per 200,000 reviews, 68,666
# distinct words) the hashing cost more JVM time than any other part of the write (files: +13%,
# 290 -> 328 bytes per document). Min/max statistics are kept where a reader's filter can skip
# row groups (IDs, customers, times, numbers, and labels that are the same for a whole file:
# kind, source, run_id); for texts, token lists, hashes and labels that mix in every row group
# they serve no reader. Evidence without a dictionary and those statistics off: JVM CPU of the
# write 8.4-8.7 -> 7.4-7.9 s per 200,000 reviews, files +0.7 %. Size statistics (row-group
# planning hints) serve no reader here either.
DICTIONARY_COLUMNS = ("kind", "source", "product", "channel", "role", "rating", "polarity",
                      "aspects.list.element.aspect", "aspects.list.element.polarity",
                      "aspects.list.element.score", "escalation.list.element", "turn_act",
                      "topic_id", "topic_label", "run_id")
NO_STATISTICS = ("text", "tokens.list.element", "source_hash", "polarity", "role", "turn_act",
                 "topic_label", "escalation.list.element", "aspects.list.element.aspect",
                 "aspects.list.element.polarity", "aspects.list.element.score",
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

    local = spark.sparkContext.master.startswith("local")
    starting = _start_workers(spark) if local else None
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(config.batch_size))
    # Times in tables (TIMESTAMP) are rendered as local wall-clock text, like epoch values in files.
    spark.conf.set("spark.sql.session.timeZone", config.timezone)
    # Adaptive execution sizes the shuffles of the persisted keys by their data too (else the
    # dedup window runs spark.sql.shuffle.partitions tasks over a few megabytes).
    spark.conf.set("spark.sql.optimizer.canChangeCachedPlanOutputPartitioning", "true")
    if local:
        # One machine's keys fit a shuffle of one partition per core; adaptive execution's
        # extra job per shuffle stage and re-planning cost more there than they save (dedup
        # between the passes for 200,000 reviews: 2.9 -> 1.9 s).
        spark.conf.set("spark.sql.adaptive.enabled", "false")
        spark.conf.set("spark.sql.shuffle.partitions", str(spark.sparkContext.defaultParallelism))
    # The persisted keys are read a few times and dropped: compressing their column batches
    # cost more than it saves (JVM CPU of pass 1 per 200,000 reviews: 1.35 -> 0.8 s).
    spark.conf.set("spark.sql.inMemoryColumnarStorage.compressed", "false")
    # A task's documents go to one open file per month instead of being sorted by month first
    # (a sort of wide rows with token lists); over MAX_OPEN_MONTHS, Spark falls back to sorting.
    spark.conf.set("spark.sql.optimizer.plannedWrite.enabled", "false")
    spark.conf.set("spark.sql.maxConcurrentOutputFileWriters", str(MAX_OPEN_MONTHS))
    plan = _plan(spark, planned, kind, config, columns, lexicons.role_of)
    shipped = ship_config(spark, config)
    # Pass 1: keys and rejects, the one kept frame (a few short columns per row).
    keys = plan.map(spark, functools.partial(keys_partition, config=shipped),
                    spark_schema(KEYS)).persist(
        StorageLevel.MEMORY_AND_DISK)
    documents_dir = storage.join(output, "documents")
    existing = (spark.read.parquet(documents_dir).select("doc_id", "source_hash")
                if storage.has_parquet(spark, documents_dir) else None)
    records = keys.where(F.col("reason").isNull()).select(*KEY_COLUMNS)
    # Chat turns are numbered over all rows; documents with IDs need judging only where an ID
    # repeats or is stored (every other row is new).
    judge = classify if kind == "chat" else repeats
    judged = judge(records, existing, kind).persist(StorageLevel.MEMORY_AND_DISK)
    broadcasts = []
    try:
        per_input: dict[int, int] = {}
        by_reason: dict[str, int] = {}
        n_records = 0
        by_status: dict[str, int] = {}
        # One query for both counts: rows per input and reason, and the rows that are not new.
        counts = keys.groupBy(SRC, "reason").count().select(
            F.lit(False).alias("judged"), SRC, "reason", "count").unionByName(
            judged.where(F.col("status") != "new").groupBy("status").count().select(
                F.lit(True).alias("judged"), F.lit(None).cast("int").alias(SRC),
                F.col("status").alias("reason"), "count"))
        for is_judged, src, reason, n in counts.collect():
            if is_judged:
                by_status[reason] = n
                continue
            per_input[src] = per_input.get(src, 0) + n
            if reason is None:
                n_records += n
            else:
                by_reason[reason] = by_reason.get(reason, 0) + n
        by_status["new"] = n_records - sum(by_status.values())
        rejects = keys.where(F.col("reason").isNotNull()).select(
            F.lit(run_id).alias("run_id"), "source", F.col("source_row").alias("row"),
            "doc_id", *REJECT_FIELDS)
        if not by_reason:  # no scan of the keys (the optimiser drops it): one empty file
            rejects = rejects.where(F.lit(False))
        if by_status.get("conflict"):
            by_reason[CONFLICT] = by_status["conflict"]
            ids = dict(judged.where(F.col("status") == "conflict")
                       .select("seq", "doc_id").collect())
            broadcasts.append(spark.sparkContext.broadcast(ids))
            rejects = rejects.unionByName(plan.map(spark, functools.partial(
                conflicts_partition, config=shipped, kind=kind, run_id=run_id,
                conflicts=broadcasts[-1]), spark_schema(CONFLICTS)))
        rejects.write.mode("append").parquet(storage.join(output, "rejects"))
        if by_status["new"]:
            documents = _documents(spark, plan, records, judged, by_status, shipped, kind,
                                   run_id, broadcasts)
            # Analysis runs inside the writing tasks: a failed or retried task's files are
            # discarded by Spark's commit protocol, so no row is stored twice.
            documents.write.mode("append").partitionBy(MONTH).options(**WRITE_OPTIONS) \
                .parquet(documents_dir)
        if rejects_path:
            _write_rejects_file(spark, output, run_id, rejects_path)
    finally:
        if starting is not None:
            starting.join()
        for frame in (judged, keys):
            frame.unpersist()
        for shared in broadcasts:
            shared.destroy()
    result.n_in = sum(per_input.values())
    result.stored = by_status.get("new", 0)
    result.duplicates = by_status.get("duplicate", 0)
    result.rejected_by_reason = dict(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])))
    result.rejected = sum(by_reason.values())
    result.sources = [{"source": i.name, "rows": per_input.get(i.index, 0),
                       "columns": i.colmap.found()} for i in plan.inputs]
    if kind == "chat":
        from textmine.spark.sessions import write_sessions

        result.extra["sessions"] = write_sessions(spark, output, run_id, config)


def _documents(spark, plan: Plan, records, judged, by_status: dict[str, int], config: Config,
               kind: str, run_id: str, broadcasts: list):
    """Pass 2: the documents/ rows. Repeats of an ID are left out in the Python tasks before
    analysis (the smaller of the sets to drop or keep, broadcast); chat turns numbered in dedup,
    or more repeats and new rows than a broadcast should carry, are joined on instead.
    `judged` holds every row that is not new (and, for chats, every row)."""
    from pyspark.sql import functions as F

    new = F.col("status") == "new"
    dropped = judged.where(~new).select("seq")
    n_new, n_total = by_status["new"], sum(by_status.values())
    body = functools.partial(documents_partition, config=config, kind=kind, run_id=run_id,
                             fail_marker=os.environ.get(FAIL_SWITCH))
    if kind != "chat" and min(n_new, n_total - n_new) <= BROADCAST_LIMIT:
        seqs, keep = None, False
        if n_new < n_total:
            keep = n_new < n_total - n_new
            chosen = (records.select("seq").join(dropped, "seq", "left_anti") if keep
                      else dropped).collect()
            seqs = spark.sparkContext.broadcast(np.sort(np.array([r[0] for r in chosen],
                                                                 dtype=np.int64)))
            broadcasts.append(seqs)
        return plan.map(spark, functools.partial(body, seqs=seqs, keep=keep),
                        spark_schema(STORED))
    analysed = plan.map(spark, functools.partial(body, with_seq=True), spark_schema(STORED_SEQ))
    kept = (judged.where(new) if kind == "chat"
            else records.join(dropped, "seq", "left_anti")).select("seq", "doc_id", "turn")
    return (analysed.drop("doc_id", "turn").join(kept, "seq")
            .select(*[f.name for f in DOCUMENTS], MONTH))


def _start_workers(spark) -> threading.Thread:
    """Local masters: start the Python worker daemon and one worker per core (a job of empty
    tasks, in a thread) while the driver plans pass 1; its tasks then reuse those workers.
    Other masters are left as they are (not measured on a cluster).
    (Measured: pass 1's first batch began 1.5 s after its tasks were launched.) A failure here
    is left to pass 1 to report."""
    context = spark.sparkContext
    # Spark keys worker daemons by their environment, and its SQL runners add this variable:
    # without it the empty tasks would start a daemon of their own that pass 1 cannot reuse.
    traceback = spark.conf.get("spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled",
                               "true")
    if traceback.lower() == "true":
        context.environment.setdefault("SPARK_SIMPLIFIED_TRACEBACK", "1")

    def run() -> None:
        cores = context.defaultParallelism
        with contextlib.suppress(Exception):
            context.parallelize(range(cores), cores).foreachPartition(_nothing)

    thread = threading.Thread(target=run, name="textmine-spark-workers", daemon=True)
    thread.start()
    return thread


def _nothing(rows) -> None:
    for _ in rows:
        pass


def _plan(spark, planned: list, kind: str, config: Config, columns: dict[str, str | None],
          role_of: dict[str, str]) -> Plan:
    """Number the inputs in command-line order; open tables and URIs now that Spark runs."""
    plan = Plan([], config.batch_size)
    for item in planned:
        if isinstance(item, str):
            frame = open_spark_input(spark, item)
            inp = plan_table(item, frame.columns, columns, kind, config, role_of)
            inp.index = len(plan.inputs)
            plan.tables[inp.index] = spark_frame(spark, inp, frame)
            plan.inputs.append(inp)
            continue
        for inp in item:
            inp.index = len(plan.inputs)
            plan.inputs.append(inp)
    plan.split_files(spark.sparkContext.defaultParallelism * SPLITS_PER_CORE)
    return plan


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

