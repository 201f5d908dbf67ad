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
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_analyze import source_texts, write_input  # noqa: E402


class Usage:
    """Peak RSS (MB) and CPU seconds of the JVM and the Python workers below this process.

    CPU seconds are what the capacity plan rests on: unlike wall time they hardly change when
    other work shares the machine.
    """

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.jvm_rss = self.worker_rss = 0.0
        self.cpu: dict[int, tuple[str, float, float]] = {}  # pid -> (kind, first, last) seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while True:
            try:
                children = self.me.children(recursive=True)
            except psutil.Error:
                children = []
            for child in children:
                try:
                    with child.oneshot():
                        rss = child.memory_info().rss / 2**20
                        times = child.cpu_times()
                        name = child.name()
                except psutil.Error:
                    continue
                kind = "jvm" if name.startswith("java") else "python"
                if kind == "jvm":
                    self.jvm_rss = max(self.jvm_rss, rss)
                else:
                    self.worker_rss = max(self.worker_rss, rss)
                used = times.user + times.system
                # Python workers start during the run (count all their CPU); the JVM before it.
                start = used if kind == "jvm" else 0.0
                first = self.cpu.get(child.pid, (kind, start, used))[1]
                self.cpu[child.pid] = (kind, first, used)
            if self._stop.wait(0.2):
                return

    def cpu_seconds(self, kind: str) -> float:
        return sum(last - first for k, first, last in self.cpu.values() if k == kind)

    def __enter__(self) -> Usage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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
            with Usage() as local_usage:
                t0, own0 = time.perf_counter(), own_cpu()
                local = analyze([data], config=Config(workspace=str(Path(tmp) / "bench.duckdb")))
                elapsed = time.perf_counter() - t0
                cpu = own_cpu() - own0 + local_usage.cpu_seconds("python")
            print(f"local engine, 2 workers: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s; "
                  f"{cpu:.0f} CPU s = {args.rows / cpu:,.0f} docs per CPU second "
                  f"({local.summary_line()})")

        t0 = time.perf_counter()
        spark, _ = start_session(args.master, Path(tmp) / "spark.log")
        startup = time.perf_counter() - t0
        print(f"spark start-up (JVM + session, excluded below): {startup:.1f}s")
        with Usage() as usage:
            t0, own0 = time.perf_counter(), own_cpu()
            result = analyze_spark([str(data)], config=Config(), master=args.master,
                                   output=str(Path(tmp) / "out"))
            elapsed = time.perf_counter() - t0
            driver = own_cpu() - own0
        cores = spark.sparkContext.defaultParallelism
        jvm, workers = usage.cpu_seconds("jvm"), usage.cpu_seconds("python")
        cpu = driver + jvm + workers
        print(f"spark engine, {args.master}: {elapsed:.1f}s, {args.rows / elapsed:,.0f} docs/s "
              f"({args.rows / elapsed / cores:,.0f} docs/s per core; {result.summary_line()})")
        print(f"  CPU: Python workers {workers:.0f} s, JVM {jvm:.0f} s, driver {driver:.0f} s "
              f"= {args.rows / cpu:,.0f} docs per CPU second "
              f"(workers alone: {args.rows / workers:,.0f})")
        print(f"  peak RSS: JVM (driver + executor) {usage.jvm_rss:,.0f} MB, largest Python "
              f"worker {usage.worker_rss:,.0f} MB")
        stored = sum(p.stat().st_size for p in (Path(tmp) / "out" / "documents").rglob("*.parquet"))
        print(f"  documents/ Parquet: {stored / 2**20:,.1f} MB, {stored / result.stored:,.0f} bytes "
              "per stored document")
        spark.stop()
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
