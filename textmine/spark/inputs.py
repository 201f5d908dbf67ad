"""Plan the Spark job's input: files, Parquet URIs and catalog tables as one frame of raw rows.

Every input becomes rows of the RAW shape: `_src` (which input), `_row` (1-based data row in
that input, as the local engine numbers it), `_seq` (input order over the whole run), `_bad`
(why an unreadable row could not be parsed) and one string column per canonical field (the
input column the field maps to, or null). Only mapped columns travel, and the stage code sees
the same values it sees locally.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from textmine.columns import FIELDS, ColumnMap, resolve_columns
from textmine.errors import TextmineError
from textmine.load import ROW, Source
from textmine.records import SEQ, Preparer

SRC, BAD = "_src", "_bad"
RAW = pa.schema([pa.field(SRC, pa.int32()), pa.field(ROW, pa.int64()), pa.field(SEQ, pa.int64()),
                 pa.field(BAD, pa.string())] + [pa.field(f, pa.string()) for f in FIELDS])
SEQ_SHIFT = 40  # _seq = input index << 40 | position: input order without counting rows first
TABLE_PREFIX = "table:"


@dataclass
class Input:
    """One input as planned on the driver; picklable, so executors read files themselves."""

    index: int
    name: str  # file name (as the local engine reports it), `table:db.t` or the URI
    colmap: ColumnMap  # canonical field -> the input's column
    preparer: Preparer  # works on RAW rows (its column map is field -> field)
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
        out.append(Input(-1, source.name, colmap,
                         _preparer(colmap, kind, source.name, config, role_of), source=source))
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


def read_files(batches, files: list[Input], batch_size: int):
    """mapInArrow body: each row of the task list names a file; yield its rows as RAW batches."""
    from textmine.spark.errors import reraise_portable

    for task in batches:
        for task_number in task.column(0).to_pylist():
            inp = files[task_number]
            position = 0
            with reraise_portable():
                for raw, bad in inp.source.batches(batch_size):
                    yield _raw_batch(inp, raw, position)
                    position += len(raw)
                    if bad:
                        yield pa.RecordBatch.from_pydict({
                            SRC: [inp.index] * len(bad), ROW: [b.row for b in bad],
                            SEQ: [None] * len(bad), BAD: [b.detail for b in bad],
                            **{f: [None] * len(bad) for f in FIELDS}}, schema=RAW)


def _raw_batch(inp: Input, raw: pd.DataFrame, position: int) -> pa.RecordBatch:
    n = len(raw)
    seq = (inp.index << SEQ_SHIFT) + position
    arrays: dict[str, Any] = {
        SRC: pa.array([inp.index] * n, pa.int32()),
        ROW: pa.array(raw[ROW].to_numpy(dtype="int64")),
        SEQ: pa.array(range(seq, seq + n), pa.int64()),
        BAD: pa.nulls(n, pa.string()),
    }
    for f in FIELDS:
        name = inp.colmap[f]
        arrays[f] = (pa.array(raw[name].tolist(), pa.string()) if name is not None
                     else pa.nulls(n, pa.string()))
    return pa.RecordBatch.from_pydict(arrays, schema=RAW)


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

    cols = [F.lit(inp.index).cast("int").alias(SRC), row.cast("long").alias(ROW),
            (F.lit(inp.index << SEQ_SHIFT) + row).cast("long").alias(SEQ),
            F.lit(None).cast("string").alias(BAD)]
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
