"""`textmine sessions`: the chat sessions that ended worst, and one session's turns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

SESSIONS_HELP = """Chat sessions with their outcome: escalation, bad ending, risk, repeat contacts.

Sessions are built by `textmine analyze FILE --kind chats` (one row per session).
"""

LIST_HELP = """List chat sessions, riskiest first.

`risk` (0..1) is how likely the customer left unhappy, from the customer's own messages only
(last message, low point, trend, 还是不行-style phrases, repeated questions, an unanswered last
message, escalation such as 转人工/投诉/12315). `ended_badly` is risk ≥ 0.5.

Example:

    textmine analyze 客服聊天记录.csv --kind chats
    textmine sessions list --bad --top 20
"""

SHOW_HELP = """Print one session's turns in order, with what each customer turn says.

A customer turn shows its sentiment and turn act (closing, resigned, ack, opinion, question,
other) and its flags (⚑投诉, ⚑未解决); agent and bot turns carry none.

Example:

    textmine sessions show S20261108002
"""


def register(app: typer.Typer) -> None:
    sessions = typer.Typer(help=SESSIONS_HELP, no_args_is_help=True)
    app.add_typer(sessions, name="sessions")

    @sessions.command("list", help=LIST_HELP)
    @handle_errors
    def list_cmd(
        top: int = typer.Option(20, "--top", "-n", help="How many sessions (0 = all)."),
        bad: bool = typer.Option(False, "--bad", help="Only sessions that ended badly."),
        escalated: bool = typer.Option(False, "--escalated", help="Only escalated sessions."),
        repeat: bool = typer.Option(False, "--repeat", help="Only repeat contacts."),
        customer: str = typer.Option(None, "--customer", help="Only this customer ID (e.g. 004518)."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
    ) -> None:
        from textmine.chats import list_sessions
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace), read_only=True) as ws:
            frame = list_sessions(ws, top, bad_only=bad, escalated_only=escalated,
                                  repeat_only=repeat, customer_id=customer)
        if json_out:
            print_json(_records(frame))
            return
        shown = pd.DataFrame({
            "session": frame["session_id"], "customer": frame["customer_id"],
            "started": frame["started_at"].dt.strftime("%Y-%m-%d %H:%M").fillna(""),
            "turns": frame["n_turns"], "end": frame["sentiment_end"],
            "min": frame["sentiment_min"], "risk": frame["risk"],
            "escalation": frame["escalation_reasons"].map(_joined),
            "repeat": frame["repeat_contact"].map({True: "yes", False: ""}),
            "why": frame["risk_reasons"].map(_joined)})
        with pd.option_context("display.max_columns", 50, "display.width", 250,
                               "display.float_format", "{:.2f}".format,
                               "display.unicode.east_asian_width", True):
            typer.echo(shown.to_string(index=False))

    @sessions.command("show", help=SHOW_HELP)
    @handle_errors
    def show_cmd(
        session_id: str = typer.Argument(..., help="A session ID (e.g. S20261108002)."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the turns as JSON."),
    ) -> None:
        from textmine.chats import session_turns
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace), read_only=True) as ws:
            turns = session_turns(ws, session_id)
        if json_out:
            print_json(_records(turns))
            return
        for row in turns.itertuples():
            mood = "" if pd.isna(row.sentiment) else f" [{row.sentiment:.2f}]"
            mood += "" if _missing(row.turn_act) else f" {row.turn_act}"
            flags = "".join(f" ⚑{c}" for c in _list(row.escalation)) + \
                (" ⚑未解决" if row.unresolved is not None and row.unresolved is not pd.NA
                 and bool(row.unresolved) else "")
            typer.echo(f"{row.turn:>3} {row.role or '?':<8}{mood}{flags} {row.text}")


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows for JSON: NaN/NaT become null, lists stay lists."""
    rows = frame.to_dict(orient="records")
    return [{k: (_list(v) if isinstance(v, np.ndarray) else None if _missing(v) else v)
             for k, v in row.items()} for row in rows]


def _missing(value: object) -> bool:
    return not isinstance(value, (list, tuple, np.ndarray)) and bool(pd.isna(value))


def _list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple, np.ndarray)) else []


def _joined(value: object) -> str:
    return ",".join(_list(value))
