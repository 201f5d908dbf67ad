"""Synthetic review documents for trend tests: flat weekly complaint rates, optionally one aspect
surging in the last week and a new word pair appearing in the last two weeks.

Each seed gives different but reproducible data, built as an Arrow table (vectorised, so fifty
seeds take a second) that goes straight into a workspace's `documents` table. One product per
seed lets many seeds share one workspace and one grouped query.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

START = np.datetime64("2026-08-10T00:00:00", "s")  # a Monday
# Weekly chance that a review complains about each aspect (the baseline the surge is tested on).
RATES = {"物流": 0.06, "质量": 0.08, "服务": 0.05, "包装": 0.03, "价格": 0.04, "售后": 0.04}
# Two-character words with Zipf-like frequencies: plenty of chances for a spurious "new word"
# if the test were not corrected for many comparisons.
_CHARS = "春夏秋冬山水花鸟云雨风雪日月星辰江河湖海松竹梅兰琴棋书画诗酒茶"
VOCAB = np.array([a + b for a in _CHARS for b in _CHARS if a != b][:600], dtype=object)
ASPECT_TYPE = pa.struct([("aspect", pa.string()), ("polarity", pa.string()),
                         ("score", pa.float64()), ("evidence", pa.string())])


def _ragged(values: np.ndarray, keep: np.ndarray, arrow_values: pa.Array | None = None) -> pa.Array:
    """Rows of a (n, k) matrix, keeping the cells where `keep` is true, as an Arrow list array."""
    offsets = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int32)
    flat = arrow_values if arrow_values is not None else pa.array(values[keep])
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def documents(seed: int, *, weeks: int = 14, per_week: int = 300, surge: str | None = None,
              factor: float = 3.0, new_word: tuple[str, str] | None = None,
              product: str | None = None) -> pa.Table:
    """Reviews over `weeks` weeks; `surge` multiplies one aspect's complaint rate in the last
    week by `factor`; `new_word` puts a word pair into 8 % of complaints of the last two weeks."""
    rng = np.random.default_rng(seed)
    week = np.repeat(np.arange(weeks), rng.poisson(per_week, size=weeks))
    n = len(week)
    created = (START + week * np.timedelta64(7, "D")
               + rng.integers(0, 7 * 86400, size=n) * np.timedelta64(1, "s"))
    last = week == weeks - 1
    names = list(RATES)
    rates = np.array([RATES[a] for a in names])
    boost = np.where(np.array(names) == surge, factor, 1.0)
    chance = np.where(last[:, None], rates * boost, rates)
    negative = rng.random((n, len(names))) < chance
    praised = rng.random(n) < 0.15
    complaint = negative.any(axis=1) | (rng.random(n) < 0.05)

    probs = 1.0 / np.arange(1, len(VOCAB) + 1)
    words = VOCAB[rng.choice(len(VOCAB), size=(n, 6), p=probs / probs.sum())]
    pair = np.full((n, 2), None, dtype=object)
    if new_word:
        gets = (week >= weeks - 2) & complaint & (rng.random(n) < 0.08)
        pair[gets] = new_word
    grid = np.concatenate([words[:, :3], pair, words[:, 3:]], axis=1)
    tokens = _ragged(grid, grid != None)  # noqa: E711 (element-wise test on an object array)

    cells = np.concatenate([negative, praised[:, None]], axis=1)
    aspect = np.array([*names, "质量"], dtype=object)
    polarity = np.array(["negative"] * len(names) + ["positive"], dtype=object)
    rows, cols = np.nonzero(cells)
    structs = pa.StructArray.from_arrays(
        [pa.array(aspect[cols]), pa.array(polarity[cols]),
         pa.array(np.where(cols < len(names), 0.1, 0.9)),
         pa.array([f"{a}不行" if p == "negative" else f"{a}好"
                   for a, p in zip(aspect[cols], polarity[cols], strict=True)])],
        fields=list(ASPECT_TYPE))
    aspects = _ragged(cells, cells, structs)

    tag = product or f"seed{seed}"
    rating = np.where(complaint, rng.integers(1, 3, size=n), rng.integers(4, 6, size=n))
    return pa.table({
        "doc_id": pa.array([f"{tag}-{i:06d}" for i in range(n)]),
        "kind": pa.array(["review"] * n),
        "customer_id": pa.array([f"{c:06d}" for c in rng.integers(0, 5000, size=n)]),
        "product": pa.array([tag] * n),
        "channel": pa.array(rng.choice(["天猫", "京东", "抖音"], size=n)),
        "created_at": pa.array(created.astype("datetime64[us]")),
        "rating": pa.array(rating.astype(float)),
        "text": pc.binary_join(tokens, ""),
        "tokens": tokens,
        "sentiment": pa.array(np.where(complaint, rng.uniform(0.0, 0.35, size=n),
                                       rng.uniform(0.65, 1.0, size=n))),
        "polarity": pa.array(np.where(complaint, "negative", "positive")),
        "aspects": aspects,
        "is_complaint": pa.array(complaint),
    })
