"""Throughput and memory of `analyze --engine spark` beside the local engine, on one input.

Usage: python benchmarks/bench_spark.py [--rows 200000] [--master local[2]] [--skip-local]

The input is bench_analyze's: reviews from ../shared/data (repeated to --rows, each copy with
its own ID, customer and time) when present, else synthetic. The local engine runs first
(2 workers), then Spark: the JVM start-up is timed and printed on its own and excluded from
the Spark rate. Peak resident memory is sampled every 0.2 s for the JVM and each Python worker
(the figures docs/scale.md's capacity plan is built on). Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import source_texts, write_input  # noqa: E402
from proctree import ProcessTree  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--skip-local", action="store_true", help="Only the Spark engine.")
    args = parser.parse_args()
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores (other work on the machine slows both engines)")

    from textmine.analyze import analyze
    from textmine.config import Config
    from textmine.spark import analyze_spark
    from textmine.spark.session import start_session

    texts, origin = source_texts()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "reviews.csv"
        mean_len = write_input(texts, args.rows, data)
        print(f"input: {args.rows:,} reviews from {origin}, mean {mean_len:.1f} chars, "
              f"{data.stat().st_size / 2**20:.1f} MB CSV")
        if not args.skip_local:
            # The local engine's workers fork from a fork server that outlives the run: their
            # CPU is sampled like Spark's Python workers (RUSAGE_CHILDREN would miss it).
            with ProcessTree() as local_usage:
                t0 = time.perf_counter()
                local = analyze([data], config=Config(workspace=str(Path(tmp) / "bench.duckdb")))
                elapsed = time.perf_counter() - t0
            cpu = local_usage.own + local_usage.cpu_seconds("python")
            print(f"local engine, 2 workers: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s; "
                  f"{cpu:.0f} CPU s = {args.rows / cpu:,.0f} docs per CPU second "
                  f"({local.summary_line()})")

        t0 = time.perf_counter()
        spark, _ = start_session(args.master, Path(tmp) / "spark.log")
        startup = time.perf_counter() - t0
        print(f"spark start-up (JVM + session, excluded below): {startup:.1f}s")
        with ProcessTree() as usage:
            t0 = time.perf_counter()
            result = analyze_spark([str(data)], config=Config(), master=args.master,
                                   output=str(Path(tmp) / "out"))
            elapsed = time.perf_counter() - t0
        driver = usage.own
        cores = spark.sparkContext.defaultParallelism
        jvm, workers = usage.cpu_seconds("jvm"), usage.cpu_seconds("python")
        cpu = driver + jvm + workers
        print(f"spark engine, {args.master}: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s "
              f"({args.rows / elapsed / cores:,.0f} docs/s per core; {result.summary_line()})")
        print(f"  CPU: Python workers {workers:.0f} s, JVM {jvm:.0f} s, driver {driver:.0f} s "
              f"= {args.rows / cpu:,.0f} docs per CPU second "
              f"(workers alone: {args.rows / workers:,.0f})")
        print(f"  peak RSS: JVM (driver + executor) {usage.peak_rss_mb('jvm'):,.0f} MB, largest Python "
              f"worker {usage.peak_rss_mb('python'):,.0f} MB")
        stored = sum(p.stat().st_size for p in (Path(tmp) / "out" / "documents").rglob("*.parquet"))
        print(f"  documents/ Parquet: {stored / 2**20:,.1f} MB, {stored / result.stored:,.0f} bytes "
              "per stored document")
        spark.stop()
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
