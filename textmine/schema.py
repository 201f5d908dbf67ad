"""The canonical columns of stored tables (a contract shared by both engines and all readers)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

ASPECT_TYPE = pa.struct([("aspect", pa.string()), ("polarity", pa.string()),
                         ("score", pa.float64()), ("evidence", pa.string())])

# One row per document (review or chat turn). New stages add columns here and they appear in
# every workspace on next open (ALTER TABLE ADD COLUMN), in Spark output and in exports.
DOCUMENTS = pa.schema([
    ("doc_id", pa.string()),
    ("kind", pa.string()),
    ("source", pa.string()),
    ("source_row", pa.int64()),
    ("customer_id", pa.string()),
    ("order_id", pa.string()),
    ("session_id", pa.string()),
    ("product", pa.string()),
    ("channel", pa.string()),
    ("role", pa.string()),
    ("turn", pa.int32()),
    ("created_at", pa.timestamp("us")),
    ("rating", pa.float64()),
    ("text", pa.string()),
    ("source_hash", pa.string()),
    ("tokens", pa.list_(pa.string())),
    ("sentiment", pa.float64()),
    ("polarity", pa.string()),
    ("aspects", pa.list_(ASPECT_TYPE)),
    ("is_complaint", pa.bool_()),
    ("escalation", pa.list_(pa.string())),  # chats: escalation categories of a customer turn
    ("unresolved", pa.bool_()),  # chats: a customer turn says the problem is still open
    ("turn_act", pa.string()),  # chats: closing/resigned/ack/opinion/question/other (customer turns)
    ("question", pa.bool_()),  # chats: a customer turn asks something (chats.signals.QUESTION)
    ("topic_id", pa.int32()),
    ("topic_label", pa.string()),
    ("topic_prob", pa.float64()),
    ("run_id", pa.string()),
])

REJECTS = pa.schema([
    ("run_id", pa.string()),
    ("source", pa.string()),
    ("row", pa.int64()),
    ("doc_id", pa.string()),
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("excerpt", pa.string()),
])

RUNS = pa.schema([
    ("run_id", pa.string()),
    ("command", pa.string()),
    ("args", pa.string()),
    ("started_at", pa.timestamp("us")),
    ("finished_at", pa.timestamp("us")),
    ("status", pa.string()),
    ("textmine_version", pa.string()),
    ("lexicon_digest", pa.string()),
    ("sentiment_model", pa.string()),
    ("n_in", pa.int64()),
    ("n_stored", pa.int64()),
    ("n_duplicates", pa.int64()),
    ("n_rejected", pa.int64()),
    ("details", pa.string()),
])

TABLES: dict[str, pa.Schema] = {"documents": DOCUMENTS, "rejects": REJECTS, "runs": RUNS}

_DUCK_TYPES = {
    pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN", pa.timestamp("us"): "TIMESTAMP",
    pa.binary(): "BLOB",
}


def duck_type(arrow_type: pa.DataType) -> str:
    """The DuckDB column type for an Arrow type used in our schemas."""
    if arrow_type in _DUCK_TYPES:
        return _DUCK_TYPES[arrow_type]
    if pa.types.is_list(arrow_type):
        return f"{duck_type(arrow_type.value_type)}[]"
    if pa.types.is_struct(arrow_type):
        inner = ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in arrow_type)
        return f"STRUCT({inner})"
    raise TypeError(f"no DuckDB type for {arrow_type}")


def register_table(name: str, schema: pa.Schema) -> None:
    """Let a later feature (sessions, customers, topics) declare its stored table."""
    TABLES[name] = schema


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Conform a DataFrame to `schema`: missing columns become nulls, extra ones are dropped."""
    arrays = []
    n = len(frame)
    for f in schema:
        if f.name not in frame.columns:
            arrays.append(pa.nulls(n, type=f.type))
            continue
        col = frame[f.name]
        if pa.types.is_timestamp(f.type) and not pd.api.types.is_datetime64_any_dtype(col):
            col = pd.to_datetime(col)
        elif pa.types.is_integer(f.type) and col.dtype == object:
            col = pd.array(col, dtype="Int64")
        arrays.append(pa.array(col, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)
