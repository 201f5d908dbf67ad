"""Arrow schemas of the Spark job's frames, and their Spark equivalents."""

from __future__ import annotations

import pyarrow as pa

from textmine.schema import DOCUMENTS, REJECTS

SRC = "_src"  # which input a row of KEYS came from (per-input row counts)
MONTH = "month"  # documents/ is partitioned by the month of created_at (month=2026-03)
REJECT_FIELDS = ("reason", "detail", "excerpt")
# Pass 1 emits, for every input row, either the keys of its canonical record (reason is null)
# or a reject with its reason (and source, row, detail, excerpt); so `in` is its row count.
# It is all dedup needs: a few short columns instead of the rows.
KEYS = pa.schema([pa.field(SRC, pa.int32()), pa.field("seq", pa.int64()),
                  pa.field("doc_id", pa.string()), pa.field("source_hash", pa.string()),
                  pa.field("session_id", pa.string()), pa.field("turn", pa.int32()),
                  pa.field("source", pa.string()), pa.field("source_row", pa.int64())]
                 + [pa.field(name, pa.string()) for name in REJECT_FIELDS])
# Pass 2 emits documents/ rows as the writer takes them (`seq` in front when dedup's numbered
# chat turns are joined on afterwards).
STORED = pa.schema(list(DOCUMENTS) + [pa.field(MONTH, pa.string())])
STORED_SEQ = pa.schema([pa.field("seq", pa.int64())] + list(STORED))
# Pass 3 (only when some IDs were reused with other text) emits those rows' rejects.
CONFLICTS = REJECTS


def spark_type(arrow_type: pa.DataType):  # -> pyspark DataType
    """The Spark type for an Arrow type of our schemas; naive timestamps stay naive (NTZ)."""
    from pyspark.sql import types as T

    simple = {pa.string(): T.StringType(), pa.int64(): T.LongType(), pa.int32(): T.IntegerType(),
              pa.float64(): T.DoubleType(), pa.bool_(): T.BooleanType()}
    if arrow_type in simple:
        return simple[arrow_type]
    if pa.types.is_timestamp(arrow_type):
        # Stored times are local wall-clock times without a zone: TimestampNTZ keeps them so
        # in Parquet (isAdjustedToUTC=false), which DuckDB reads back as the same TIMESTAMP.
        return T.TimestampNTZType()
    if pa.types.is_list(arrow_type):
        return T.ArrayType(spark_type(arrow_type.value_type))
    if pa.types.is_struct(arrow_type):
        return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in arrow_type])
    raise TypeError(f"no Spark type for {arrow_type}")


def spark_schema(schema: pa.Schema):  # -> pyspark StructType
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in schema])
