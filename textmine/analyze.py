"""The local engine: files -> records -> stages (in a process pool) -> workspace, every row counted."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from textmine.columns import resolve_columns
from textmine.config import Config
from textmine.errors import TextmineError
from textmine.ledger import RunLedger
from textmine.lexicons import load_lexicons
from textmine.load import Source, open_source
from textmine.pipeline import DEFAULT_ORDER, _ensure_stage_modules, process_batch
from textmine.records import KINDS, SEQ, Preparer
from textmine.schema import DOCUMENTS, to_arrow
from textmine.warm import WARM_CONFIG_ENV
from textmine.workspace import Workspace, open_workspace
from textmine.writer import DocumentWriter

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
    # A large input's workers warm up from here on, while its files are sniffed and parsed.
    workers = _Workers(config, [Path(p) for p in paths])
    run_id = uuid.uuid4().hex[:12]
    result = RunResult(run_id=run_id, workspace=str(config.workspace), kind=kind)
    try:
        sources = open_sources(paths, columns or {}, kind, encoding)
        _ensure_stage_modules()
        lexicons = load_lexicons(config.lexicons)
        with open_workspace(config.workspace) as ws:
            for hook in PRE_RUN:
                config = hook(ws, config, kind)
            with ws.transaction():
                ledger = RunLedger(run_id)
                _stage_incoming(ws, sources, kind, config, lexicons.role_of, ledger, result,
                                progress, workers)
                workers.close()  # their memory is not needed past this point
                result.stored, result.duplicates = ledger.settle(ws)
                for hook in POST_RUN:
                    result.extra.update(hook(ws, run_id, kind, config) or {})
                result.rejected_by_reason = dict(ws.con.execute(
                    "SELECT reason, count(*) FROM rejects WHERE run_id = ? GROUP BY reason "
                    "ORDER BY count(*) DESC, reason", [run_id]).fetchall())
                result.rejected = sum(result.rejected_by_reason.values())
                result.seconds = time.perf_counter() - t0
                _record_run(ws, result, command, args or {}, started, config, lexicons.digest)
            if rejects_path:
                from textmine.export import write_frame

                write_frame(ws.query("SELECT * FROM rejects WHERE run_id = ? ORDER BY source, row",
                                     [run_id]), rejects_path)
    finally:
        workers.close(cancel=True)
    if result.n_in != result.stored + result.duplicates + result.rejected:
        raise AssertionError(f"row accounting broke: {result.summary_line()}")
    return result


INCOMING_FIELDS = [pa.field("seq", pa.int64())] + [f for f in DOCUMENTS if f.name != "run_id"]
INCOMING = pa.schema(INCOMING_FIELDS)


def analyze_batch(raw: pd.DataFrame, preparer: Preparer, config: Config, kind: str,
                  stage_names: tuple[str, ...] = DEFAULT_ORDER) -> tuple[pa.Table, pd.DataFrame]:
    """Worker job: raw rows -> (analysed records as Arrow, rejects). Same code in every engine."""
    prepared = preparer.prepare(raw)
    records = prepared.records
    if len(records):
        records = process_batch(records, config, kind, stage_names)
    return to_arrow(records, INCOMING), prepared.rejects


def _stage_incoming(ws: Workspace, sources: list, kind: str, config: Config,
                    role_of: dict[str, str], ledger: RunLedger, result: RunResult,
                    progress: Progress | None, workers: _Workers) -> None:
    """Phase 1: every input row becomes a stored document, a repeat of one, or a reject.

    The main process reads and stores; workers prepare and analyse whole batches (Arrow
    tables travel back cheaply). Batches are stored as they come back, in input order, so
    DuckDB compresses row groups while the workers are still busy; rows whose ID an earlier run
    stored are sorted out in phase 2 (`RunLedger.settle`, one join).
    """
    seq = 0
    pending: list[Future] = []
    done = 0
    run_id = ledger.run_id
    run_column = pa.field("run_id", pa.string())

    def store(table: pa.Table, rejects: pd.DataFrame) -> None:
        nonlocal done
        done += table.num_rows + len(rejects)
        if table.num_rows:
            table = ledger.admit(table).drop_columns(["seq"])
            writer.documents(table.append_column(
                run_column, pa.array([run_id] * table.num_rows, pa.string())))
        if len(rejects):
            writer.rejects(rejects.assign(run_id=run_id))
        if progress:
            progress("analyze", done, 0)

    with DocumentWriter(ws) as writer:
        for source, colmap in sources:
            preparer = Preparer(colmap, kind, source.name, config.max_chars, config.timezone,
                                role_of)
            n_source = 0
            for raw, bad in source.batches(config.batch_size):
                n_source += len(raw) + len(bad)
                raw[SEQ] = range(seq, seq + len(raw))
                seq += len(raw)
                if bad:
                    store(pa.table({}), preparer.unreadable(bad))
                if not len(raw):
                    continue
                pool = workers.for_batch(seq, config)
                if pool is None:
                    store(*analyze_batch(raw, preparer, config, kind))
                    continue
                pending.append(pool.submit(analyze_batch, raw, preparer, config, kind))
                while len(pending) > 2 * config.workers:
                    store(*pending.pop(0).result())
            result.n_in += n_source
            result.sources.append({"source": source.name, "rows": n_source,
                                   "columns": colmap.found()})
        for future in pending:
            store(*future.result())


class _Workers:
    """The run's process pool: started before the inputs are opened for an input that is large
    on disk, else once the input turns out to span several batches (Excel and Parquet are
    smaller on disk than their rows); shut down once the batches are in.

    The pool starts in a thread: the fork server takes about a second to import textmine and
    build the segmenter and model, and meanwhile the main thread opens the workspace and reads
    the first batches instead of waiting for it.
    """

    def __init__(self, config: Config, paths: list[Path]) -> None:
        self.pool: ProcessPoolExecutor | None = None
        self._starting: threading.Thread | None = None
        self._started: list[ProcessPoolExecutor | BaseException] = []
        if config.workers > 1 and _large(paths, config):
            self._start(config)

    def _start(self, config: Config) -> None:
        def start() -> None:
            try:
                self._started.append(_start_pool(config))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                self._started.append(exc)

        self._starting = threading.Thread(target=start, name="textmine-pool-start", daemon=True)
        self._starting.start()

    def _wait(self) -> None:
        if self._starting is None:
            return
        self._starting.join()
        self._starting = None
        started = self._started.pop()
        if isinstance(started, BaseException):
            raise started
        self.pool = started

    def for_batch(self, seq: int, config: Config) -> ProcessPoolExecutor | None:
        """The pool for the batch ending at input row `seq`; None: analyse in-process."""
        if (self.pool is None and self._starting is None and config.workers > 1
                and seq > 2 * config.batch_size):
            self._start(config)
        self._wait()
        return self.pool

    def close(self, cancel: bool = False) -> None:
        self._wait()
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=cancel)


def _large(paths: list[Path], config: Config) -> bool:
    """Inputs big enough for several batches get workers from the first batch on, so their
    start-up overlaps with reading instead of the main process analysing batches itself."""
    size = sum(path.stat().st_size for path in paths if path.is_file())
    return size > 2 * config.batch_size * _BYTES_PER_ROW


_BYTES_PER_ROW = 100  # a review row with its ID, customer, time and rating columns


def _start_pool(config: Config) -> ProcessPoolExecutor:
    """Worker processes, forked from a fork server that imported textmine and built this
    config's segmenter and model once: N workers cost one start-up (~1.6 CPU-s), not N.

    The fork server is a fresh process that never opens DuckDB, so forking it is safe (the
    main process may hold DuckDB threads and is never forked). Where there is no fork server
    (Windows), workers are spawned and each warms up by itself.
    """
    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        context = multiprocessing.get_context("spawn")
    else:
        # Read by textmine.warm when the server starts; a server that is already running
        # keeps what it built, and workers build resources for any other config themselves.
        os.environ[WARM_CONFIG_ENV] = json.dumps(config.as_dict(), default=str)
        context.set_forkserver_preload(["textmine.warm"])
    pool = ProcessPoolExecutor(max_workers=config.workers, mp_context=context)
    try:
        for _ in range(config.workers):
            pool.submit(_warm, config)
    finally:
        os.environ.pop(WARM_CONFIG_ENV, None)
    return pool


def _warm(config: Config) -> None:
    from textmine.warm import warm

    warm(config)


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
