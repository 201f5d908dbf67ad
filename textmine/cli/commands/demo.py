"""`textmine demo`: run everything on the bundled corpora."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json


def register(app: typer.Typer) -> None:
    @app.command("demo", help="Run the whole pipeline on corpora/ into out/demo.duckdb and print a summary.\n\nThe bundled corpora are reviews (评论) and service chats (客服对话) written by the textmine team.\n\nExample:\n\n    textmine demo --corpora corpora --out out")
    @handle_errors
    def demo_cmd(
        corpora: str = typer.Option("corpora", "--corpora", help="Folder with the sample files."),
        out: str = typer.Option("out", "--out", help="Folder for the workspace and reports."),
        json_out: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    ) -> None:
        from pathlib import Path

        from textmine.demo import run_demo

        echo = (lambda _line: None) if json_out else typer.echo
        summary = run_demo(corpora, Path(out) / "demo.duckdb", out, echo=echo)
        if json_out:
            print_json(summary)
