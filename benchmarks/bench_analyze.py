"""Throughput and peak memory of `textmine analyze`, per stage and end to end.

Usage: python benchmarks/bench_analyze.py [--rows 200000] [--naive-sample 300] [--models default,snownlp]

Reviews come from ../shared/data/online_shopping_10_cats (repeated to --rows, each copy with its
own ID, customer and time) when present, else from a synthetic generator. The naive script a
user would otherwise write (jieba.lcut + SnowNLP(text).sentiments per row) runs on a sample in
the same process, and the ratio is printed. Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from proctree import ProcessTree

REPO = Path(__file__).resolve().parents[1]
SHOPPING = REPO.parent / "shared" / "data" / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
HOTEL = REPO.parent / "shared" / "data" / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"


def source_texts() -> tuple[list[str], str]:
    texts: list[str] = []
    for path, col in ((SHOPPING, "review"), (HOTEL, "review")):
        if path.exists():
            with open(path, encoding="utf-8") as fh:
                texts += [r[col] for r in csv.DictReader(fh) if r[col]]
    if texts:
        return texts, "online_shopping_10_cats + chnsenticorp_htl_all"
    rng = random.Random(7)
    parts = ["物流很快", "质量太差了", "客服态度很好", "包装破损", "性价比高", "不推荐购买",
             "颜色和图片不一样", "用了一周就坏了", "味道不错", "尺码偏小", "发货太慢了", "很满意"]
    texts = ["，".join(rng.sample(parts, rng.randint(2, 6))) + "！" for _ in range(50000)]
    return texts, "synthetic"


def write_input(texts: list[str], rows: int, path: Path) -> float:
    rng = random.Random(42)
    start = pd.Timestamp("2026-01-01")
    ids = [f"R{i:08d}" for i in range(rows)]
    frame = pd.DataFrame({
        "评论ID": ids,
        "用户ID": [f"{rng.randint(0, 99999):06d}" for _ in range(rows)],
        "评分": [str(rng.randint(1, 5)) for _ in range(rows)],
        "评论时间": [(start + pd.Timedelta(seconds=rng.randint(0, 300 * 86400))).strftime(
            "%Y-%m-%d %H:%M:%S") for _ in range(rows)],
        "评论内容": [texts[i % len(texts)] for i in range(rows)],
    })
    frame.to_csv(path, index=False)
    return frame["评论内容"].str.len().mean()


def stage_rates(texts: list[str], n: int = 20000) -> dict[str, float]:
    """Single-core docs/s of each stage, in pipeline order, on `n` texts."""
    from textmine.config import Config
    from textmine.pipeline import _ensure_stage_modules, default_stages, resources_for

    _ensure_stage_modules()
    resources = resources_for(Config())
    _ = resources.segmenter, resources.sentiment_model
    batch = pd.DataFrame({"text_raw": texts[:n]})
    rates = {}
    for stage in default_stages("review"):
        t0 = time.perf_counter()
        batch = stage(batch, resources)
        rates[stage.name] = n / (time.perf_counter() - t0)
    return rates


def naive_rate(texts: list[str], sample: int) -> float:
    import jieba
    from snownlp import SnowNLP

    jieba.setLogLevel(60)
    jieba.initialize()
    chosen = texts[:sample]
    t0 = time.perf_counter()
    for text in chosen:
        jieba.lcut(text)
        _ = SnowNLP(text).sentiments
    return sample / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--models", default="default,snownlp",
                        help="sentiment models to run end to end, comma-separated")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))

    from textmine.analyze import analyze
    from textmine.config import Config

    texts, origin = source_texts()
    overall = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "reviews.csv"
        mean_len = write_input(texts, args.rows, data)
        print(f"input: {args.rows:,} reviews from {origin}, mean {mean_len:.1f} chars; "
              f"load average before: {os.getloadavg()[0]:.2f}")
        # The default pipeline, then the foundation pipeline (baseline sentiment).
        for model in args.models.split(","):
            config = Config(workspace=str(Path(tmp) / f"bench-{model}.duckdb"),
                            workers=args.workers, batch_size=args.batch_size,
                            sentiment_model=model)
            with ProcessTree() as tree:
                t0 = time.perf_counter()
                result = analyze([data], config=config)
                elapsed = time.perf_counter() - t0
            rate = args.rows / elapsed
            overall = overall or rate
            print(f"end to end (load → clean/mask → segment → sentiment [{model}] → aspects → "
                  f"store), {args.workers} workers: {elapsed:.1f}s, {rate:,.0f} docs/s")
            print(f"  {result.summary_line()}")
            print(f"  peak RSS: main {tree.own_peak_rss_mb():,.0f} MB, largest worker "
                  f"{tree.peak_rss_mb():,.0f} MB")

    print("per stage, single core, 20,000 docs:")
    for name, rate in stage_rates(texts).items():
        print(f"  {name:<10} {rate:>10,.0f} docs/s")
    if args.naive_sample <= 0:
        return  # the naive script was not asked for: nothing to compare with
    naive = naive_rate(texts, args.naive_sample)
    print(f"naive script (jieba.lcut + SnowNLP(text).sentiments per row, {args.naive_sample} docs): "
          f"{naive:,.0f} docs/s")
    print(f"speed-up of textmine analyze over the naive script: {overall / naive:,.0f}x")


if __name__ == "__main__":
    main()
