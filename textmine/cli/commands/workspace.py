"""Reading the workspace: `textmine export` and `textmine sql` (read-only)."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

EXPORT_HELP = """Export a workspace table to a file; the format follows the extension.

`documents` has one row per document with the canonical columns (masked text, tokens,
sentiment, polarity, aspects, topics …).

Example:

    textmine export --table documents -o 评论结果.xlsx
"""

SQL_HELP = """Run a read-only SQL query (DuckDB dialect) on the workspace.

Example:

    textmine sql "SELECT polarity, count(*) AS n FROM documents WHERE product = '蓝牙耳机' GROUP BY 1"
"""


def register(app: typer.Typer) -> None:
    @app.command("export", help=EXPORT_HELP)
    @handle_errors
    def export_cmd(
        out: str = typer.Option(..., "--out", "-o", help="Output file (.parquet .csv .xlsx .jsonl)."),
        table: str = typer.Option("documents", "--table", "-t", help="documents, rejects, runs, sessions, customers, topics …"),
        workspace: str = workspace_option(),
    ) -> None:
        from textmine.export import export_table
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace), read_only=True) as ws:
            n = export_table(ws, table, out)
        typer.echo(f"exported {n:,} rows of {table} to {out}")

    @app.command("sql", help=SQL_HELP)
    @handle_errors
    def sql_cmd(
        query: str = typer.Argument(..., help="A SELECT statement."),
        workspace: str = workspace_option(),
        fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
        json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
        limit: int = typer.Option(200, "--limit", help="Rows to print in table format (0 = all)."),
    ) -> None:
        from textmine.sqlquery import run_sql

        frame = run_sql(resolve_workspace(workspace), query)
        if json_out or fmt == "json":
            print_json(frame.to_dict(orient="records"))
        elif fmt == "csv":
            typer.echo(frame.to_csv(index=False), nl=False)
        else:
            import pandas as pd

            shown = frame if not limit else frame.head(limit)
            with pd.option_context("display.max_columns", 50, "display.width", 200,
                                   "display.unicode.east_asian_width", True):
                typer.echo(shown.to_string(index=False))
            if limit and len(frame) > limit:
                typer.echo(f"… {len(frame) - limit:,} more rows (use --limit 0 or --format csv)")
