"""Open review and chat exports (CSV/TSV/TXT, Excel, JSON/JSONL, Parquet) as batches of strings."""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from textmine.errors import TextmineError

TEXT_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "txt", ".json": "json", ".jsonl": "jsonl",
                ".ndjson": "jsonl"}
BINARY_FORMATS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
ROW = "_row"  # 1-based data row number in the source (header excluded)
_SKIPPING = ("csv", "tsv", "parquet")  # formats whose readers take `keep` (Source.batches)
_SNIFF_BYTES = 1 << 20
_CSV_BLOCK = 32 << 20  # a block must hold the longest row; 1 MB reviews exist in the wild


@dataclass
class UnreadableRow:
    """A row the parser could not read; it becomes a reject with this detail."""

    row: int | None
    detail: str


@dataclass
class Source:
    """An input file, validated and sniffed; `batches()` streams its rows as strings."""

    path: Path
    format: str
    encoding: str | None = None
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    parsed: object = field(default=None, repr=False)  # a JSON file's data, parsed once when sniffed

    @property
    def name(self) -> str:
        return self.path.name

    def batches(self, batch_size: int = 5000, keep: Callable[[int], bool] | None = None
                ) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        """Yield (rows, unreadable) pairs; every cell is a str or None, plus the `_row` column.

        `keep(i)` False leaves out the i-th pair (0-based), with the same row numbers in the
        others: a reader of one share of a file (a Spark task) skips turning the rest into
        strings, where CSV and Parquet spend most of their reading time.
        """
        reader = {
            "csv": self._csv_batches, "tsv": self._csv_batches, "txt": self._txt_batches,
            "xlsx": self._excel_batches, "parquet": self._parquet_batches,
            "json": self._json_batches, "jsonl": self._jsonl_batches,
        }[self.format]
        keep = keep or _every
        # CSV and Parquet readers skip the conversion of left-out batches; the others are
        # cheap to read or parse whole files at once.
        pairs = reader(batch_size, keep) if self.format in _SKIPPING else reader(batch_size)
        start = 1
        for number, (frame, bad) in enumerate(pairs):
            if not keep(number):
                start += (frame if isinstance(frame, int) else len(frame)) + len(bad)
                continue
            frame = frame.reset_index(drop=True)
            frame[ROW] = range(start, start + len(frame))
            start += len(frame) + len(bad)
            yield frame, bad

    # -- CSV/TSV -------------------------------------------------------------------------
    def _csv_batches(self, batch_size: int, keep: Callable[[int], bool]
                     ) -> Iterator[tuple[pd.DataFrame | int, list[UnreadableRow]]]:
        bad: list[UnreadableRow] = []

        def on_invalid(row: pacsv.InvalidRow) -> str:
            line = f"line {row.number}: " if row.number is not None else ""
            bad.append(UnreadableRow(None if row.number is None else row.number - 1,
                                     f"{line}expected {row.expected_columns} fields, "
                                     f"found {row.actual_columns}"))
            return "skip"

        # Serial parsing: Arrow reports a malformed row's line number only when blocks are not
        # parsed in parallel, and a reject should name its line on any number of cores.
        read_opts = pacsv.ReadOptions(encoding=_arrow_encoding(self.encoding),
                                      block_size=_CSV_BLOCK, column_names=self.columns,
                                      skip_rows=1, use_threads=False)
        parse_opts = pacsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True,
                                        invalid_row_handler=on_invalid)
        convert_opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in self.columns},
                                            null_values=[""], strings_can_be_null=True,
                                            quoted_strings_can_be_null=True)
        try:
            reader = pacsv.open_csv(self.path, read_options=read_opts, parse_options=parse_opts,
                                    convert_options=convert_opts)
            number = 0
            for record_batch in reader:
                table = pa.Table.from_batches([record_batch])
                for offset in range(0, max(table.num_rows, 1), batch_size):
                    chunk = table.slice(offset, batch_size)
                    if chunk.num_rows == 0 and not bad:
                        continue
                    yield (_strings(chunk.to_pandas()) if keep(number) else chunk.num_rows), bad
                    number += 1
                    bad = []
            if bad:
                yield pd.DataFrame({c: pd.Series(dtype=object) for c in self.columns}), bad
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            detail = str(exc).splitlines()[0][:200]
            if "UTF8" in detail or isinstance(exc, UnicodeDecodeError):
                raise TextmineError("E005", detail, where=self.name,
                                    fix="Save the file as UTF-8 or pass --encoding gb18030.") from exc
            raise TextmineError("E008", detail, where=self.name,
                                fix="Check the delimiter and quoting, or export again as UTF-8 CSV.") from exc

    # -- one text per line -----------------------------------------------------------------
    def _txt_batches(self, batch_size: int) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        with open(self.path, encoding=self.encoding or "utf-8", errors="strict", newline="") as fh:
            lines: list[str | None] = []
            for line in fh:
                text = line.rstrip("\r\n")
                lines.append(text if text.strip() else None)
                if len(lines) >= batch_size:
                    yield pd.DataFrame({"text": lines}, dtype=object), []
                    lines = []
            if lines:
                yield pd.DataFrame({"text": lines}, dtype=object), []

    # -- Excel -------------------------------------------------------------------------------
    def _excel_batches(self, batch_size: int) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        try:
            frame = pd.read_excel(self.path, sheet_name=0, dtype=object, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many types for broken workbooks
            raise TextmineError("E008", str(exc).splitlines()[0][:200], where=self.name,
                                fix="Open it in Excel and save as .xlsx again.") from exc
        frame.columns = _unique([str(c) for c in frame.columns])
        frame = frame.map(_cell_to_str)
        for offset in range(0, len(frame), batch_size):
            yield frame.iloc[offset:offset + batch_size], []

    # -- Parquet -----------------------------------------------------------------------------
    def _parquet_batches(self, batch_size: int, keep: Callable[[int], bool]
                         ) -> Iterator[tuple[pd.DataFrame | int, list[UnreadableRow]]]:
        try:
            pfile = pq.ParquetFile(self.path)
            for number, record_batch in enumerate(pfile.iter_batches(batch_size=batch_size)):
                if not keep(number):
                    yield record_batch.num_rows, []
                    continue
                frame = record_batch.to_pandas()
                yield frame.map(_cell_to_str).astype(object), []
        except pa.ArrowException as exc:
            raise TextmineError("E008", str(exc).splitlines()[0][:200], where=self.name,
                                fix="Check that the file is a complete Parquet file.") from exc

    # -- JSON --------------------------------------------------------------------------------
    def _json_batches(self, batch_size: int) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        data, self.parsed = self.parsed, None  # the parse done when sniffing serves one read
        if data is None:
            data = _load_json(self.path, self.encoding)
        records = data if isinstance(data, list) else [data]
        for offset in range(0, len(records), batch_size):
            rows, bad = [], []
            for i, rec in enumerate(records[offset:offset + batch_size]):
                if isinstance(rec, dict):
                    rows.append({k: _cell_to_str(v) for k, v in rec.items()})
                else:
                    bad.append(UnreadableRow(offset + i + 1, "JSON item is not an object"))
            yield _frame(rows, self.columns), bad

    def _jsonl_batches(self, batch_size: int) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        rows: list[dict[str, str | None]] = []
        bad: list[UnreadableRow] = []
        with open(self.path, encoding=self.encoding or "utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                    rows.append({k: _cell_to_str(v) for k, v in rec.items()})
                except ValueError as exc:
                    bad.append(UnreadableRow(number, f"line {number}: invalid JSON ({exc})"[:200]))
                if len(rows) >= batch_size:
                    yield _frame(rows, self.columns), bad
                    rows, bad = [], []
        if rows or bad:
            yield _frame(rows, self.columns), bad


def _every(number: int) -> bool:
    return True


def open_source(path: str | Path, encoding: str | None = None) -> Source:
    """Validate a file (exists, not empty, not binary, decodable) and read its header."""
    path = Path(path)
    if not path.exists():
        raise TextmineError("E001", where=str(path), fix="Check the path and file name.")
    if path.is_dir():
        raise TextmineError("E004", "a folder", where=str(path),
                            fix="Pass the files inside it (a glob such as dir/*.csv works).")
    if path.stat().st_size == 0:
        raise TextmineError("E002", where=str(path), fix="Export the data again; the file has no bytes.")
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    suffix = path.suffix.lower()
    fmt = TEXT_FORMATS.get(suffix) or BINARY_FORMATS.get(suffix)
    if fmt is None:
        fmt = _sniff_format(head)
        if fmt is None:
            raise TextmineError("E004", suffix or "no extension", where=str(path),
                                fix="Use .csv .tsv .txt .xlsx .json .jsonl or .parquet.")
    if fmt == "xlsx":
        if not head.startswith(b"PK\x03\x04"):
            raise TextmineError("E003", "not an .xlsx workbook", where=str(path),
                                fix="Save it from Excel as .xlsx (old .xls is not supported).")
        source = Source(path, fmt)
        source.columns = _excel_columns(path)
        return source
    if fmt == "parquet":
        if not head.startswith(b"PAR1"):
            raise TextmineError("E003", "not a Parquet file", where=str(path),
                                fix="Check the file; Parquet files start with PAR1.")
        return Source(path, fmt, columns=list(pq.ParquetFile(path).schema_arrow.names))
    enc = encoding or detect_encoding(head, str(path))
    source = Source(path, fmt, encoding=enc)
    if fmt in ("csv", "tsv"):
        text_head = _decode_head(head, enc)
        first_line = next(iter(text_head.splitlines()), "")
        source.delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(first_line)
        header = next(csv.reader(io.StringIO(first_line), delimiter=source.delimiter), [])
        source.columns = _unique([h.strip().lstrip("\ufeff") for h in header])
        if not any(source.columns):
            raise TextmineError("E008", "no header row", where=str(path),
                                fix="The first line must name the columns.")
    elif fmt == "txt":
        first_line = next(iter(_decode_head(head, enc).splitlines()), "")
        if "\t" in first_line:  # a tab-separated export saved as .txt
            source.format, source.delimiter = "tsv", "\t"
            source.columns = _unique([h.strip().lstrip("\ufeff") for h in first_line.split("\t")])
        else:
            source.columns = ["text"]
    elif fmt == "jsonl":
        source.columns = _jsonl_columns(path, enc)
    elif fmt == "json":
        data = _load_json(path, enc)
        if path.stat().st_size <= _KEEP_PARSED_BYTES:  # runs open all their files first
            source.parsed = data
        records = data if isinstance(data, list) else [data]
        source.columns = _unique(list(dict.fromkeys(k for r in records[:1000] if isinstance(r, dict) for k in r)))
    return source


def detect_encoding(head: bytes, where: str = "") -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 (a superset of GBK/GB2312)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head[:8192]:
        raise TextmineError("E003", where=where,
                            fix="Pass a CSV, TSV, Excel, JSON or Parquet export.")
    for enc in ("utf-8", "gb18030"):
        try:
            _decode_head(head, enc, strict=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise TextmineError("E005", where=where, fix="Save the file as UTF-8 and try again.")


def _decode_head(head: bytes, enc: str, strict: bool = False) -> str:
    # The sniffed prefix may end inside a multi-byte character: drop up to 3 trailing bytes.
    for cut in range(4):
        chunk = head[: len(head) - cut] if cut else head
        try:
            return chunk.decode(enc)
        except UnicodeDecodeError:
            if cut == 3 or len(head) < _SNIFF_BYTES:
                if strict:
                    raise
                return head.decode(enc, errors="replace")
    return head.decode(enc, errors="replace")


def _arrow_encoding(enc: str | None) -> str:
    # Arrow reads UTF-8 natively; the BOM sits in the header line, which we skip ourselves.
    return "utf8" if enc in (None, "utf-8", "utf-8-sig") else enc


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _sniff_format(head: bytes) -> str | None:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith(b"["):
        return "json"
    if stripped.startswith(b"{"):
        return "jsonl"
    return None


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name or "column"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _cell_to_str(value: object) -> str | None:
    """One cell as text; integral floats lose their '.0' so IDs read from numbers stay IDs."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if value is pd.NaT:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return str(value)


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).where(frame.notna(), None)


def _frame(rows: list[dict[str, str | None]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=columns or None)
    return frame.astype(object).where(frame.notna(), None)


def _excel_columns(path: Path) -> list[str]:
    try:
        header = pd.read_excel(path, sheet_name=0, nrows=0, engine="openpyxl")
    except Exception as exc:
        raise TextmineError("E008", str(exc).splitlines()[0][:200], where=path.name,
                            fix="Open it in Excel and save as .xlsx again.") from exc
    return _unique([str(c) for c in header.columns])


_KEEP_PARSED_BYTES = 64 << 20  # a JSON file up to this size is parsed once, not twice


def _load_json(path: Path, encoding: str | None) -> object:
    try:
        with open(path, encoding=encoding or "utf-8-sig") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise TextmineError("E008", f"invalid JSON at line {exc.lineno} column {exc.colno}",
                            where=path.name, fix="Fix the JSON, or use JSON Lines (.jsonl).") from exc


def _jsonl_columns(path: Path, encoding: str | None) -> list[str]:
    keys: dict[str, None] = {}
    with open(path, encoding=encoding or "utf-8-sig") as fh:
        for i, line in enumerate(fh):
            if i >= 1000:
                break
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                keys.update(dict.fromkeys(rec))
    return list(keys)
