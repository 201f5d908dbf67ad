"""Measure clean_texts and mask_texts in docs/s on the shopping reviews, and count the PII found.

    .venv/bin/python benchmarks/bench_clean_mask.py [--show]

Reads ../shared/data/online_shopping_10_cats/online_shopping_10_cats.csv (column `review`)
relative to the repository root when it is there, else 60,000 synthetic reviews. Each function
runs over the whole set until at least 200,000 documents have gone through. `--show` prints
every piece of PII found with its context, to look for false positives.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from textmine.clean import clean_texts
from textmine.mask import find_pii, mask_texts

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared/data/online_shopping_10_cats/online_shopping_10_cats.csv"
MIN_DOCS = 200_000


def synthetic_reviews(n: int, seed: int = 0) -> pd.Series:
    rng = random.Random(seed)
    words = ["质量", "很好", "物流", "太慢了", "客服", "態度", "不錯", "性价比高", "包装", "破损",
             "！！！", "。。。", "，", "～～", "&amp;", "<br>", "\u3000", "ＯＫ", "👍", "😡", "299元"]
    extras = ["电话13812345678", "订单号：4512345678901234567", "邮箱kefu@example.com", "http://t.cn/abc"]
    texts = []
    for _ in range(n):
        text = "".join(rng.choices(words, k=rng.randint(5, 25)))
        if rng.random() < 0.05:
            text += rng.choice(extras)
        texts.append(text)
    return pd.Series(texts, name="review")


def load_reviews() -> tuple[pd.Series, str]:
    if DATASET.exists():
        reviews = pd.read_csv(DATASET, usecols=["review"])["review"].dropna().astype(str)
        return reviews.reset_index(drop=True), str(DATASET.relative_to(REPO.parent))
    return synthetic_reviews(60_000), "synthetic (dataset not found)"


def docs_per_second(fn, texts: pd.Series) -> tuple[float, float, pd.Series]:
    """Return docs/s by the wall clock and per CPU second of this process, and the output."""
    rounds = -(-MIN_DOCS // len(texts))
    fn(texts.head(100))  # first use loads OpenCC's dictionaries; not what we measure
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        out = fn(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return rounds * len(texts) / wall, rounds * len(texts) / cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each piece of PII found, in context")
    args = parser.parse_args()

    reviews, source = load_reviews()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"data: {source}: {len(reviews):,} texts, mean {reviews.str.len().mean():.0f} chars")

    # On a busy machine the wall clock counts other processes' time too; CPU time does not.
    clean_wall, clean_cpu, cleaned = docs_per_second(clean_texts, reviews)
    mask_wall, mask_cpu, _ = docs_per_second(mask_texts, cleaned)
    print(f"clean_texts: {clean_wall:,.0f} docs/s wall clock, {clean_cpu:,.0f} docs per CPU second")
    print(f"mask_texts:  {mask_wall:,.0f} docs/s wall clock, {mask_cpu:,.0f} docs per CPU second (on cleaned text)")
    # ru_maxrss is in KiB on Linux.
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")

    per_kind: Counter[str] = Counter()
    for text in cleaned:
        found = find_pii(text)
        per_kind.update({kind for kind, _, _ in found})
        if args.show:
            for kind, start, end in found:
                print(f"  {kind:9} {text[max(0, start - 12) : start]}[{text[start:end]}]{text[end : end + 8]}")
    print("texts with PII, by kind:", dict(per_kind) or "none")


if __name__ == "__main__":
    main()
