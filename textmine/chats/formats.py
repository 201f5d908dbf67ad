"""Reshape chat exports (transcripts, nested JSON dialogues) into one row per turn."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from textmine.columns import resolve_columns
from textmine.load import ROW, Source, UnreadableRow, _cell_to_str, _load_json

TURNS_KEYS = ("turns", "messages", "dialogue", "dialog", "conversation")
SENDER_KEYS = ("sender", "role", "speaker", "from", "author")
TEXT_KEYS = ("utterances", "utterance", "text", "content", "message", "body")
SESSION_ID = "session_id"  # the column nested dialogues' `id` becomes
ROLE, TURN, TEXT = "role", "turn", "text"  # columns added to transcripts and dialogues

_SNIFF_ROWS = 200
_LINE_TIME = re.compile(
    r"^\s*\[?\s*(?P<time>(?:\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*)?\d{1,2}:\d{2}(?::\d{2})?)\s*\]?\s*")
_SPEAKER = re.compile(r"^(?P<label>[^:：\n]{1,24}?)\s*[:：]\s?(?P<text>.*)$", re.S)
_DATE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")


def expand_chat_source(source: Source, role_of: dict[str, str] | None = None) -> Source:
    """One row per turn: transcripts and nested dialogues are reshaped, long format passes.

    - nested JSON dialogues (`[{"id", "turns": [{"sender", "utterances": [...]}]}]`, also as
      JSON Lines): each turn becomes a row with `session_id` (from `id` when the dialogue has
      no session column), `role`, `text` (a turn's utterances joined by line breaks) and
      `turn` (1-based within the dialogue); other dialogue keys are repeated on every turn.
    - transcripts (one row per session, a cell with lines `客户：…` / `客服：…`): each line
      that starts with a known speaker opens a turn; other lines continue the previous turn.
      The transcript cell is replaced by the turn's text, `role` and `turn` are added, and the
      session's time is kept on its first turn only (later turns have no time unless a line
      carries one, e.g. `[10:05:42] 客户：…`).
    Rows keep `_row` = the input row (the session), so rejects point at the right line.
    """
    role_of = role_of if role_of is not None else _shipped_roles()
    if source.format in ("json", "jsonl"):
        turns_key = next((c for c in source.columns if c.lower() in TURNS_KEYS), None)
        if turns_key is not None:
            return DialogueSource(source.path, source.format, source.encoding,
                                  source.delimiter, inner=source, turns_key=turns_key)
    if resolve_columns(source.columns, required=())["role"] is not None:
        return source
    column = _transcript_column(source, role_of)
    if column is None:
        return source
    return TranscriptSource(source.path, source.format, source.encoding, source.delimiter,
                            inner=source, column=column, role_of=role_of)


@cache
def _shipped_roles() -> dict[str, str]:
    from textmine.lexicons import load_lexicons

    return load_lexicons().role_of


# -- transcripts ------------------------------------------------------------------------------

def split_transcript(cell: str, role_of: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """`客户：你好\\n客服：您好` -> [(speaker, text, time or None), …] in order.

    A line opens a turn when its label (text before the first colon) is a known role alias or
    starts with one (客服小林, 买家tb_123); any other line continues the previous turn, so a
    message that itself contains `订单号：123` stays whole.
    """
    turns: list[list] = []
    for line in cell.splitlines():
        time_match = _LINE_TIME.match(line)
        rest = line[time_match.end():] if time_match and _SPEAKER.match(line[time_match.end():]) else line
        match = _SPEAKER.match(rest)
        speaker = speaker_alias(match.group("label"), role_of) if match else None
        if speaker is not None:
            stamp = time_match.group("time") if time_match and rest is not line else None
            turns.append([speaker, match.group("text").strip(), stamp])
        elif turns:
            turns[-1][1] = f"{turns[-1][1]}\n{line.strip()}".strip()
        elif line.strip():
            turns.append([None, line.strip(), None])
    return [(s, t, stamp) for s, t, stamp in turns]


def speaker_alias(label: str, role_of: dict[str, str]) -> str | None:
    """The role alias a speaker label names (`客服小林` -> `客服`), or None."""
    key = label.strip().lower()
    if key in role_of:
        return key
    best = None
    for alias in role_of:
        if key.startswith(alias) and (best is None or len(alias) > len(best)):
            # A Latin alias must end at a word boundary: "cs" is not a prefix of "csdn".
            nxt = key[len(alias)]
            if alias.isascii() and nxt.isascii() and nxt.isalnum():
                continue
            best = alias
    return best


def _transcript_column(source: Source, role_of: dict[str, str]) -> str | None:
    """The column whose cells read as transcripts (most rows open with a known speaker)."""
    try:
        raw, _ = next(source.batches(_SNIFF_ROWS))
    except StopIteration:
        return None
    best, best_share = None, 0.0
    for col in raw.columns:
        if col == ROW:
            continue
        cells = [c for c in raw[col].head(_SNIFF_ROWS) if isinstance(c, str) and c.strip()]
        if not cells:
            continue
        hits = sum(1 for c in cells if _opens_with_speaker(c, role_of))
        share = hits / len(cells)
        if share > best_share:
            best, best_share = col, share
    return best if best_share >= 0.5 else None


def _opens_with_speaker(cell: str, role_of: dict[str, str]) -> bool:
    first = next((line for line in cell.splitlines() if line.strip()), "")
    time_match = _LINE_TIME.match(first)
    if time_match and _SPEAKER.match(first[time_match.end():]):
        first = first[time_match.end():]
    match = _SPEAKER.match(first)
    return bool(match) and speaker_alias(match.group("label"), role_of) is not None


@dataclass
class TranscriptSource(Source):
    """A one-row-per-session export read as one row per turn."""

    inner: Source | None = None
    column: str = ""
    role_of: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        inner = self.inner
        added = [c for c in (ROLE, TURN) if c not in inner.columns]
        self.columns = list(inner.columns) + added
        colmap = resolve_columns(inner.columns, required=())
        self._time_col = colmap["created_at"]
        self._session_col = colmap["session_id"]
        if self._session_col is None:
            self.columns.append(SESSION_ID)

    def batches(self, batch_size: int = 5000) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        for raw, bad in self.inner.batches(batch_size):
            rows: list[dict] = []
            for record in raw.to_dict("records"):
                rows.extend(self._turns(record))
            yield pd.DataFrame(rows, columns=self.columns + [ROW]).astype(object), bad

    def _turns(self, record: dict) -> list[dict]:
        cell = record.get(self.column)
        if self._session_col is None:
            record[SESSION_ID] = f"{self.path.stem}#{record[ROW]}"
        turns = split_transcript(cell, self.role_of) if isinstance(cell, str) else []
        if not turns:  # an empty transcript is one row that becomes an empty_text reject
            return [{**record, self.column: None, ROLE: None, TURN: None}]
        session_time = record.get(self._time_col) if self._time_col else None
        day = _DATE.search(session_time).group(0) if isinstance(session_time, str) and \
            _DATE.search(session_time) else None
        out = []
        for i, (speaker, text, stamp) in enumerate(turns, start=1):
            row = {**record, self.column: text or None, ROLE: speaker, TURN: str(i)}
            if self._time_col:
                row[self._time_col] = _turn_time(stamp, day, session_time if i == 1 else None)
            out.append(row)
        return out


def _turn_time(stamp: str | None, day: str | None, fallback: str | None) -> str | None:
    """A line's own time (with the session's date when it only has a clock time)."""
    if stamp is None:
        return fallback
    if _DATE.match(stamp):
        return stamp
    return f"{day} {stamp}" if day else fallback


# -- nested dialogues -------------------------------------------------------------------------

@dataclass
class DialogueSource(Source):
    """A JSON list of dialogues (each with a list of turns) read as one row per turn.

    The file is parsed here directly (not through the generic JSON reader, which would turn
    each dialogue's turns into a JSON string only for us to parse it again).
    """

    inner: Source | None = None
    turns_key: str = "turns"

    def __post_init__(self) -> None:
        inner = self.inner
        session_keys = [c for c in inner.columns if c != self.turns_key]
        has_session = resolve_columns(session_keys, required=())["session_id"] is not None
        self._rename = {} if has_session or "id" not in session_keys else {"id": SESSION_ID}
        session_cols = [self._rename.get(c, c) for c in session_keys]
        turn_keys: dict[str, None] = {}
        self._parsed: list | None = None
        if self.format == "json":
            data = inner.parsed if inner.parsed is not None else _load_json(self.path, self.encoding)
            inner.parsed = None
            self._parsed = data if isinstance(data, list) else [data]
            sample = enumerate(self._parsed[:_SNIFF_ROWS], start=1)
        else:
            sample = itertools.islice(self._dialogues(), _SNIFF_ROWS)
        for _, item in sample:
            turns = item.get(self.turns_key) if isinstance(item, dict) else None
            for turn in turns if isinstance(turns, list) else []:
                if isinstance(turn, dict):
                    turn_keys.update(dict.fromkeys(
                        k for k in turn if k not in SENDER_KEYS and k not in TEXT_KEYS))
        self.columns = list(dict.fromkeys(session_cols + list(turn_keys) + [ROLE, TEXT, TURN]))

    def _dialogues(self) -> Iterator[tuple[int, object]]:
        """(row, item) pairs: the position in a JSON array, or the line number in JSON Lines."""
        if self.format == "json":
            # The parse done for the column sniff is reused once: JSON arrays cost a full parse.
            data, self._parsed = self._parsed, None
            if data is None:
                data = _load_json(self.path, self.encoding)
                data = data if isinstance(data, list) else [data]
            yield from enumerate(data, start=1)
            return
        with open(self.path, encoding=self.encoding or "utf-8-sig") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError as exc:
                        yield number, UnreadableRow(number, f"line {number}: invalid JSON ({exc})"[:200])

    def batches(self, batch_size: int = 5000) -> Iterator[tuple[pd.DataFrame, list[UnreadableRow]]]:
        blocks: list[tuple[int, dict[str, object]]] = []  # (turns, column -> list or one value)
        n = 0
        bad: list[UnreadableRow] = []
        for row, item in self._dialogues():
            if isinstance(item, UnreadableRow):
                bad.append(item)
            elif not isinstance(item, dict):
                bad.append(UnreadableRow(row, "JSON item is not an object"))
            elif not isinstance(item.get(self.turns_key), list):
                bad.append(UnreadableRow(row, f"dialogue has no list of {self.turns_key}"))
            else:
                block = self._block(row, item)
                blocks.append(block)
                n += block[0]
            if n >= batch_size:
                yield self._frame(blocks), bad
                blocks, bad, n = [], [], 0
        if blocks or bad:
            yield self._frame(blocks), bad

    def _block(self, row: int, item: dict) -> tuple[int, dict[str, object]]:
        """One dialogue's rows as columns: session values once, turn values as lists."""
        block: dict[str, object] = {self._rename.get(k, k): _cell_to_str(v)
                                    for k, v in item.items() if k != self.turns_key}
        block[ROW] = row
        turns = item[self.turns_key]
        if not turns:  # counted: one row that becomes an empty_text reject
            block[TEXT] = None
            return 1, block
        n = len(turns)
        block[TURN] = _TURN_LABELS[:n] if n <= len(_TURN_LABELS) else [str(i) for i in range(1, n + 1)]
        plain = [_plain_turn(t) for t in turns]
        if all(p is not None for p in plain):  # the usual turn: only a sender and utterances
            block[ROLE] = [p[0] for p in plain]
            block[TEXT] = [p[1] for p in plain]
            return n, block
        fields = [_turn_fields(t) for t in turns]
        for key in dict.fromkeys(k for f in fields for k in f):
            block[key] = [f.get(key) for f in fields]
        return n, block

    def _frame(self, blocks: list[tuple[int, dict[str, object]]]) -> pd.DataFrame:
        columns = self.columns + [ROW]
        data: dict[str, list] = {c: [] for c in columns}
        for n, block in blocks:
            for c in columns:
                value = block.get(c)
                if isinstance(value, list):
                    data[c].extend(value)
                else:
                    data[c].extend([value] * n)
        return pd.DataFrame(data, columns=columns, dtype=object)


_TURN_LABELS = [str(i) for i in range(1, 65)]


def _plain_turn(turn: object) -> tuple[str | None, str | None] | None:
    """(role, text) of a turn holding only a sender and a list of string utterances, else None
    (`_turn_fields` reads the others)."""
    if type(turn) is not dict or len(turn) != 2:
        return None
    sender, utterances = turn.get("sender", _MISSING), turn.get("utterances", _MISSING)
    if sender is _MISSING or type(utterances) is not list:
        return None
    try:
        text = "\n".join(filter(None, map(str.strip, utterances))) or None
    except TypeError:  # a number or null among the utterances
        return None
    return (None if sender is None else str(sender)), text


_MISSING = object()


def _turn_fields(turn: object) -> dict[str, str | None]:
    """sender -> role, utterances (a list or a string) -> text, other keys kept as text."""
    if isinstance(turn, str):
        return {TEXT: turn or None}
    if not isinstance(turn, dict):
        return {TEXT: None}
    out: dict[str, str | None] = {}
    for key, value in turn.items():
        if key in SENDER_KEYS:
            out[ROLE] = None if value is None else str(value)
        elif key in TEXT_KEYS:
            out[TEXT] = _join_utterances(value)
        else:
            out[key] = _cell_to_str(value)
    out.setdefault(TEXT, None)
    return out


def _join_utterances(value: object) -> str | None:
    if isinstance(value, list):
        parts = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return "\n".join(parts) or None
    if value is None:
        return None
    return str(value).strip() or None
