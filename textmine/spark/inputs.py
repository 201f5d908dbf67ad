"""Plan the Spark job's input, so each pass reads it inside its own Python tasks.

Files are read by the executors with the local engine's loader, a file split into shares of
its batches (`Split`: share `part` of `parts` keeps batches i with i % parts == part), so raw
rows never become JVM rows: every pass (keys, analysis, conflict excerpts) reads them again
instead of caching them. Tables and Parquet URIs are read by Spark as rows of the RAW shape:
`_row` (1-based data row, as the local engine numbers it), `_seq` and one string column per
canonical field (the input column it maps to, or null). `_seq` orders the run's rows (input
index << 40 | data row): first-wins dedup and chat turn numbers follow it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from textmine.columns import FIELDS, ColumnMap, resolve_columns
from textmine.errors import TextmineError
from textmine.load import ROW, Source, UnreadableRow
from textmine.records import SEQ, Preparer

RAW = pa.schema([pa.field(ROW, pa.int64()), pa.field(SEQ, pa.int64())]
                + [pa.field(f, pa.string()) for f in FIELDS])
SEQ_SHIFT = 40  # _seq = input index << 40 | data row: input order without counting rows first
TABLE_PREFIX = "table:"
# Formats whose loader parses a whole file cheaply (Arrow's CSV and Parquet readers, lines of
# text): every share of such a file parses it all and converts only its own batches. JSON and
# Excel are parsed in Python as a whole, so one task reads each such file.
SPLITTABLE = ("csv", "tsv", "txt", "parquet")
BYTES_PER_ROW = 100  # no share of a file smaller than a batch of such rows

Frames = Iterator[tuple["Input", pd.DataFrame, list[UnreadableRow]]]


@dataclass
class Input:
    """One input as planned on the driver; picklable, so executors read files themselves."""

    index: int
    name: str  # file name (as the local engine reports it), `table:db.t` or the URI
    colmap: ColumnMap  # canonical field -> the input's column
    preparer: Preparer  # files: the local engine's; tables: on RAW rows (field -> field)
    source: Source | None = None  # a file read with the same loader as the local engine
    uri: str | None = None  # a catalog table or a Parquet URI read by Spark


def is_spark_input(spec: str) -> bool:
    """`table:db.name` and URIs (hdfs://, s3a://, file:// …) are read by Spark itself."""
    return spec.startswith(TABLE_PREFIX) or "://" in spec


def plan_files(spec: str, columns: dict[str, str | None], kind: str, encoding: str | None,
               config: Any, role_of: dict[str, str]) -> list[Input]:
    """Validate a file, glob or folder on the driver, as the local engine does (same errors)."""
    from textmine.analyze import _expand_source, expand_paths
    from textmine.load import open_source

    out = []
    for path in expand_paths([spec]):
        source = _expand_source(open_source(path, encoding=encoding), kind)
        colmap = resolve_columns(source.columns, columns, source=str(path))
        preparer = Preparer(colmap, kind, source.name, config.max_chars, config.timezone,
                            role_of)
        # Executors parse JSON again: the driver's parse is not shipped with every task.
        out.append(Input(-1, source.name, colmap, preparer,
                         source=dataclasses.replace(source, parsed=None)))
    return out


def plan_table(spec: str, names: list[str], columns: dict[str, str | None], kind: str,
               config: Any, role_of: dict[str, str]) -> Input:
    """A table or Parquet URI whose column names Spark has read."""
    colmap = resolve_columns(names, columns, source=spec)
    return Input(-1, spec, colmap, _preparer(colmap, kind, spec, config, role_of), uri=spec)


def _preparer(colmap: ColumnMap, kind: str, name: str, config: Any,
              role_of: dict[str, str]) -> Preparer:
    # RAW rows name their columns after the canonical fields, so the preparer maps field -> field.
    local = Preparer(colmap, kind, name, config.max_chars, config.timezone, role_of)
    return dataclasses.replace(local, columns=ColumnMap(
        {f: (f if colmap[f] is not None else None) for f in FIELDS}))


@dataclass
class Plan:
    """The run's inputs and how a pass reads them: file shares, and Spark frames of tables."""

    inputs: list[Input]
    batch_size: int
    splits: list[tuple[int, int, int]] = field(default_factory=list)  # (input, part, parts)
    tables: dict[int, Any] = field(default_factory=dict)  # input index -> RAW frame

    def split_files(self, tasks: int) -> None:
        """Shares of the files for about `tasks` reading tasks, by file size."""
        files = [i for i in self.inputs if i.source is not None]
        sizes = {i.index: i.source.path.stat().st_size for i in files}
        total = sum(sizes.values()) or 1
        self.splits = []
        for inp in files:
            parts = 1
            if inp.source.format in SPLITTABLE:
                batches = sizes[inp.index] // (self.batch_size * BYTES_PER_ROW) + 1
                parts = max(1, min(round(tasks * sizes[inp.index] / total), batches))
            self.splits += [(inp.index, part, parts) for part in range(parts)]

    def map(self, spark, body: Callable[..., Iterator[pa.RecordBatch]], schema):
        """One frame: `body(batches, read)` over every input, `read` yielding (input, raw rows,
        unreadable rows); the file shares are one task each."""
        parts = []
        if self.splits:
            read = functools.partial(_file_frames, splits=self.splits,
                              inputs={i.index: i for i in self.inputs if i.source is not None},
                              batch_size=self.batch_size)
            parts.append(spark.range(len(self.splits), numPartitions=len(self.splits))
                         .mapInArrow(functools.partial(body, read=read), schema))
        for index, frame in self.tables.items():
            read = functools.partial(_table_frames, inp=self.inputs[index])
            parts.append(frame.mapInArrow(functools.partial(body, read=read), schema))
        return functools.reduce(lambda a, b: a.unionByName(b), parts)


def _file_frames(batches, splits: list[tuple[int, int, int]], inputs: dict[int, Input],
                 batch_size: int) -> Frames:
    """The shares of files named by the task's rows (split numbers), batch by batch."""
    from textmine.spark.errors import reraise_portable

    for task in batches:
        for number in task.column(0).to_pylist():
            index, part, parts = splits[number]
            inp = inputs[index]
            with reraise_portable():
                for raw, bad in inp.source.batches(batch_size,
                                                   keep=lambda i, p=part, n=parts: i % n == p):
                    raw[SEQ] = raw[ROW].to_numpy(dtype="int64") + (inp.index << SEQ_SHIFT)
                    yield inp, raw, bad


def _table_frames(batches, inp: Input) -> Frames:
    for batch in batches:
        yield inp, batch.to_pandas(), []


def spark_frame(spark, inp: Input, frame):  # -> pyspark DataFrame in the RAW shape
    """A table or Parquet URI as RAW rows; `_row` numbers rows in scan order, densely."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType, FloatType

    frame = (frame.withColumn("_mid", F.monotonically_increasing_id())
             .withColumn("_pid", F.spark_partition_id()))
    # Dense row numbers without a one-partition window: each partition's offset is the count
    # of the partitions before it (monotonically_increasing_id is partition << 33 | position).
    counts = dict(frame.groupBy("_pid").count().collect())
    offsets, running = [], 0
    for pid in sorted(counts):
        offsets += [F.lit(pid), F.lit(running)]
        running += counts[pid]
    offset = F.create_map(*offsets)[F.col("_pid")] if offsets else F.lit(0)
    row = offset + (F.col("_mid") - F.shiftleft(F.col("_pid").cast("long"), 33)) + 1
    kinds = dict((f.name, f.dataType) for f in frame.schema.fields)

    def text(name: str):
        col = F.col(f"`{name}`")
        if isinstance(kinds[name], (DoubleType, FloatType)):
            # Integral floats lose their '.0', as load._cell_to_str does for files.
            return F.when(col == F.floor(col), col.cast("long").cast("string")).otherwise(
                col.cast("string"))
        return col.cast("string")

    cols = [row.cast("long").alias(ROW), (F.lit(inp.index << SEQ_SHIFT) + row).cast("long")
            .alias(SEQ)]
    for f in FIELDS:
        name = inp.colmap[f]
        cols.append((text(name) if name is not None else F.lit(None).cast("string")).alias(f))
    return frame.select(*cols)


def open_spark_input(spark, spec: str):  # -> pyspark DataFrame
    """The DataFrame behind `table:db.name` or a Parquet URI; a missing one is a user error."""
    from pyspark.errors import AnalysisException

    try:
        if spec.startswith(TABLE_PREFIX):
            return spark.table(spec[len(TABLE_PREFIX):])
        if Path(spec.split("?")[0]).suffix.lower() not in ("", ".parquet", ".pq"):
            raise TextmineError("E004", "Spark reads Parquet files and tables from URIs",
                                where=spec, fix="Convert to Parquet, or put the file on a path "
                                "every executor sees and pass it without a scheme.")
        return spark.read.parquet(spec)
    except AnalysisException as exc:
        raise TextmineError("E001", str(exc).splitlines()[0][:160], where=spec,
                            fix="Check the table name (db.table) or the URI.") from exc
