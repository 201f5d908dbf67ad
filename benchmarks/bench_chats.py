"""Chat throughput of `textmine analyze --kind chats`, end to end (load → stages → sessions).

Usage: python benchmarks/bench_chats.py [--turns 100000] [--workers 2] [--layout json|csv|both]

Dialogues come from ../shared/data/stc3_helpdesk_unlabeled (390 real Weibo helpdesk dialogues),
repeated with new session IDs until --turns is reached; without the data set, a synthetic
generator writes short customer/agent exchanges. `json` keeps the nested layout (reshaped by
textmine.chats), `csv` writes the same turns as a long file (会话ID, 角色, 内容, 时间).
The figure includes reading, cleaning, masking, segmenting, sentiment, the speaker stage,
storing and the sessions table. Benchmarks print; they never assert.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from proctree import ProcessTree

REPO = Path(__file__).resolve().parents[1]
STC3 = REPO.parent / "shared" / "data" / "stc3_helpdesk_unlabeled" / "test_data_cn.json"


def source_dialogues() -> tuple[list[dict], str]:
    if STC3.exists():
        return json.loads(STC3.read_text(encoding="utf-8")), "stc3_helpdesk_unlabeled"
    rng = random.Random(7)
    asks = ["快递怎么还没到", "耳机右耳没声音", "还是不行，我要投诉", "尺码偏小能换吗", "好的谢谢"]
    answers = ["亲，帮您查一下", "非常抱歉，马上为您处理", "可以的亲，申请换货就行"]
    dialogues = []
    for i in range(400):
        turns = []
        for j in range(rng.randint(2, 7)):
            sender, pool = ("customer", asks) if j % 2 == 0 else ("helpdesk", answers)
            turns.append({"sender": sender, "utterances": [rng.choice(pool)]})
        dialogues.append({"id": f"syn{i}", "turns": turns})
    return dialogues, "synthetic"


def repeat_dialogues(dialogues: list[dict], turns: int) -> list[dict]:
    out, n, copy = [], 0, 0
    while n < turns:
        for d in dialogues:
            out.append({"id": f"{d['id']}-{copy}", "turns": d["turns"]})
            n += len(d["turns"])
            if n >= turns:
                break
        copy += 1
    return out


def long_rows(dialogues: list[dict]) -> pd.DataFrame:
    start = pd.Timestamp("2026-01-01")
    rows = []
    for i, d in enumerate(dialogues):
        t0 = start + pd.Timedelta(minutes=7 * i)
        for j, turn in enumerate(d["turns"]):
            rows.append((d["id"], "客户" if turn["sender"] == "customer" else "客服",
                         "\n".join(turn["utterances"]),
                         (t0 + pd.Timedelta(seconds=40 * j)).strftime("%Y-%m-%d %H:%M:%S")))
    return pd.DataFrame(rows, columns=["会话ID", "角色", "内容", "时间"])


def run(path: Path, workspace: Path, workers: int) -> dict:
    from textmine.analyze import analyze
    from textmine.config import Config

    t0 = time.perf_counter()
    with ProcessTree() as tree:
        result = analyze([path], kind="chats",
                         config=Config(workspace=str(workspace), workers=workers))
    seconds, cpu = time.perf_counter() - t0, tree.own + tree.cpu_seconds()
    return {"in": result.n_in, "stored": result.stored, "rejected": result.rejected,
            "sessions": result.extra["sessions"]["sessions"], "seconds": seconds,
            "turns_per_s": result.n_in / seconds, "cpu_s": cpu, "main_cpu_s": tree.own}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sessions_only(workspace: Path) -> float:
    """Seconds to recompute every session of the workspace (the POST_RUN step alone)."""
    from textmine.chats import refresh_sessions
    from textmine.lexicons import load_lexicons
    from textmine.workspace import open_workspace

    lexicons = load_lexicons()
    with open_workspace(workspace) as ws:
        t0 = time.perf_counter()
        with ws.transaction():
            refresh_sessions(ws, None, lexicons)
        return time.perf_counter() - t0


def part_costs(path: Path, workspace: Path) -> dict[str, float]:
    """CPU seconds per part of one in-process run (workers=1): each stage, prepare, sessions …"""
    import textmine.analyze as engine
    import textmine.chats as chats
    import textmine.ledger as ledger
    import textmine.pipeline as pipeline
    import textmine.records as records
    from textmine.config import Config

    costs: dict[str, float] = {}

    def timed(func, label):
        def run(*args, **kwargs):
            t0 = time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                costs[label] = costs.get(label, 0.0) + time.process_time() - t0
        return run

    pipeline._ensure_stage_modules()
    resources = pipeline.resources_for(Config())
    _ = resources.segmenter, resources.sentiment_model  # loading is not part of the run
    saved = (dict(pipeline.STAGES), records.Preparer.prepare, ledger.RunLedger.settle,
             chats.refresh_sessions)
    try:
        for name, stage in saved[0].items():
            pipeline.STAGES[name] = pipeline.Stage(stage.name, stage.requires, stage.assigns,
                                                   timed(stage.func, name), stage.kinds)
        records.Preparer.prepare = timed(records.Preparer.prepare, "prepare")
        ledger.RunLedger.settle = timed(ledger.RunLedger.settle, "settle")
        chats.refresh_sessions = timed(chats.refresh_sessions, "sessions")
        t0 = time.process_time()
        engine.analyze([path], kind="chats", config=Config(workspace=str(workspace), workers=1))
        costs["total"] = time.process_time() - t0
    finally:
        pipeline.STAGES.update(saved[0])
        records.Preparer.prepare, ledger.RunLedger.settle, chats.refresh_sessions = saved[1:]
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--layout", choices=("json", "csv", "both"), default="both")
    parser.add_argument("--parts", type=int, default=0,
                        help="Also print CPU seconds per part for an in-process run of this "
                             "many turns (JSON layout).")
    args = parser.parse_args()

    dialogues, origin = source_dialogues()
    data = repeat_dialogues(dialogues, args.turns)
    print(f"command: python benchmarks/bench_chats.py {' '.join(sys.argv[1:])}".rstrip())
    print("load average (1, 5, 15 min) at start: " + load_average())
    chars = [len("".join(t["utterances"])) for d in data for t in d["turns"]]
    print(f"data: {origin}, {len(data):,} dialogues, {len(chars):,} turns "
          f"({sum(chars) / len(chars):.0f} characters on average), workers={args.workers}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        layouts = ("json", "csv") if args.layout == "both" else (args.layout,)
        for layout in layouts:
            path = tmp / f"chats.{layout}"
            if layout == "json":
                path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            else:
                long_rows(data).to_csv(path, index=False)
            workspace = tmp / f"{layout}.duckdb"
            figures = run(path, workspace, args.workers)
            print(f"{layout:>4}: in {figures['in']:,} turns · stored {figures['stored']:,} · "
                  f"rejected {figures['rejected']:,} · sessions {figures['sessions']:,} · "
                  f"{figures['seconds']:.1f} s · {figures['turns_per_s']:,.0f} turns/s end to end")
            print(f"      CPU {figures['cpu_s']:.1f} s = {figures['in'] / figures['cpu_s']:,.0f} "
                  f"turns per CPU-second (x{args.workers} cores if nothing else runs: "
                  f"{args.workers * figures['in'] / figures['cpu_s']:,.0f} turns/s); "
                  f"main process {figures['main_cpu_s']:.1f} s, workers and fork server "
                  f"{figures['cpu_s'] - figures['main_cpu_s']:.1f} s")
            print(f"      sessions table alone (all sessions recomputed): "
                  f"{sessions_only(workspace):.2f} s")
            print("      load average (1, 5, 15 min) after: " + load_average())
        if args.parts:
            sample = repeat_dialogues(dialogues, args.parts)
            path = tmp / "parts.json"
            path.write_text(json.dumps(sample, ensure_ascii=False), encoding="utf-8")
            costs = part_costs(path, tmp / "parts.duckdb")
            total = costs.pop("total")
            n = sum(len(d["turns"]) for d in sample)
            listed = sorted(costs.items(), key=lambda kv: -kv[1])
            print(f"parts, one process, {n:,} turns (CPU s): " +
                  ", ".join(f"{k} {v:.2f}" for k, v in listed) +
                  f", other {total - sum(costs.values()):.2f}; total {total:.2f} "
                  f"= {n / total:,.0f} turns per CPU-second")


if __name__ == "__main__":
    main()
