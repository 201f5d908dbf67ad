"""Speed of `trends` on a 1,000,000-document workspace, and how often `--rising` is right.

Usage: python benchmarks/bench_trends.py [--docs 1000000] [--seeds 200] [--skip-speed]

Speed: a synthetic analysed workspace is generated in DuckDB SQL (52 weeks, 8 products, 4
channels, six complaint aspects, topic labels, six tokens per review; 物流 complaints tripled in
the last week), then each trend query is timed (best of 3 after one warm-up). False alarms and
power: `--seeds` flat workspaces and `--seeds` with one aspect tripled in the last week
(tests/trend_workspace.py, 200 reviews a week for 14 weeks), tested with one grouped call.
Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

ASPECTS = ["物流", "质量", "服务", "包装", "价格", "售后"]
RATES = [0.06, 0.08, 0.05, 0.03, 0.04, 0.04]
_CHARS = "春夏秋冬山水花鸟云雨风雪日月星辰江河湖海松竹梅兰琴棋书画诗酒茶"
VOCAB = [a + b for a in _CHARS for b in _CHARS if a != b][:600]


def _r(i: str, salt: str) -> str:
    # A reproducible pseudo-random number in [0, 1) from DuckDB's hash.
    return f"((hash({i}, {salt}) % 1000003) / 1000003.0)"


def build(path: Path, docs: int) -> None:
    """A synthetic analysed workspace with `docs` reviews, generated entirely in SQL."""
    from textmine.workspace import open_workspace

    names = "[" + ", ".join(f"'{a}'" for a in ASPECTS) + "]"
    rates = "[" + ", ".join(map(str, RATES)) + "]"
    vocab = "[" + ", ".join(f"'{w}'" for w in VOCAB) + "]"
    with open_workspace(path) as ws:
        ws.con.execute(f"""
            CREATE TEMP TABLE base AS
            SELECT i, TIMESTAMP '2025-11-17' + to_seconds(CAST(hash(i, 1) % (52 * 7 * 86400) AS BIGINT))
                       AS created_at
            FROM range({docs}) t(i)""").fetchall()
        ws.con.execute(f"""
            CREATE TEMP TABLE shaped AS
            SELECT i, created_at,
                   list_filter(range(6), lambda k: {_r('i', '10 + k')} < {rates}[k + 1]
                       * CASE WHEN k = 0 AND created_at >= TIMESTAMP '2026-11-09' THEN 3 ELSE 1 END)
                       AS neg,
                   list_transform(range(6), lambda k: {vocab}[CAST(1 + hash(i, 20 + k) % 600 AS BIGINT)]) AS tokens
            FROM base""").fetchall()
        ws.con.execute(f"""
            INSERT INTO documents BY NAME
            SELECT 'd' || i AS doc_id, 'review' AS kind,
                   lpad(CAST(hash(i, 2) % 200000 AS VARCHAR), 6, '0') AS customer_id,
                   'P' || (hash(i, 3) % 8) AS product,
                   ['天猫', '京东', '抖音', '小程序'][CAST(1 + hash(i, 4) % 4 AS BIGINT)] AS channel,
                   created_at, array_to_string(tokens, '') AS text, tokens,
                   list_transform(neg, lambda k: {{'aspect': {names}[k + 1], 'polarity': 'negative',
                                                   'score': 0.1, 'evidence': {names}[k + 1]}}) AS aspects,
                   len(neg) > 0 OR {_r('i', '5')} < 0.05 AS is_complaint,
                   CASE WHEN len(neg) > 0 THEN 0.2 ELSE 0.8 END AS sentiment,
                   CASE WHEN len(neg) > 0 THEN 'negative' ELSE 'positive' END AS polarity,
                   CASE WHEN len(neg) > 0 THEN 1.0 ELSE 5.0 END AS rating,
                   CASE WHEN len(neg) > 0 THEN neg[1] END AS topic_id,
                   CASE WHEN len(neg) > 0 THEN {names}[neg[1] + 1] || '问题' END AS topic_label
            FROM shaped""").fetchall()


def timed(label: str, func, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    func()  # warm-up: file cache, imports
    best = min(_once(func) for _ in range(repeat))
    print(f"  {label:<46} {best:6.2f} s")
    return best


def _once(func) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    func()
    return time.perf_counter() - t0


def speed(docs: int) -> None:
    from textmine.trends import aspect_trends, rising, topic_trends, trends
    from textmine.workspace import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.duckdb"
        t0 = time.perf_counter()
        build(path, docs)
        print(f"built {docs:,} documents in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.0f} MB)")
        t0 = time.perf_counter()
        import scipy.stats  # noqa: F401  (the one-off import --rising pays on first use)
        print(f"  {'import scipy.stats (once per process)':<46} {time.perf_counter() - t0:6.2f} s")
        with open_workspace(path, read_only=True) as ws:
            timed("trends --by week", lambda: trends(ws, "week"))
            timed("trends --by month --group channel", lambda: trends(ws, "month", group="channel"))
            timed("trends --by week --aspect 物流", lambda: trends(ws, "week", aspect="物流"))
            timed("aspect_trends (all aspects, weekly)", lambda: aspect_trends(ws, "week"))
            timed("topic_trends (all topics, weekly)", lambda: topic_trends(ws, "week"))
            timed("trends --rising --no-words", lambda: rising(ws, words=False))
            timed("trends --rising (with new words)", lambda: rising(ws))
            found = rising(ws)
        head = found.head(3)[["kind", "name", "count", "n", "baseline_share", "share", "q_value"]]
        print(head.to_string(index=False))


def accuracy(seeds: int) -> None:
    import pyarrow as pa
    from trend_workspace import documents

    from textmine.trends import rising
    from textmine.workspace import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seeds.duckdb"
        flat = [documents(20_000 + s, per_week=200, product=f"flat{s:04d}") for s in range(seeds)]
        surge = [documents(40_000 + s, per_week=200, surge="物流", product=f"surge{s:04d}")
                 for s in range(seeds)]
        with open_workspace(path) as ws:
            ws.insert("documents", pa.concat_tables(flat + surge))
        found = rising(path, group="product", examples=0)
    flat_hits = found[found["product"].str.startswith("flat")]
    alarms = flat_hits["product"].nunique()
    first = found[found["product"].str.startswith("surge")].groupby("product").head(1)
    caught = int(((first["kind"] == "aspect") & (first["name"] == "物流")).sum())
    extra = found[found["product"].str.startswith("surge")]
    extra = int(len(extra) - caught)
    print(f"flat data: {alarms} of {seeds} seeds had any report (false-alarm rate "
          f"{alarms / seeds:.1%}); by kind: {flat_hits['kind'].value_counts().to_dict()}")
    print(f"物流 tripled in the last week: reported first in {caught} of {seeds} seeds "
          f"({caught / seeds:.1%}); other reports in those seeds: {extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    print("command: python benchmarks/bench_trends.py " + " ".join(sys.argv[1:]))
    if not args.skip_speed:
        speed(args.docs)
    if args.seeds:
        accuracy(args.seeds)
    import resource

    peak = max(resource.getrusage(who).ru_maxrss for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    print(f"peak RSS {peak:,.0f} MB (workspace generation included)")


if __name__ == "__main__":
    main()
