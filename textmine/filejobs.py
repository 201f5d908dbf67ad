"""File-to-file jobs behind `textmine segment` and `textmine sentiment`: every row kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from textmine.columns import resolve_columns
from textmine.config import Config
from textmine.export import write_frame
from textmine.load import ROW, open_source
from textmine.pipeline import apply_to_frame


def read_all(path: str | Path, text_col: str | None, config: Config) -> tuple[pd.DataFrame, str]:
    """The whole file as strings plus the name of its text column."""
    source = open_source(path)
    colmap = resolve_columns(source.columns, {"text": text_col}, source=str(path))
    frames = [raw for raw, _bad in source.batches(config.batch_size)]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=source.columns)
    return frame.drop(columns=[ROW], errors="ignore"), colmap["text"]


def has_text(values: pd.Series) -> pd.Series:
    """True where a cell holds text other than whitespace (the rows a text stage can read)."""
    return values.notna() & (values.astype(str).str.strip() != "")


def _run(path: str | Path, out: str | Path, text_col: str | None, config: Config,
         stages: tuple[str, ...], keep: tuple[str, ...], mask: bool) -> dict:
    from textmine.sentiment import model_columns

    frame, col = read_all(path, text_col, config)
    inputs = model_columns(config) if "sentiment" in stages else ()
    result = apply_to_frame(frame, col, stages, config, keep=inputs)
    empty = ~has_text(frame[col])
    if mask:
        frame[col] = result["text"]
    for name in keep:
        values = result[name].astype(object)
        frame[name] = values.where(~empty, None)
    write_frame(frame, out)
    return {"in": len(frame), "written": len(frame), "empty": int(empty.sum()),
            "text_col": col, "out": str(out)}


def segment_file(path: str | Path, out: str | Path, *, text_col: str | None = None,
                 config: Config | None = None, mask: bool = True) -> dict:
    """Write `path` to `out` with a `tokens` column added."""
    return _run(path, out, text_col, config or Config(), ("clean", "segment"), ("tokens",), mask)


def sentiment_file(path: str | Path, out: str | Path, *, text_col: str | None = None,
                   config: Config | None = None, mask: bool = True) -> dict:
    """Write `path` to `out` with `sentiment` and `polarity` added."""
    return _run(path, out, text_col, config or Config(), ("clean", "segment", "sentiment"),
                ("sentiment", "polarity"), mask)
