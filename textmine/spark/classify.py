"""Dedup in Spark with the local engine's rules (`ledger.RunLedger`): first wins, by input order.

- chats without turn numbers: turns are numbered per session in input order, and rows
  without an ID get `<session>:<turn>`;
- per doc_id, ordered by input position: the first row is new; a later row with the same
  source_hash is a duplicate, with another hash a conflict (rejected `duplicate_id_conflict`);
- a doc_id already stored in the output folder makes the row a duplicate (same hash) or a
  conflict (other hash), so re-running into the same folder stores nothing twice.

Reviews and other documents with IDs are judged with `repeats`: a row whose ID occurs once in
the run and is not stored is new, so only the rows of repeated or stored IDs go through the
ordered window (one hash aggregation over the keys instead of sorting them all).
"""

from __future__ import annotations


def classify(records, existing, kind: str):  # -> pyspark DataFrame with `status`
    """`records`: the records' keys (seq, doc_id, source_hash, session_id, turn);
    `existing`: (doc_id, source_hash) of the documents already stored."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if kind == "chat":
        by_session = Window.partitionBy("session_id").orderBy("seq")
        numbered = F.when(F.col("session_id").isNotNull(),
                          F.row_number().over(by_session).cast("int"))
        records = records.withColumn("turn", F.coalesce(F.col("turn"), numbered))
        records = records.withColumn("doc_id", F.coalesce(
            F.col("doc_id"), F.concat(F.col("session_id"), F.lit(":"),
                                      F.col("turn").cast("string"))))
    if existing is not None:
        stored = (existing.groupBy("doc_id").agg(F.first("source_hash").alias("_stored_hash"))
                  .withColumn("_stored", F.lit(True)))
        records = records.join(stored, "doc_id", "left")
    else:
        records = (records.withColumn("_stored_hash", F.lit(None).cast("string"))
                   .withColumn("_stored", F.lit(None).cast("boolean")))
    by_id = Window.partitionBy("doc_id").orderBy("seq")
    records = (records.withColumn("_nth", F.row_number().over(by_id))
               .withColumn("_first_hash", F.first("source_hash").over(by_id)))
    same_as_first = F.col("source_hash") == F.col("_first_hash")
    status = (F.when(F.col("_stored") & (F.col("_stored_hash") == F.col("source_hash")),
                     "duplicate")
              .when(F.col("_stored"), "conflict")
              .when((F.col("_nth") > 1) & same_as_first, "duplicate")
              .when(F.col("_nth") > 1, "conflict")
              .otherwise("new"))
    return records.withColumn("status", status).drop("_stored", "_stored_hash", "_nth",
                                                     "_first_hash")


def repeats(records, existing, kind: str):  # -> pyspark DataFrame with `status`
    """`classify` on the rows whose doc_id occurs more than once in `records` or is already
    stored; every other row of `records` is new. Not for chats (turns are numbered per
    session over all rows)."""
    from pyspark.sql import functions as F

    counted = records.groupBy("doc_id").agg(F.count(F.lit(1)).alias("_n"))
    judged = F.col("_n") > 1
    if existing is not None:
        stored = existing.select("doc_id").distinct().withColumn("_in_store", F.lit(True))
        counted = counted.join(stored, "doc_id", "left")
        judged = judged | F.col("_in_store").isNotNull()
    ids = counted.where(judged).select("doc_id")
    return classify(records.join(ids, "doc_id", "left_semi"), existing, kind)
