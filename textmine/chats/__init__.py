"""Service chats: turn-level loading, speaker-aware signals, and the `sessions` table.

Importing this package registers the `speaker` stage, the `sessions` table and the POST_RUN
hook that recomputes the sessions a run touched (see `textmine.chats.sessions`).
"""

from __future__ import annotations

from typing import Any

from textmine import analyze
from textmine.chats.formats import expand_chat_source, split_transcript
from textmine.chats.risk import BAD_ENDING, WEIGHTS, session_risk
from textmine.chats.sessions import (
    REPEAT_DAYS,
    SESSIONS,
    compute_sessions,
    list_sessions,
    mark_repeat_contacts,
    refresh_sessions,
    session_turns,
    sessions_from_turns,
)
from textmine.chats.signals import chat_patterns, escalation_categories, speaker_stage
from textmine.config import Config
from textmine.pipeline import resources_for
from textmine.workspace import Workspace


def sessions_after_run(ws: Workspace, run_id: str, kind: str, config: Config) -> dict[str, Any]:
    """POST_RUN hook: recompute every session that got new turns in this run."""
    if kind != "chat":
        return {}
    touched = [r[0] for r in ws.con.execute(
        "SELECT DISTINCT session_id FROM documents WHERE run_id = ? AND kind = 'chat' "
        "AND session_id IS NOT NULL", [run_id]).fetchall()]
    if not touched:
        return {"sessions": {"sessions": 0}}
    lexicons = resources_for(config).lexicons  # loaded once per process
    return {"sessions": refresh_sessions(ws, touched, lexicons, run_id)}


if sessions_after_run not in analyze.POST_RUN:
    analyze.POST_RUN.append(sessions_after_run)

__all__ = ["expand_chat_source", "split_transcript", "session_risk", "compute_sessions",
           "refresh_sessions", "mark_repeat_contacts", "list_sessions", "session_turns",
           "sessions_from_turns", "sessions_after_run", "chat_patterns",
           "escalation_categories", "speaker_stage", "SESSIONS", "BAD_ENDING", "WEIGHTS",
           "REPEAT_DAYS"]
