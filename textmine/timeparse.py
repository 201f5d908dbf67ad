"""Parse the time formats Chinese exports use into timestamps, vectorised."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_CN_DATE = re.compile(
    r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(?:\s*[T ]?\s*(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*(?:[:：分]\s*(\d{1,2}(?:\.\d+)?)?\s*秒?)?)?\s*$"
)
_EPOCH = re.compile(r"^\s*\d{10}(\d{3})?(\.\d+)?\s*$")


def _normalise(value: str) -> str | None:
    """'2026年3月1日 12:00' / '2026/3/1' -> '2026-03-01 12:00:00'; None when not a date."""
    m = _CN_DATE.match(value)
    if not m:
        return None
    y, mo, d, h, mi, s = m.groups()
    return f"{y}-{int(mo):02d}-{int(d):02d} {int(h or 0):02d}:{int(mi or 0):02d}:{s or '00'}"


def parse_times(values: pd.Series, timezone: str = "Asia/Shanghai") -> tuple[pd.Series, pd.Series]:
    """Return (timestamps, bad) for a Series of strings.

    Empty values become NaT and are not bad (the time is unknown, not wrong); values that are
    present but unparseable are flagged `bad` so the caller can reject the row. Epoch seconds
    and milliseconds are converted to local time in `timezone` and stored naive.
    """
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    out = pd.to_datetime(text.where(~empty), format="ISO8601", errors="coerce")
    if out.dt.tz is not None:
        out = out.dt.tz_convert(timezone).dt.tz_localize(None)
    todo = out.isna() & ~empty
    if todo.any():
        rest = text[todo]
        epoch = rest.str.match(_EPOCH.pattern)
        if epoch.any():
            nums = rest[epoch].astype(float)
            unit_ms = nums > 1e11
            secs = np.where(unit_ms, nums / 1000.0, nums)
            stamps = pd.to_datetime(secs, unit="s", utc=True).tz_convert(timezone).tz_localize(None)
            out.loc[rest[epoch].index] = stamps
        others = rest[~epoch]
        if len(others):
            normalised = others.map(lambda v: _normalise(v) if isinstance(v, str) else None)
            parsed = pd.to_datetime(normalised, format="%Y-%m-%d %H:%M:%S", errors="coerce")
            # dateutil's "mixed" guesses too eagerly ("12" becomes the 12th of this month), so
            # only values that carry a four-digit year get that last chance.
            still = parsed.isna() & others.str.contains(r"\d{4}", regex=True).fillna(False)
            if still.any():
                parsed[still] = pd.to_datetime(others[still], format="mixed", errors="coerce")
            out.loc[others.index] = parsed
    out = pd.to_datetime(out).astype("datetime64[us]")
    bad = out.isna() & ~empty
    return out, bad
