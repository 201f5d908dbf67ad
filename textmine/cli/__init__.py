"""The `textmine` command: a thin typer shell over the library (commands live in cli/commands/)."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from textmine import __version__
from textmine.cli import common

app = typer.Typer(
    name="textmine",
    help="Chinese reviews and service chats → cleaned, masked, scored results in a DuckDB workspace.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textmine {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    common.STATE.debug = debug


def _register_commands() -> None:
    """Every module in textmine.cli.commands registers its commands (one module per area)."""
    from textmine.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"textmine.cli.commands.{info.name}")
        module.register(app)


_register_commands()


def main() -> None:
    app()
