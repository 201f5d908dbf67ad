"""Read-only SQL over a workspace, for analysts (`textmine sql`)."""

from __future__ import annotations

import duckdb
import pandas as pd

from textmine.errors import TextmineError
from textmine.workspace import open_workspace

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def run_sql(workspace: str, query: str) -> pd.DataFrame:
    """Run one or more read-only statements; return the last result as a DataFrame."""
    with open_workspace(workspace, read_only=True) as ws:
        try:
            statements = ws.con.extract_statements(query)
        except duckdb.Error as exc:
            raise TextmineError("E012", str(exc).splitlines()[0][:200],
                                fix="Check the SQL syntax (DuckDB dialect).") from exc
        if not statements:
            raise TextmineError("E019", "empty query", fix='Pass a query such as "SELECT count(*) FROM documents".')
        for statement in statements:
            if statement.type not in _ALLOWED:
                raise TextmineError("E011", statement.type.name,
                                    fix="Use SELECT; change data with textmine commands instead.")
        frame = pd.DataFrame()
        try:
            for statement in statements:
                frame = ws.con.execute(statement).df()
        except duckdb.Error as exc:
            raise TextmineError("E012", str(exc).splitlines()[0][:200],
                                fix=f"Tables: {', '.join(ws.tables())}.") from exc
        return frame
