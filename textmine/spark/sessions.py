"""Chat sessions on Spark: textmine.chats' own session SQL, run per group of customers.

Sessions (and repeat contacts, which compare a customer's sessions) need every turn of a
customer together: turns are grouped by a hash of the customer (or, without one, the
session), and each group runs `chats.refresh_sessions` on an in-memory DuckDB workspace
inside `groupBy().applyInArrow` (applyInPandas' Arrow twin: list columns such as tokens and
aspects pass without a pandas round trip) — the code the local engine runs after storing.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from textmine.config import Config
from textmine.spark import storage

GROUPS_PER_CORE = 3


def write_sessions(spark, output: str, run_id: str, config: Config) -> dict[str, Any]:
    """Recompute sessions/ from every chat turn in documents/ (replaces the folder)."""
    from pyspark.sql import functions as F

    from textmine.chats import SESSIONS
    from textmine.spark.schemas import spark_schema
    from textmine.spark.ship import ship_config

    turns = (spark.read.parquet(storage.join(output, "documents"))
             .where(F.col("kind") == "chat").drop("month"))
    key = F.coalesce(F.col("customer_id"), F.concat(F.lit("\x1f"), F.col("session_id")))
    groups = spark.sparkContext.defaultParallelism * GROUPS_PER_CORE
    shipped = ship_config(spark, config)

    def job(turns):  # no annotations: pyspark 4 fails to infer a UDF kind from a partial's
        return _sessions_of_group(turns, run_id, shipped)

    sessions = (turns.withColumn("_group", F.pmod(F.hash(key), F.lit(groups)))
                .groupBy("_group").applyInArrow(job, schema=spark_schema(SESSIONS)))
    target = storage.join(output, "sessions")
    sessions.write.mode("overwrite").parquet(target)
    row = spark.read.parquet(target).agg(
        F.count("*"), F.count_if(F.col("escalated")), F.count_if(F.col("ended_badly")),
        F.count_if(F.col("repeat_contact")), F.count_if(F.col("no_customer_turn"))).first()
    names = ("sessions", "escalated", "ended_badly", "repeat_contacts", "no_customer_turn")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def _sessions_of_group(turns: pa.Table, run_id: str, config: Config) -> pa.Table:
    from textmine.chats import SESSIONS, refresh_sessions
    from textmine.pipeline import resources_for
    from textmine.spark.ship import executor_config
    from textmine.workspace import open_workspace

    lexicons = resources_for(executor_config(config)).lexicons
    with open_workspace(":memory:") as ws:
        ws.insert("documents", turns.drop_columns(["_group"]))
        refresh_sessions(ws, None, lexicons, run_id)
        names = ", ".join(f'"{f.name}"' for f in SESSIONS)
        return ws.con.execute(f"SELECT {names} FROM sessions").to_arrow_table().cast(SESSIONS)
