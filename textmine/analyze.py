"""The local engine: files -> records -> stages (in a process pool) -> workspace, every row counted."""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from textmine.columns import resolve_columns
from textmine.config import Config
from textmine.errors import TextmineError
from textmine.lexicons import load_lexicons
from textmine.load import Source, open_source
from textmine.pipeline import DEFAULT_ORDER, _ensure_stage_modules, process_batch
from textmine.records import KINDS, RECORD_COLUMNS, Preparer
from textmine.schema import DOCUMENTS, duck_type
from textmine.workspace import Workspace, open_workspace

Progress = Callable[[str, int, int], None]  # (phase, done, total)

# Hooks later features register: PRE_RUN may return a new Config (e.g. with the current topic
# model attached); POST_RUN updates derived tables (sessions, repeat contacts) in the same
# transaction and returns figures to report.
PRE_RUN: list[Callable[[Workspace, Config, str], Config]] = []
POST_RUN: list[Callable[[Workspace, str, str, Config], dict[str, Any]]] = []


@dataclass
class RunResult:
    """What a run did, in the counting keys of the CLI contract (in = stored + dup + rejected)."""

    run_id: str
    workspace: str
    kind: str
    n_in: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"in": self.n_in, "stored": self.stored, "duplicates": self.duplicates,
                "rejected": self.rejected, "rejected_by_reason": self.rejected_by_reason,
                "kind": self.kind, "run_id": self.run_id, "workspace": self.workspace,
                "sources": self.sources, "seconds": round(self.seconds, 3), **self.extra}

    def summary_line(self) -> str:
        return (f"in {self.n_in:,} · stored {self.stored:,} · duplicates {self.duplicates:,} · "
                f"rejected {self.rejected:,}")


def normalise_kind(kind: str) -> str:
    try:
        return KINDS[kind.lower()]
    except KeyError:
        raise TextmineError("E015", f"--kind {kind}", fix="Use --kind reviews or --kind chats.") from None


def open_sources(paths: list[str | Path], columns: dict[str, str | None], kind: str,
                 encoding: str | None = None) -> list[tuple[Source, Any]]:
    """Validate every input before anything is written: a bad file aborts with no changes."""
    from textmine.columns import resolve_columns as resolve

    out = []
    for path in paths:
        source = open_source(path, encoding=encoding)
        expanded = _expand_source(source, kind)
        colmap = resolve(expanded.columns, columns, source=str(path))
        out.append((expanded, colmap))
    return out


def _expand_source(source: Source, kind: str) -> Source:
    """Chat formats that need reshaping (transcripts, nested dialogues) plug in here."""
    if kind == "chat":
        try:
            from textmine.chats import expand_chat_source
        except ModuleNotFoundError:
            return source
        return expand_chat_source(source)
    return source


def analyze(paths: list[str | Path], *, kind: str = "review", config: Config | None = None,
            columns: dict[str, str | None] | None = None, encoding: str | None = None,
            rejects_path: str | Path | None = None, progress: Progress | None = None,
            command: str = "analyze", args: dict[str, Any] | None = None) -> RunResult:
    """Load, clean, mask, segment and score `paths` into the workspace; return the counts."""
    config = config or Config()
    kind = normalise_kind(kind)
    started = datetime.now()
    t0 = time.perf_counter()
    sources = open_sources(paths, columns or {}, kind, encoding)
    _ensure_stage_modules()
    lexicons = load_lexicons(config.lexicons)
    run_id = uuid.uuid4().hex[:12]
    result = RunResult(run_id=run_id, workspace=str(config.workspace), kind=kind)

    pool: ProcessPoolExecutor | None = None
    try:
        with open_workspace(config.workspace) as ws:
            for hook in PRE_RUN:
                config = hook(ws, config, kind)
            with ws.transaction():
                _stage_incoming(ws, sources, kind, config, lexicons.role_of, run_id, result, progress)
                new_total = _classify(ws, run_id, result)
                if new_total > 2 * config.batch_size:
                    pool = _start_pool(config)
                for frame in _process_pages(ws, new_total, config, kind, pool, progress):
                    frame["run_id"] = run_id
                    result.stored += ws.insert("documents", frame)
                for hook in POST_RUN:
                    result.extra.update(hook(ws, run_id, kind, config) or {})
                result.rejected_by_reason = dict(ws.con.execute(
                    "SELECT reason, count(*) FROM rejects WHERE run_id = ? GROUP BY reason "
                    "ORDER BY count(*) DESC", [run_id]).fetchall())
                result.rejected = sum(result.rejected_by_reason.values())
                result.seconds = time.perf_counter() - t0
                _record_run(ws, result, command, args or {}, started, config,
                            lexicons.digest)
                ws.con.execute("DROP TABLE IF EXISTS _incoming")
                ws.con.execute("DROP TABLE IF EXISTS _new")
            if rejects_path:
                from textmine.export import write_frame

                write_frame(ws.query("SELECT * FROM rejects WHERE run_id = ? ORDER BY source, row",
                                     [run_id]), rejects_path)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if result.n_in != result.stored + result.duplicates + result.rejected:
        raise AssertionError(f"row accounting broke: {result.summary_line()}")
    return result


def _stage_incoming(ws: Workspace, sources: list, kind: str, config: Config,
                    role_of: dict[str, str], run_id: str, result: RunResult,
                    progress: Progress | None) -> None:
    """Phase 1: every input row becomes an incoming record or a reject (cheap, in-process)."""
    cols = ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in DOCUMENTS
                     if f.name in RECORD_COLUMNS and f.name != "text")
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE _incoming (seq BIGINT, {cols}, text_raw VARCHAR)")
    seq = 0
    for source, colmap in sources:
        preparer = Preparer(colmap, kind, source.name, config.max_chars, config.timezone, role_of)
        n_source = 0
        for raw, bad in source.batches(config.batch_size):
            n_source += len(raw) + len(bad)
            prepared = preparer.prepare(raw)
            records = prepared.records
            records.insert(0, "seq", range(seq, seq + len(records)))
            seq += len(records)
            if len(records):
                ws.con.register("_batch", records)
                ws.con.execute("INSERT INTO _incoming BY NAME SELECT * FROM _batch")
                ws.con.unregister("_batch")
            for rejects in (prepared.rejects, preparer.unreadable(bad)):
                if len(rejects):
                    rejects = rejects.assign(run_id=run_id)
                    ws.insert("rejects", rejects)
            if progress:
                progress("read", result.n_in + n_source, 0)
        result.n_in += n_source
        result.sources.append({"source": source.name, "rows": n_source,
                               "columns": colmap.found()})


def _classify(ws: Workspace, run_id: str, result: RunResult) -> int:
    """Phase 2 (SQL): new rows, duplicates (same ID, same text) and ID conflicts (different text)."""
    ws.con.execute("""
        CREATE OR REPLACE TEMP TABLE _classified AS
        WITH firsts AS (
            SELECT *, first_value(source_hash) OVER w AS first_hash,
                   row_number() OVER w AS nth
            FROM _incoming WINDOW w AS (PARTITION BY doc_id ORDER BY seq)
        )
        SELECT f.*, CASE
            WHEN d.doc_id IS NOT NULL AND d.source_hash = f.source_hash THEN 'duplicate'
            WHEN d.doc_id IS NOT NULL THEN 'conflict'
            WHEN f.nth > 1 AND f.source_hash = f.first_hash THEN 'duplicate'
            WHEN f.nth > 1 THEN 'conflict'
            ELSE 'new' END AS status
        FROM firsts f
        LEFT JOIN (SELECT DISTINCT ON (doc_id) doc_id, source_hash FROM documents) d
               USING (doc_id)
    """)
    ws.con.execute("""
        INSERT INTO rejects BY NAME
        SELECT ? AS run_id, source, source_row AS row, doc_id,
               'duplicate_id_conflict' AS reason,
               'ID ' || doc_id || ' was already used by a row with different text; '
               || 'give the row its own ID or remove the duplicate' AS detail,
               NULL AS excerpt
        FROM _classified WHERE status = 'conflict'
    """, [run_id])
    result.duplicates = int(ws.con.execute(
        "SELECT count(*) FROM _classified WHERE status = 'duplicate'").fetchone()[0])
    ws.con.execute("""
        CREATE OR REPLACE TEMP TABLE _new AS
        SELECT row_number() OVER (ORDER BY seq) AS n, * EXCLUDE (first_hash, nth, status)
        FROM _classified WHERE status = 'new' ORDER BY seq
    """)
    ws.con.execute("DROP TABLE _classified")
    ws.con.execute("DROP TABLE _incoming")
    return int(ws.con.execute("SELECT count(*) FROM _new").fetchone()[0])


def _pages(ws: Workspace, total: int, size: int) -> Iterator[pd.DataFrame]:
    for lo in range(0, total, size):
        frame = ws.con.execute(
            "SELECT * EXCLUDE (n, seq) FROM _new WHERE n > ? AND n <= ? ORDER BY n",
            [lo, lo + size]).df()
        yield frame


def _start_pool(config: Config) -> ProcessPoolExecutor | None:
    """Worker processes (spawned: forking a process that runs DuckDB threads is unsafe).

    Only worth it for inputs of several batches: spawning and warming costs ~2 s.
    """
    if config.workers <= 1:
        return None
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=config.workers, mp_context=context)
    for _ in range(config.workers):
        pool.submit(_warm, config)
    return pool


def _warm(config: Config) -> None:
    from textmine.pipeline import resources_for

    resources = resources_for(config)
    _ = resources.segmenter, resources.sentiment_model


def _process_pages(ws: Workspace, total: int, config: Config, kind: str,
                   pool: ProcessPoolExecutor | None, progress: Progress | None
                   ) -> Iterator[pd.DataFrame]:
    """Phase 3: stream new rows through the stages; results come back in input order."""
    size = config.batch_size
    done = 0
    if pool is None or total <= size:
        for page in _pages(ws, total, size):
            out = process_batch(page, config, kind, DEFAULT_ORDER)
            done += len(out)
            if progress:
                progress("analyze", done, total)
            yield out
        return
    pending: list[Future] = []
    for page in _pages(ws, total, size):
        pending.append(pool.submit(process_batch, page, config, kind, DEFAULT_ORDER))
        if len(pending) >= 2 * config.workers:
            out = pending.pop(0).result()
            done += len(out)
            if progress:
                progress("analyze", done, total)
            yield out
    for future in pending:
        out = future.result()
        done += len(out)
        if progress:
            progress("analyze", done, total)
        yield out


def _record_run(ws: Workspace, result: RunResult, command: str, args: dict[str, Any],
                started: datetime, config: Config, lexicon_digest: str) -> None:
    from textmine import __version__

    model = config.sentiment_model
    ws.insert("runs", pd.DataFrame([{
        "run_id": result.run_id, "command": command,
        "args": json.dumps(args, ensure_ascii=False, default=str),
        "started_at": started, "finished_at": datetime.now(), "status": "ok",
        "textmine_version": __version__, "lexicon_digest": lexicon_digest,
        "sentiment_model": model, "n_in": result.n_in, "n_stored": result.stored,
        "n_duplicates": result.duplicates, "n_rejected": result.rejected,
        "details": json.dumps({"sources": result.sources, "kind": result.kind, **result.extra},
                              ensure_ascii=False, default=str),
    }]))


def expand_paths(patterns: list[str]) -> list[Path]:
    """Globs and folders of files become file lists (sorted, so runs are reproducible)."""
    import glob

    out: list[Path] = []
    for pattern in patterns:
        path = Path(pattern)
        if any(ch in pattern for ch in "*?["):
            matches = sorted(glob.glob(pattern, recursive=True))
            if not matches:
                raise TextmineError("E001", f"no files match {pattern}", where=pattern,
                                    fix="Check the pattern; quote it so the shell does not expand it.")
            out.extend(Path(m) for m in matches if Path(m).is_file())
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in
                           (".csv", ".tsv", ".txt", ".xlsx", ".json", ".jsonl", ".parquet"))
            if not files:
                raise TextmineError("E001", "folder has no data files", where=str(path),
                                    fix="Put .csv/.xlsx/.jsonl/.parquet files in it.")
            out.extend(files)
        else:
            out.append(path)
    return out


__all__ = ["analyze", "RunResult", "expand_paths", "PRE_RUN", "POST_RUN", "resolve_columns"]
