"""What the executors' Python workers run: the local engine's own functions, batch by batch.

Pass 1 runs `records.Preparer.prepare` (canonical records + rejects with reasons) on raw rows;
pass 2 runs the pipeline (`pipeline.process_batch`: clean/mask -> segment -> sentiment ->
aspects -> …) on the records dedup kept, and its output is what documents/ stores. Together
they are `analyze.analyze_batch`, split where the local engine deduplicates.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from textmine.config import Config
from textmine.load import ROW, UnreadableRow
from textmine.pipeline import DEFAULT_ORDER
from textmine.records import SEQ
from textmine.schema import to_arrow
from textmine.spark.errors import reraise_portable
from textmine.spark.inputs import BAD, SRC, Input
from textmine.spark.schemas import ANALYZED, PREPARED

FAIL_SWITCH = "TEXTMINE_SPARK_FAIL_FIRST_ATTEMPT"  # tests: a marker path; partition 0 fails once


def prepare_partition(batches, inputs: dict[int, Input]) -> Iterator[pa.RecordBatch]:
    """mapInArrow body of pass 1: RAW batches -> PREPARED batches (records or rejects)."""
    with reraise_portable():
        for batch in batches:
            for inp, raw, bad in _raw_frames(batch, inputs):
                if len(bad):
                    unreadable = [UnreadableRow(None if pd.isna(r) else int(r), d)
                                  for r, d in zip(bad[ROW], bad[BAD], strict=True)]
                    yield from _prepared(inp.preparer.unreadable(unreadable)
                                         .rename(columns={"row": "source_row"}), inp)
                if len(raw):
                    prepared = inp.preparer.prepare(raw)
                    yield from _prepared(prepared.records, inp)
                    yield from _prepared(prepared.rejects.rename(columns={"row": "source_row"}),
                                         inp)


def analyze_partition(batches, config: Config, kind: str, fail_marker: str | None = None,
                      stage_names: tuple[str, ...] = DEFAULT_ORDER) -> Iterator[pa.RecordBatch]:
    """mapInArrow body of pass 2: prepared records -> analysed records (ANALYZED batches)."""
    from pyspark import TaskContext

    from textmine.pipeline import process_batch
    from textmine.spark.ship import executor_config

    config = executor_config(config)
    context = TaskContext.get()
    inject = bool(fail_marker) and context.partitionId() == 0 and context.attemptNumber() == 0
    with reraise_portable():
        for number, batch in enumerate(batches):
            # Nullable integers (turn) come back as pandas' Int64, as the preparer makes them.
            records = batch.to_pandas(types_mapper={pa.int32(): pd.Int64Dtype()}.get)
            yield from to_arrow(process_batch(records, config, kind, stage_names),
                                ANALYZED).to_batches()
            if inject and number == 0:
                # The first batch is already with the writer: the retry must not leave those
                # rows twice (Spark's commit protocol discards a failed attempt's files).
                Path(fail_marker).write_text("failed once\n")
                raise RuntimeError(f"injected failure ({FAIL_SWITCH})")


def _raw_frames(batch: pa.RecordBatch, inputs: dict[int, Input]):
    """(input, readable rows as the local engine's raw frame, unreadable rows) per input."""
    frame = batch.to_pandas()
    for src, part in frame.groupby(SRC, sort=False):
        bad = part[part[BAD].notna()]
        raw = part[part[BAD].isna()].drop(columns=[SRC, BAD]).reset_index(drop=True)
        raw[ROW] = raw[ROW].astype("int64")
        raw[SEQ] = raw[SEQ].astype("int64")
        yield inputs[int(src)], raw, bad


def _prepared(frame: pd.DataFrame, inp: Input) -> Iterator[pa.RecordBatch]:
    if len(frame):
        yield from to_arrow(frame.assign(**{SRC: inp.index}), PREPARED).to_batches()
