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
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import source_texts, write_input  # noqa: E402


class PeakMemory:
    """Peak RSS (MB) of the JVM and of the largest Python worker below this process."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.jvm = self.worker = 0.0
        self.workers: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            try:
                children = self.me.children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                try:
                    rss = child.memory_info().rss / 2**20
                    name = child.name()
                except psutil.Error:
                    continue
                if name.startswith("java"):
                    self.jvm = max(self.jvm, rss)
                elif name.startswith("python"):
                    self.workers.add(child.pid)
                    self.worker = max(self.worker, rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


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
            t0 = time.perf_counter()
            local = analyze([data], config=Config(workspace=str(Path(tmp) / "bench.duckdb")))
            elapsed = time.perf_counter() - t0
            print(f"local engine, 2 workers: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s "
                  f"({local.summary_line()})")

        t0 = time.perf_counter()
        spark, _ = start_session(args.master, Path(tmp) / "spark.log")
        startup = time.perf_counter() - t0
        print(f"spark start-up (JVM + session, excluded below): {startup:.1f}s")
        with PeakMemory() as memory:
            t0 = time.perf_counter()
            result = analyze_spark([str(data)], config=Config(), master=args.master,
                                   output=str(Path(tmp) / "out"))
            elapsed = time.perf_counter() - t0
        cores = spark.sparkContext.defaultParallelism
        print(f"spark engine, {args.master}: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s "
              f"({args.rows / elapsed / cores:,.0f} docs/s per core; {result.summary_line()})")
        print(f"  peak RSS: JVM (driver + executor) {memory.jvm:,.0f} MB, largest Python worker "
              f"{memory.worker:,.0f} MB ({len(memory.workers)} Python processes seen)")
        spark.stop()
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
