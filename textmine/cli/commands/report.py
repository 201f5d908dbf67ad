"""`textmine report`: the complaint report as one HTML page, and optionally its Excel twin."""

from __future__ import annotations

import shlex
from datetime import date

import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

REPORT_HELP = """Write the complaint report: one self-contained HTML page (opens offline, e.g.
from an e-mail attachment) and, with --xlsx, the same tables as an Excel workbook.

The period is the 7 days up to the newest document unless --since/--until are given; every
figure is compared with the period of the same length just before. Sections whose data is not
in the workspace yet (topics, sessions …) say so in the report.

Example:

    textmine report -w 客服.duckdb -o 投诉周报.html --xlsx 投诉周报.xlsx --since 2026-11-09 --product 无线耳机X2
"""


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    from textmine.errors import TextmineError

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TextmineError("E015", f"{flag} {value}", fix=f"Write {flag} as YYYY-MM-DD.") from None


def register(app: typer.Typer) -> None:
    @app.command("report", help=REPORT_HELP)
    @handle_errors
    def report_cmd(
        out: str = typer.Option(..., "--out", "-o", help="HTML file to write (e.g. report.html)."),
        xlsx: str = typer.Option(None, "--xlsx", help="Also write the tables to this .xlsx file."),
        since: str = typer.Option(None, "--since", help="First day of the period (YYYY-MM-DD)."),
        until: str = typer.Option(None, "--until", help="Last day of the period (YYYY-MM-DD)."),
        product: str = typer.Option(None, "--product", help="Only this product (e.g. 无线耳机X2)."),
        title: str = typer.Option("投诉周报", "--title", help="Title at the top of the report."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the paths and the period as JSON."),
    ) -> None:
        from textmine.errors import TextmineError
        from textmine.report import build_report
        from textmine.workspace import open_workspace

        first, last = _date(since, "--since"), _date(until, "--until")
        if first and last and first > last:
            raise TextmineError("E015", f"--since {since} is after --until {until}",
                                fix="Give --since on or before --until.")
        if xlsx and not xlsx.lower().endswith(".xlsx"):
            raise TextmineError("E014", xlsx, where="--xlsx", fix="Name the Excel file *.xlsx.")
        args = ["textmine", "report", "-o", out]
        for flag, value in (("--xlsx", xlsx), ("--since", since), ("--until", until),
                            ("--product", product), ("--workspace", workspace)):
            if value:
                args += [flag, value]
        if title != "投诉周报":
            args += ["--title", title]
        with open_workspace(resolve_workspace(workspace), read_only=True) as ws:
            result = build_report(ws, out, xlsx_path=xlsx, since=first, until=last,
                                  product=product, title=title, command=shlex.join(args))
        if json_out:
            print_json(result.to_dict())
            return
        typer.echo(f"report {result.window.since} … {result.window.until}: {result.html} "
                   f"({result.html_bytes / 1e6:.1f} MB)")
        if result.xlsx:
            typer.echo(f"excel: {result.xlsx}")
        for line in result.missing:
            typer.echo(f"  not in this report: {line}")
