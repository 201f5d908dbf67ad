"""Write workspace tables and DataFrames to Parquet, CSV, Excel or JSON Lines, chosen by extension."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from textmine.errors import TextmineError
from textmine.workspace import Workspace

FORMATS = (".parquet", ".csv", ".xlsx", ".jsonl", ".json", ".tsv")
EXCEL_MAX_ROWS = 1_048_575
# Columns kept out of `documents` exports: internal bookkeeping, not analysis results.
INTERNAL_COLUMNS = ("source_hash",)


def _flat(value: object) -> object:
    """Lists and structs as text for flat formats (CSV/Excel): tokens space-joined, rest JSON."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return " ".join(value)
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def flatten(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_flat)
    return out


def write_frame(frame: pd.DataFrame, path: str | Path, sheet: str = "data") -> Path:
    """Write one table; the format follows the extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise TextmineError("E014", suffix or "no extension", where=str(path),
                            fix="Use .parquet, .csv, .tsv, .xlsx or .jsonl.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix in (".csv", ".tsv"):
        # UTF-8 with BOM so Excel on Chinese Windows opens it without mojibake.
        flatten(frame).to_csv(path, index=False, encoding="utf-8-sig",
                              sep="\t" if suffix == ".tsv" else ",")
    elif suffix in (".jsonl", ".json"):
        frame.to_json(path, orient="records", lines=suffix == ".jsonl", force_ascii=False,
                      date_format="iso", date_unit="s")
    else:
        write_excel({sheet: frame}, path)
    return path


def write_excel(sheets: dict[str, pd.DataFrame], path: str | Path,
                headers: dict[str, str] | None = None) -> Path:
    """An Excel workbook people can read: frozen header, sensible widths, IDs kept as text.

    `headers` renames columns for display (e.g. customer_id -> 客户ID).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
        book = writer.book
        text_fmt = book.add_format({"num_format": "@"})
        head_fmt = book.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1,
                                    "text_wrap": True, "valign": "top"})
        for name, frame in sheets.items():
            if len(frame) > EXCEL_MAX_ROWS:
                raise TextmineError("E014", f"{len(frame):,} rows exceed Excel's limit",
                                    where=str(path), fix="Export to .parquet or .csv instead.")
            data = flatten(frame)
            for col in data.columns:
                if pd.api.types.is_datetime64_any_dtype(data[col]):
                    data[col] = data[col].dt.tz_localize(None) if data[col].dt.tz else data[col]
            if headers:
                data = data.rename(columns=headers)
            sheet_name = name[:31]
            data.to_excel(writer, sheet_name=sheet_name, index=False)
            sheet = writer.sheets[sheet_name]
            sheet.freeze_panes(1, 0)
            for i, col in enumerate(data.columns):
                sheet.write(0, i, col, head_fmt)
                values = data[col].astype(str).head(500)
                longest = max([_display_width(str(col))] + [_display_width(v) for v in values])
                width = min(max(8, longest + 2), 60)
                is_text = data[col].dtype == object
                sheet.set_column(i, i, width, text_fmt if is_text else None)
            if len(data.columns):
                sheet.autofilter(0, 0, max(len(data), 1), len(data.columns) - 1)
    return path


def _display_width(text: str) -> int:
    # CJK characters take two columns in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def read_table(ws: Workspace, table: str) -> pd.DataFrame:
    """A stored table as a DataFrame; `documents` without internal bookkeeping columns."""
    if not ws.has_table(table):
        raise TextmineError("E013", table, where=str(ws.path),
                            fix=f"Tables here: {', '.join(ws.tables()) or 'none yet'}.")
    frame = ws.query(f'SELECT * FROM "{table}"')
    if table == "documents":
        frame = frame.drop(columns=[c for c in INTERNAL_COLUMNS if c in frame.columns])
    return frame


def export_table(ws: Workspace, table: str, out: str | Path) -> int:
    """Export one table; returns the number of rows written."""
    suffix = Path(out).suffix.lower()
    if suffix == ".parquet" and table in ws.tables():
        # Let DuckDB stream large tables straight to Parquet (typed lists and structs kept).
        cols = "*" if table != "documents" else f"* EXCLUDE ({', '.join(INTERNAL_COLUMNS)})"
        target = str(out).replace("'", "''")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        ws.con.execute(f"COPY (SELECT {cols} FROM \"{table}\") TO '{target}' (FORMAT parquet)")
        return ws.count(table)
    frame = read_table(ws, table)
    write_frame(frame, out, sheet=table)
    return len(frame)
