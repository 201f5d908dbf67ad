"""Which analysed rows of a run are new documents: chat turn IDs, first occurrence wins.

`RunLedger.admit` sees each batch in input order (the local engine stores batches in the order
they were read), so the first row with an ID is the one kept, as if the whole input had been
one table. Later rows with that ID are duplicates (same text hash) or conflicts (different
text: rejected with a reason). Rows whose ID an earlier run stored are settled once, at the end
of the run (`settle`), by one join against the workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from textmine.workspace import Workspace

CONFLICT = "duplicate_id_conflict"
# The reject detail of a conflict, in both engines (`{}` is the ID).
CONFLICT_DETAIL = ("ID {} was already used by a row with different text; "
                   "give the row its own ID or remove the duplicate")


@dataclass
class _Repeat:
    """A later row with an ID seen earlier in this run. Judged at the run's end: against an
    earlier run's row with that ID when there is one (as every row is), else against the
    run's first row with it."""

    doc_id: str
    digest: str
    same_as_first: bool
    source: str
    row: int
    excerpt: str


@dataclass
class RunLedger:
    """IDs seen so far in this run (ID -> text hash), and chat turns numbered per session."""

    run_id: str
    seen: dict[str, str] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)
    repeats: list[_Repeat] = field(default_factory=list)

    def admit(self, table: pa.Table) -> pa.Table:
        """The rows of one analysed batch to store now (first occurrences of their IDs).

        Chat turns without a turn column are numbered per session in input order, and turns
        without an ID get `<session>:<turn>`, the same IDs however the input is batched.
        """
        table = self._number_turns(table)
        ids = table["doc_id"].to_pylist()
        hashes = table["source_hash"].to_pylist()
        seen = self.seen
        if len(set(ids)) == len(ids) and seen.keys().isdisjoint(ids):
            seen.update(zip(ids, hashes, strict=True))  # the usual batch: every ID is new, all rows stay
            return table
        keep: list[bool] = []
        repeats: list[tuple[int, bool]] = []
        for i, (doc_id, digest) in enumerate(zip(ids, hashes, strict=True)):
            first = seen.get(doc_id)
            if first is None:
                seen[doc_id] = digest
                keep.append(True)
            else:
                keep.append(False)
                repeats.append((i, first == digest))
        if repeats:
            rows = table.take([i for i, _ in repeats]).select(
                ["doc_id", "source_hash", "source", "source_row", "text"]).to_pylist()
            self.repeats.extend(
                _Repeat(r["doc_id"], r["source_hash"], same, r["source"], r["source_row"],
                        (r["text"] or "")[:120])
                for r, (_, same) in zip(rows, repeats, strict=True))
        return table.filter(pa.array(keep, pa.bool_()))

    def _number_turns(self, table: pa.Table) -> pa.Table:
        """Chat turns with a session: `turn` (when missing) = their position in the session
        over the whole run so far, `doc_id` (when missing) = `<session>:<turn>`."""
        sessions = table["session_id"].to_pandas()
        chat = (table["kind"].to_numpy(zero_copy_only=False) == "chat") & sessions.notna().to_numpy()
        if not chat.any():
            return table
        codes, names = pd.factorize(sessions[chat])
        before = np.array([self.turns.get(name, 0) for name in names], dtype=np.int64)
        position = pd.Series(codes).groupby(codes).cumcount().to_numpy() + 1 + before[codes]
        self.turns.update(zip(names, (before + np.bincount(codes)).tolist(), strict=True))
        rows = np.flatnonzero(chat)
        turn = table["turn"]
        missing_turn = np.zeros(len(chat), dtype=bool)
        missing_turn[rows] = turn.is_null().to_numpy(zero_copy_only=False)[rows]
        if missing_turn.any():
            numbered = np.zeros(len(chat), dtype=np.int32)
            numbered[rows] = position
            turn = pc.if_else(pa.array(missing_turn), pa.array(numbered, pa.int32()), turn)
            table = table.set_column(table.schema.get_field_index("turn"), "turn", turn)
        doc_id = table["doc_id"]
        missing_id = np.zeros(len(chat), dtype=bool)
        missing_id[rows] = doc_id.is_null().to_numpy(zero_copy_only=False)[rows]
        if missing_id.any():
            named = pc.binary_join_element_wise(table["session_id"], pc.cast(turn, pa.string()), ":")
            table = table.set_column(table.schema.get_field_index("doc_id"), "doc_id",
                                     pc.if_else(pa.array(missing_id), named, doc_id))
        return table

    def settle(self, ws: Workspace) -> tuple[int, int]:
        """(stored, duplicates) once the run's batches are in: this run's rows whose ID an
        earlier run stored are duplicates (same text) or conflicts (rejected) and are removed;
        repeats within the run are judged. Conflicts go to `rejects`."""
        con = ws.con
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _collisions AS
            SELECT n.doc_id, n.source, n.source_row AS row, left(n.text, 120) AS excerpt,
                   n.source_hash = o.source_hash AS same
            FROM documents n JOIN documents o
              ON o.doc_id = n.doc_id AND o.run_id IS DISTINCT FROM n.run_id
            WHERE n.run_id = ?
        """, [self.run_id])
        duplicates = int(con.execute(
            "SELECT count(*) FILTER (WHERE same) FROM _collisions").fetchall()[0][0])
        conflicts = con.execute("SELECT doc_id, source, row, excerpt FROM _collisions "
                                "WHERE NOT same").fetchall()
        con.execute("DELETE FROM documents WHERE run_id = ? AND doc_id IN "
                    "(SELECT doc_id FROM _collisions)", [self.run_id])
        con.execute("DROP TABLE _collisions")
        duplicates += self._judge_repeats(ws, conflicts)
        stored = int(con.execute("SELECT count(*) FROM documents WHERE run_id = ?",
                                 [self.run_id]).fetchall()[0][0])
        return stored, duplicates

    def _judge_repeats(self, ws: Workspace, conflicts: list[tuple]) -> int:
        """Count the duplicates among the repeats. The repeats that reuse an ID with other
        text are rejected, together with `conflicts` (doc_id, source, row, excerpt)."""
        earlier: dict[str, str] = {}
        if self.repeats:
            ids = pa.table({"doc_id": sorted({r.doc_id for r in self.repeats})})
            ws.con.register("_repeat_ids", ids)
            try:
                earlier = dict(ws.con.execute(
                    "SELECT d.doc_id, d.source_hash FROM documents d JOIN _repeat_ids "
                    "USING (doc_id) WHERE d.run_id IS DISTINCT FROM ?", [self.run_id]).fetchall())
            finally:
                ws.con.unregister("_repeat_ids")
        repeated = [(r.doc_id, r.source, r.row, r.excerpt) for r in self.repeats
                    if (r.digest != earlier[r.doc_id] if r.doc_id in earlier
                        else not r.same_as_first)]
        rows = conflicts + repeated
        if rows:
            ids, sources, lines, excerpts = zip(*rows, strict=True)
            ws.insert("rejects", pd.DataFrame({
                "run_id": self.run_id, "source": sources, "row": lines, "doc_id": ids,
                "reason": CONFLICT, "detail": [CONFLICT_DETAIL.format(i) for i in ids],
                "excerpt": excerpts}))
        return len(self.repeats) - len(repeated)
