"""How long the complaint report takes on a 1,000,000-document workspace, and how big it is.

The workspace is generated in DuckDB (tests/report_workspace.py: reviews with aspects, topics and
tokens, plus chat sessions of three turns each), so nothing but the report is being measured.
Prints the figures and the command line; never asserts.

    .venv/bin/python benchmarks/bench_report.py [--reviews 1000000] [--sessions 50000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from report_workspace import build  # noqa: E402

from textmine.report import build_report  # noqa: E402
from textmine.workspace import open_workspace  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=50_000)
    parser.add_argument("--out", default=None, help="Folder for the workspace and the report.")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_report_"))
    out.mkdir(parents=True, exist_ok=True)
    ws_path = out / "bench.duckdb"
    ws_path.unlink(missing_ok=True)

    t0 = time.perf_counter()
    build(ws_path, reviews=args.reviews, sessions=args.sessions)
    built = time.perf_counter() - t0
    with open_workspace(ws_path, read_only=True) as ws:
        n_docs = ws.count("documents")
        # Imports (scipy for the rising test, plotly, jinja2) are paid once per process; time
        # them apart from the report itself.
        t1 = time.perf_counter()
        import scipy.stats  # noqa: F401

        import textmine.report.render  # noqa: F401
        imports = time.perf_counter() - t1
        t2 = time.perf_counter()
        result = build_report(ws, out / "report.html", xlsx_path=out / "report.xlsx")
        seconds = time.perf_counter() - t2
    xlsx_mb = (out / "report.xlsx").stat().st_size / 1e6
    print(f"command: {' '.join(sys.argv)}")
    print(f"workspace: {n_docs:,} documents ({args.reviews:,} reviews, {args.sessions:,} sessions "
          f"x 3 turns), generated in {built:.1f} s")
    print(f"report (HTML + Excel): {seconds:.1f} s  (+ {imports:.1f} s one-time imports)")
    print(f"HTML: {result.html_bytes / 1e6:.2f} MB  Excel: {xlsx_mb:.2f} MB")
    print(f"period: {result.window.since} … {result.window.until}; "
          f"missing sections: {len(result.missing)}")
    print(f"files: {result.html}  {result.xlsx}")
    print(f"peak RSS {peak_rss_mb():,.0f} MB (workspace generation included)")


def peak_rss_mb() -> float:
    import resource

    return max(resource.getrusage(who).ru_maxrss for who in
               (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024


if __name__ == "__main__":
    main()
