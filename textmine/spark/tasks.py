"""What the executors' Python workers run: the local engine's own functions, batch by batch.

Each pass reads its input itself (`inputs.Plan.map`: file shares or a table's rows):
- keys: `records.Preparer.prepare` -> the records' dedup keys, and the rejects with reasons;
- documents: `analyze.analyze_batch` (the local engine's worker job: prepare, then clean/mask
  -> segment -> sentiment -> aspects -> …) on the rows dedup kept, as documents/ stores them;
- conflicts: the clean stage on the rows that reuse an ID with other text, for their rejects'
  excerpts (the cleaned, masked text, as locally).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from textmine.analyze import analyze_batch
from textmine.config import Config
from textmine.ledger import CONFLICT, CONFLICT_DETAIL
from textmine.records import SEQ
from textmine.schema import to_arrow
from textmine.spark.errors import reraise_portable
from textmine.spark.schemas import CONFLICTS, KEYS, MONTH, SRC, STORED, STORED_SEQ

FAIL_SWITCH = "TEXTMINE_SPARK_FAIL_FIRST_ATTEMPT"  # tests: a marker path; partition 0 fails once


def keys_partition(batches, read, config: Config | None = None) -> Iterator[pa.RecordBatch]:
    """Pass 1: every input row as its record's keys or as a reject (KEYS batches).

    Its last step starts building the stages' resources for `config` in the background: the
    worker then warms up while the JVM alone runs dedup, and pass 2 starts on warm resources.
    """
    with reraise_portable():
        for inp, raw, bad in read(batches):
            if bad:
                yield from _keys(inp.preparer.unreadable(bad).rename(columns={"row": "source_row"}),
                            inp.index)
            if len(raw):
                prepared = inp.preparer.prepare(raw)
                yield from _keys(prepared.records, inp.index)
                yield from _keys(prepared.rejects.rename(columns={"row": "source_row"}), inp.index)
    if config is not None:
        from textmine.spark.ship import executor_config

        _warm_in_background(executor_config(config))


def documents_partition(batches, read, config: Config, kind: str, run_id: str, seqs=None,
                        keep: bool = False, with_seq: bool = False,
                        fail_marker: str | None = None) -> Iterator[pa.RecordBatch]:
    """Pass 2: the local engine's batch job on the rows to store (STORED batches).

    `seqs` (a broadcast sorted array of `_seq`) names the rows to analyse (`keep`) or to
    leave out (repeats of an ID); they are dropped before anything is computed for them.
    """
    from pyspark import TaskContext

    from textmine.spark.ship import executor_config

    config = executor_config(config)
    _await_warm()
    chosen = None if seqs is None else seqs.value
    context = TaskContext.get()
    inject = bool(fail_marker) and context.partitionId() == 0 and context.attemptNumber() == 0
    schema = STORED_SEQ if with_seq else STORED
    with reraise_portable():
        for inp, raw, _ in read(batches):
            if chosen is not None:
                inside = np.isin(raw[SEQ].to_numpy(), chosen)
                raw = raw[inside if keep else ~inside].reset_index(drop=True)
            if not len(raw):
                continue
            table, _ = analyze_batch(raw, inp.preparer, config, kind)
            if not table.num_rows:
                continue
            table = (table.append_column("run_id", pa.array([run_id] * table.num_rows,
                                                            pa.string()))
                     .append_column(MONTH, pc.strftime(table["created_at"], format="%Y-%m")))
            yield from table.select(schema.names).cast(schema).to_batches()
            if inject:
                # This batch is already with the writer: the retry must not leave its rows
                # twice (Spark's commit protocol discards a failed attempt's files).
                Path(fail_marker).write_text("failed once\n")
                raise RuntimeError(f"injected failure ({FAIL_SWITCH})")


def conflicts_partition(batches, read, config: Config, kind: str, run_id: str,
                        conflicts) -> Iterator[pa.RecordBatch]:
    """Pass 3: rejects for the rows (broadcast `_seq` -> doc_id) that reuse an ID with other
    text, worded as locally; the excerpt is the row's cleaned, masked text."""
    from textmine.spark.ship import executor_config

    config = executor_config(config)
    _await_warm()
    ids: dict[int, str] = conflicts.value
    wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
    with reraise_portable():
        for inp, raw, _ in read(batches):
            raw = raw[np.isin(raw[SEQ].to_numpy(), wanted)].reset_index(drop=True)
            if not len(raw):
                continue
            table, _ = analyze_batch(raw, inp.preparer, config, kind, stage_names=("clean",))
            doc_ids = [ids[s] for s in table["seq"].to_pylist()]
            yield from pa.table({
                "run_id": [run_id] * len(doc_ids), "source": table["source"],
                "row": table["source_row"], "doc_id": doc_ids,
                "reason": [CONFLICT] * len(doc_ids),
                "detail": [CONFLICT_DETAIL.format(i) for i in doc_ids],
                "excerpt": [(t or "")[:120] for t in table["text"].to_pylist()]},
                schema=CONFLICTS).to_batches()


_WARMING: dict[str, threading.Thread] = {}  # per worker process: config -> its warm-up


def _warm_in_background(config: Config) -> None:
    key = repr(config)
    if key not in _WARMING:
        _WARMING[key] = threading.Thread(target=_warm_quietly, args=(config,), daemon=True,
                                         name="textmine-warm")
        _WARMING[key].start()


def _warm_quietly(config: Config) -> None:
    from textmine.warm import warm

    # A failure here is reported by pass 2, which builds what the warm-up could not.
    with contextlib.suppress(Exception):
        warm(config)


def _await_warm() -> None:
    """Pass 2 builds nothing twice: it waits for a warm-up still running in this worker."""
    for thread in list(_WARMING.values()):
        thread.join()


def _keys(frame: pd.DataFrame, src: int) -> Iterator[pa.RecordBatch]:
    if "reason" not in frame:  # records: their keys only; the rows stay with the input
        frame = frame[["seq", "doc_id", "source_hash", "session_id", "turn"]]
    if len(frame):
        yield from to_arrow(frame.assign(**{SRC: src}), KEYS).to_batches()
