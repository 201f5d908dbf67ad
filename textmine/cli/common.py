"""What every command shares: error handling, common options, progress on stderr, JSON output."""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import typer

from textmine.errors import TextmineError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    debug: bool = False


STATE = State()


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"textmine: {message}", err=True)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """One line on stderr and a non-zero exit for user errors; tracebacks only with --debug."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except TextmineError as exc:
            if STATE.debug:
                traceback.print_exc()
            fail(exc.message(), exc.exit_code)
        except BrokenPipeError:
            # `textmine … | head` closed the pipe: not an error worth a message.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            fail("interrupted; the workspace keeps its previous state", 130)
        except Exception as exc:  # an internal bug: still one line unless --debug
            if STATE.debug:
                traceback.print_exc()
            first = str(exc).splitlines()[0] if str(exc) else ""
            fail(f"internal error: {type(exc).__name__}: {first[:200]} "
                 "(run with --debug for the traceback and report it)", 1)

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@contextmanager
def progress_bar(enabled: bool, description: str = "analyze") -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing on stderr (silenced by --quiet or when stderr is no terminal)."""
    if not enabled or not sys.stderr.isatty():
        yield lambda phase, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total or None)
            bar.update(tasks[phase], completed=done, total=total or None)

        yield update


WORKSPACE_HELP = "Workspace: a DuckDB file (default ./textmine.duckdb) or a Spark output folder."


def workspace_option() -> Any:
    return typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP)


def resolve_workspace(workspace: str | None) -> str:
    from textmine.config import load_config

    return workspace or load_config().workspace
