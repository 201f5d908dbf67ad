"""Turn raw input rows into canonical records, sending rows that cannot be used to rejects."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from textmine.columns import ColumnMap
from textmine.errors import REJECT_REASONS
from textmine.load import ROW, UnreadableRow
from textmine.timeparse import parse_times

ID_FIELDS = ("customer_id", "order_id", "session_id")
LABEL_FIELDS = ("product", "channel")
SEQ = "_seq"  # position of the row in the whole run's input (keeps turn and first-wins order)
RECORD_COLUMNS = ("seq", "doc_id", "kind", "source", "source_row", "customer_id", "order_id",
                  "session_id", "product", "channel", "role", "turn", "created_at", "rating",
                  "text_raw", "source_hash")
REJECT_COLUMNS = ("source", "row", "doc_id", "reason", "detail", "excerpt")
KINDS = {"review": "review", "reviews": "review", "chat": "chat", "chats": "chat"}

_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_STARS = re.compile(r"^[★☆✩✭⭐\s]+$")
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def normalize_id(value: object) -> str | None:
    """IDs are text: trim, fold full-width digits/letters to ASCII, never go through numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).translate(_FULLWIDTH).strip().strip("\ufeff")
    return text or None


def _as_text(value: object) -> str | None:
    """A cell as text: str stays, None/NaN become None, anything else is str()-ed."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _normalize_id_list(values: list) -> list[str | None]:
    """`normalize_id` over a list; non-ASCII IDs alone pay for the full-width fold."""
    out: list[str | None] = []
    for v in values:
        if isinstance(v, str) and v.isascii():
            v = v.strip()
            out.append(v or None)
        else:
            out.append(normalize_id(v))
    return out


def _label(value: object) -> str | None:
    text = _as_text(value)
    if text is None:
        return None
    return text.strip() or None


def normalize_ids(values: pd.Series) -> pd.Series:
    """`normalize_id` for a column of strings/None."""
    return pd.Series(_normalize_id_list(values.tolist()), index=values.index, dtype=object)


def parse_ratings(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'5', '4.5', '5星', '4分', '★★★★☆' -> float; returns (ratings, bad)."""
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    out = pd.to_numeric(text.where(~empty), errors="coerce")
    todo = out.isna() & ~empty
    if todo.any():
        rest = text[todo]
        stars = rest.str.match(_STARS.pattern)
        out.loc[rest[stars].index] = rest[stars].str.count("[★⭐✭]").astype(float)
        num = rest[~stars].str.extract(_NUMBER.pattern, expand=False)
        out.loc[num.index] = pd.to_numeric(num, errors="coerce")
    bad = out.isna() & ~empty
    return out.astype(float), bad


def source_hashes(texts: pd.Series | list) -> list[str]:
    """A short hash of the raw text: same ID with the same hash is a duplicate, not a conflict."""
    return [hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest()[:16] if isinstance(t, str)
            else "" for t in texts]


def hashed_ids(kind: str, customers: pd.Series, times: pd.Series, texts: pd.Series) -> list[str]:
    """Stable IDs for sources without an ID column: re-loading a file must not duplicate rows."""
    out = []
    for c, t, x in zip(customers, times, texts, strict=True):
        stamp = "" if pd.isna(t) else pd.Timestamp(t).isoformat()
        key = f"{kind}\x1f{c or ''}\x1f{stamp}\x1f{x or ''}"
        out.append("h" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:20])
    return out


@dataclass
class Prepared:
    """One batch's usable records and its rejects."""

    records: pd.DataFrame
    rejects: pd.DataFrame


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object)
                         for c in REJECT_COLUMNS})


def make_rejects(source: str, rows: pd.Series | list, doc_ids: pd.Series | list, reason: str,
                 detail: str | pd.Series, excerpts: pd.Series | list | None = None) -> pd.DataFrame:
    """Rejects with a stable reason code; excerpts are PII-masked before they are kept."""
    from textmine.mask import mask_texts

    n = len(rows)
    if excerpts is None:
        excerpts = [None] * n
    excerpt = pd.Series(list(excerpts), dtype=object).map(
        lambda x: x[:120] if isinstance(x, str) else None)
    masked = mask_texts(excerpt.fillna("")).where(excerpt.notna(), None)
    return pd.DataFrame({
        "source": [source] * n,
        "row": pd.array(list(rows), dtype="Int64"),
        "doc_id": list(doc_ids),
        "reason": [reason] * n,
        "detail": list(detail) if isinstance(detail, pd.Series) else [detail] * n,
        "excerpt": masked.tolist(),
    })


@dataclass
class Preparer:
    """How to turn one file's raw batches into records; picklable, so workers can run it."""

    columns: ColumnMap
    kind: str
    source: str
    max_chars: int = 20000
    timezone: str = "Asia/Shanghai"
    role_of: dict[str, str] = field(default_factory=dict)

    def unreadable(self, bad: list[UnreadableRow]) -> pd.DataFrame:
        if not bad:
            return empty_rejects()
        return make_rejects(self.source, [b.row for b in bad], [None] * len(bad),
                            "unreadable_row", pd.Series([b.detail for b in bad]))

    def prepare(self, raw: pd.DataFrame) -> Prepared:
        """Canonical records for the usable rows of `raw`; everything else becomes a reject.

        Columns are built as plain lists/arrays and framed once: per-column pandas string
        operations cost more than the work itself at this batch size.
        """
        cols = self.columns
        n = len(raw)
        none = pd.Series([None] * n, index=raw.index, dtype=object)

        def column(field_name: str) -> pd.Series:
            name = cols[field_name]
            return raw[name] if name is not None and name in raw else none

        data: dict[str, object] = {
            "kind": [self.kind] * n,
            "source": [self.source] * n,
            "seq": raw[SEQ].to_numpy(dtype=np.int64),
            "source_row": raw[ROW].to_numpy(dtype=np.int64),
        }
        absent = [None] * n
        for name in ID_FIELDS:
            data[name] = _normalize_id_list(column(name).tolist()) if cols[name] else absent
        for name in LABEL_FIELDS:
            data[name] = [_label(v) for v in column(name).tolist()] if cols[name] else absent
        text = column("text")
        texts = [_as_text(t) for t in text.tolist()]
        created, bad_time = (parse_times(column("created_at"), self.timezone)
                             if cols["created_at"] is not None else
                             (pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us]"), None))
        rating, bad_rating = (parse_ratings(column("rating")) if cols["rating"] is not None
                              else (pd.Series(np.nan, index=raw.index), None))
        role, bad_role = self._roles(column("role"))
        data["created_at"] = created.to_numpy()
        data["rating"] = rating.to_numpy(dtype=float)
        data["role"] = role.tolist()
        data["turn"] = self._turn_numbers(n, column("turn"))
        pending = np.zeros(n, dtype=bool)
        if cols["doc_id"] is None:
            ids = hashed_ids(self.kind, data["customer_id"], created, text)
            if self.kind == "chat" and cols["session_id"] is not None:
                # "<session>:<turn>" once turns are numbered across the whole input
                # (`ledger.RunLedger.admit`).
                pending = np.array([s is not None for s in data["session_id"]], dtype=bool)
                ids = [None if p else i for i, p in zip(pending, ids, strict=True)]
        else:
            ids = _normalize_id_list(column("doc_id").tolist())
        data["doc_id"] = ids
        data["text_raw"] = text.to_numpy(dtype=object)
        data["source_hash"] = source_hashes(texts)
        out = pd.DataFrame(data, index=raw.index)

        empty = np.array([t is None or not t.strip() for t in texts], dtype=bool)
        too_long = np.array([t is not None and len(t) > self.max_chars for t in texts],
                            dtype=bool) & ~empty
        no_id = np.array([i is None for i in ids], dtype=bool) & ~empty & ~pending
        never = np.zeros(n, dtype=bool)
        bad_time = never if bad_time is None else bad_time.to_numpy(dtype=bool)
        bad_rating = never if bad_rating is None else bad_rating.to_numpy(dtype=bool)
        bad_role = bad_role.to_numpy(dtype=bool)
        checks = [
            ("empty_text", empty, lambda r: REJECT_REASONS["empty_text"]),
            ("text_too_long", too_long,
             lambda r: f"text has {len(r):,} characters, over the limit of {self.max_chars:,} "
                       "(raise it with --max-chars)"),
            ("bad_time", bad_time & ~empty & ~too_long,
             lambda r: "time could not be parsed; use e.g. 2026-03-01 12:00:00"),
            ("bad_rating", bad_rating & ~empty & ~too_long & ~bad_time,
             lambda r: "rating is not a number of stars"),
            ("bad_role", bad_role & ~empty & ~too_long & ~bad_time & ~bad_rating,
             lambda r: "speaker role not recognised; add it to roles.txt in --lexicons"),
            ("empty_id", no_id & ~too_long & ~bad_time & ~bad_rating & ~bad_role,
             lambda r: "ID column is empty for this row"),
        ]
        reject_frames = []
        rejected = np.zeros(n, dtype=bool)
        for reason, mask, describe in checks:
            mask = mask & ~rejected
            if not mask.any():
                continue
            rows = out.loc[mask]
            details = pd.Series([describe(t if isinstance(t, str) else "") for t in rows["text_raw"]])
            if reason == "bad_time":
                details = pd.Series([f"time {v!r} could not be parsed; use e.g. 2026-03-01 12:00:00"
                                     for v in column("created_at")[mask]])
            elif reason == "bad_role":
                details = pd.Series([f"role {v!r} not recognised; add it to roles.txt (--lexicons)"
                                     for v in column("role")[mask]])
            reject_frames.append(make_rejects(self.source, rows["source_row"], rows["doc_id"],
                                              reason, details, rows["text_raw"]))
            rejected |= mask
        kept = out if not rejected.any() else out.loc[~rejected]
        records = kept[list(RECORD_COLUMNS)].reset_index(drop=True)
        rejects = (pd.concat(reject_frames, ignore_index=True) if reject_frames
                   else empty_rejects())
        return Prepared(records, rejects)

    def _roles(self, values: pd.Series) -> tuple[pd.Series, pd.Series]:
        if self.kind != "chat" or self.columns["role"] is None:
            return pd.Series([None] * len(values), index=values.index, dtype=object), \
                pd.Series(False, index=values.index)
        lowered = values.astype("string").str.strip().str.lower()
        roles = lowered.map(lambda v: self.role_of.get(v) if isinstance(v, str) else None)
        bad = roles.isna() & lowered.notna() & (lowered != "")
        return roles.astype(object), bad

    def _turn_numbers(self, n: int, given: pd.Series) -> pd.api.extensions.ExtensionArray:
        if self.kind != "chat" or self.columns["turn"] is None:
            # Without a turn column the file order is the conversation order; turns are numbered
            # per session over the whole input when the run is stored (`ledger.RunLedger`).
            return pd.array([None] * n, dtype="Int64")
        return pd.to_numeric(given, errors="coerce").astype("Int64").array
