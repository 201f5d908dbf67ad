"""The workspace: one DuckDB file (default) or a folder of Parquet tables written by Spark."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from textmine.errors import TextmineError
from textmine.schema import TABLES, duck_type, to_arrow

OVERLAY = "_workspace.duckdb"  # where a Parquet-folder workspace keeps what readers add

# Rows per row group that textmine writes (DuckDB's default is 122,880). A run's last row group
# is only partly filled, and DuckDB compresses it at commit, after the workers have finished:
# smaller groups shorten that serial tail (200,000 reviews: commit 0.9 -> 0.3 s) and, measured
# on our documents, cost less to compress in all (3.7 -> 2.4 CPU-s) at the same file size.
ROW_GROUP_ROWS = 20_480


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open a workspace file; for writing, attached with textmine's row group size (an
    ATTACH option, applied to what this connection writes)."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(str(path))} AS workspace (ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
        con.execute("USE workspace")
    except BaseException:
        con.close()
        raise
    return con


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Workspace:
    """A connection to the stored results, with the canonical tables created and migrated.

    A DuckDB file is read and written in place. A folder (Spark's `--output DIR`) is opened
    through DuckDB's Parquet scans: each subfolder (`documents/`, `rejects/`, `sessions/` …)
    becomes a view, and tables a reading command adds (customers, topic models) go to an
    overlay DuckDB file inside the folder.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, create: bool = True) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.is_folder = self.path.is_dir()
        try:
            if self.is_folder:
                self.con = self._open_folder()
            else:
                if not self.path.exists() and (read_only or not create):
                    raise TextmineError("E009", where=str(self.path),
                                        fix="Run `textmine analyze FILE` first, or pass --workspace.")
                if not read_only:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                self.con = _connect(self.path, read_only)
                # DuckDB draws its own progress bar on long queries; ours is on stderr already.
                self.con.execute("SET enable_progress_bar = false")
                if not read_only:
                    self.migrate()
        except duckdb.IOException as exc:
            raise TextmineError("E010", str(exc).splitlines()[0][:160], where=str(self.path),
                                fix="Close other textmine or DuckDB sessions using it and retry.") from exc

    # -- opening --------------------------------------------------------------------------------
    def _open_folder(self) -> duckdb.DuckDBPyConnection:
        overlay = self.path / OVERLAY
        if overlay.exists() or not self.read_only:
            con = duckdb.connect(str(overlay), read_only=self.read_only)
        else:
            con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        for sub in sorted(p for p in self.path.iterdir() if p.is_dir()):
            if not any(sub.rglob("*.parquet")):
                continue
            pattern = str(sub / "**" / "*.parquet").replace("'", "''")
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {_quote(sub.name)} AS SELECT * FROM read_parquet("
                f"'{pattern}', hive_partitioning = true, union_by_name = true)")
        _overlay_topics(con)
        run_json = self.path / "run.json"
        if run_json.exists():
            run = json.loads(run_json.read_text(encoding="utf-8"))
            frame = pd.DataFrame([{k: (json.dumps(v, ensure_ascii=False)
                                       if isinstance(v, (dict, list)) else v)
                                   for k, v in run.items()}])
            con.register("_run_json", frame)
            con.execute("CREATE OR REPLACE TEMP TABLE spark_run AS SELECT * FROM _run_json")
            con.unregister("_run_json")
        return con

    def migrate(self) -> None:
        """Create missing tables and add columns that newer versions declare."""
        if self.is_folder:
            return
        for name, schema in TABLES.items():
            cols = ", ".join(f"{_quote(f.name)} {duck_type(f.type)}" for f in schema)
            self.con.execute(f"CREATE TABLE IF NOT EXISTS {_quote(name)} ({cols})")
            have = {r[0] for r in self.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                [name]).fetchall()}
            for f in schema:
                if f.name not in have:
                    self.con.execute(f"ALTER TABLE {_quote(name)} ADD COLUMN "
                                     f"{_quote(f.name)} {duck_type(f.type)}")

    # -- reading --------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()
        return [r[0] for r in rows if not r[0].startswith("_")]

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def count(self, table: str) -> int:
        if not self.has_table(table):
            return 0
        # fetchall: DuckDB 2 refuses the next register() while a result is left unfinished.
        return int(self.con.execute(f"SELECT count(*) FROM {_quote(table)}").fetchall()[0][0])

    # -- writing --------------------------------------------------------------------------------
    def insert(self, table: str, data: pd.DataFrame | pa.Table) -> int:
        """Append rows, matching columns by name (missing ones are NULL)."""
        if isinstance(data, pd.DataFrame):
            schema = TABLES.get(table)
            data = to_arrow(data, schema) if schema is not None else pa.Table.from_pandas(
                data, preserve_index=False)
        if data.num_rows == 0:
            return 0
        self.con.register("_incoming_rows", data)
        try:
            self.con.execute(f"INSERT INTO {_quote(table)} BY NAME SELECT * FROM _incoming_rows").fetchall()
        finally:
            self.con.unregister("_incoming_rows")
        return data.num_rows

    @contextmanager
    def transaction(self) -> Iterator[Workspace]:
        """All or nothing: a run killed inside leaves the previous state readable."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _overlay_topics(con: duckdb.DuckDBPyConnection) -> None:
    """On a folder, `documents` is read-only Parquet: topic assignments that `topics fit|apply`
    keep in the overlay (`doc_topics`, current model) are laid over its topic columns, so every
    reader sees them as it would in a DuckDB workspace."""
    have = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}
    if not {"documents", "doc_topics", "topic_models", "topics"} <= have:
        return
    current = con.execute("SELECT max(version) FROM topic_models WHERE is_current").fetchone()[0]
    if current is None:
        return
    con.execute("ALTER VIEW documents RENAME TO _documents_parquet")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW documents AS
        SELECT d.* REPLACE (
                   coalesce(a.topic_id, d.topic_id) AS topic_id,
                   CASE WHEN a.topic_id = -1 THEN '其他'
                        ELSE coalesce(t.label, d.topic_label) END AS topic_label,
                   coalesce(a.topic_prob, d.topic_prob) AS topic_prob)
        FROM _documents_parquet d
        LEFT JOIN (SELECT doc_id, topic_id, topic_prob FROM doc_topics
                   WHERE version = {int(current)}) a USING (doc_id)
        LEFT JOIN (SELECT topic_id, coalesce(custom_label, label) AS label FROM topics
                   WHERE version = {int(current)}) t ON t.topic_id = a.topic_id
    """)


def open_workspace(path: str | Path, *, read_only: bool = False, create: bool = True) -> Workspace:
    """Open a DuckDB workspace file or a Spark output folder."""
    return Workspace(path, read_only=read_only, create=create)
