"""Arrow schemas of the Spark job's frames, and their Spark equivalents."""

from __future__ import annotations

import pyarrow as pa

from textmine.analyze import INCOMING
from textmine.records import RECORD_COLUMNS
from textmine.spark.inputs import SRC

# Pass 1 (prepare) emits, for every input row, either its canonical record (reason is null) or
# a reject with its reason; so `in` is this frame's row count. It is the job's only cached
# frame: dedup reads its keys, and pass 2 analyses its records without preparing them again.
REJECT_FIELDS = ("reason", "detail", "excerpt")
RECORD_FIELDS = [INCOMING.field(name) if name in INCOMING.names else pa.field(name, pa.string())
                 for name in RECORD_COLUMNS]  # text_raw is the one column stored under another name
PREPARED = pa.schema(RECORD_FIELDS + [pa.field(SRC, pa.int32())]
                     + [pa.field(name, pa.string()) for name in REJECT_FIELDS])
# Pass 2 (analyse) emits the local engine's analysed records.
ANALYZED = INCOMING


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
