"""Readers for the labeled sets in ../shared/data, prepared the way the pipeline sees text.

Each reader returns a DataFrame with `text` (cleaned, masked), `tokens`, `_words`, `label`
(1 positive, 0 negative) and `group` (product category or set name); `None` when the file is
absent. `prepare` caches the segmented frames under the system temp folder, keyed by file size
and lexicon digest, so repeated benchmark runs skip segmentation.
"""

from __future__ import annotations

import csv
import hashlib
import pickle
import tempfile
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SETS = {
    "shopping": DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv",
    "hotel": DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv",
    "conversation_test": DATA / "conversation_sentiment" / "sentiment_XS_test.txt",
    "conversation_30k": DATA / "conversation_sentiment" / "sentiment_XS_30k.txt",
}
ABSA = {"train": DATA / "shampoo_absa" / "hair.train.txt",
        "test": DATA / "shampoo_absa" / "hair.test.txt"}


def _raw(name: str, path: Path) -> pd.DataFrame:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if name == "shopping":
        return pd.DataFrame({"text_raw": [r["review"] for r in rows],
                             "label": [int(r["label"]) for r in rows],
                             "group": [r["cat"] for r in rows]})
    if name == "hotel":
        return pd.DataFrame({"text_raw": [r["review"] for r in rows],
                             "label": [int(r["label"]) for r in rows], "group": "hotel"})
    # conversation_sentiment is pre-segmented (tokens joined by spaces): re-join for our segmenter.
    return pd.DataFrame({"text_raw": [r["text"].replace(" ", "") for r in rows],
                         "label": [int(r["labels"] == "positive") for r in rows], "group": name})


def prepare(name: str) -> pd.DataFrame | None:
    """The named set, cleaned and segmented (non-empty texts only), or None when absent."""
    from textmine.config import Config
    from textmine.pipeline import STAGES, resources_for

    path = SETS[name]
    if not path.exists():
        return None
    resources = resources_for(Config())
    digest = hashlib.sha256(f"{path}:{path.stat().st_size}:{resources.lexicons.digest}"
                            .encode()).hexdigest()[:12]
    cache = Path(tempfile.gettempdir()) / f"textmine_bench_{name}_{digest}.pkl"
    if cache.exists():
        return pd.read_pickle(cache)
    raw = _raw(name, path)
    raw = raw[raw["text_raw"].str.strip() != ""].reset_index(drop=True)
    frame = STAGES["segment"](STAGES["clean"](raw, resources), resources)
    frame = frame[frame["tokens"].map(len) > 0].reset_index(drop=True)
    frame.to_pickle(cache, protocol=pickle.HIGHEST_PROTOCOL)
    return frame


def read_absa(path: Path) -> pd.DataFrame:
    """shampoo_absa records: review `text` (target restored), `target`, `polarity` (lower case)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    rows = []
    for i in range(0, len(lines) - 2, 3):
        masked, target, label = lines[i], lines[i + 1].strip(), lines[i + 2].strip()
        if "$T$" not in masked:
            continue
        rows.append({"text": masked.replace("$T$", target), "target": target,
                     "start": masked.index("$T$"), "polarity": label.lower()})
    return pd.DataFrame(rows)
