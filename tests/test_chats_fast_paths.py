"""The fast paths of chat analysis give exactly what the plain paths give.

Batch scans run RE2 (Arrow) instead of Python's re, turn IDs are numbered column-wise, the
question flag is stored once instead of re-detected in SQL, nested JSON is reshaped per batch.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from tests.conftest import CORPORA
from textmine.analyze import analyze
from textmine.chats import chat_patterns, refresh_sessions
from textmine.chats.signals import rows_matching
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.workspace import open_workspace

LEXICONS = load_lexicons()
PATTERNS = chat_patterns(LEXICONS)
EDGE_CASES = [
    "我要打12315", "订单号1231567890", "电话012315", "12315", "a12315b", "１２３１５投诉",
    "在吗", "好吗 \n", "好吗\u3000", "好吗~~", "吗？", "为啥不发货", "投诉你们", "我要投诉",
    "转人工", "THANK YOU!", "Thanks", "还是不行。", "说了好几次了", "", "\n", "谢谢\0投诉",
]


def chat_texts() -> list[str]:
    frame = pd.read_csv(CORPORA / "chats.csv", dtype=str)
    column = next(c for c in frame.columns if c in ("内容", "text", "消息内容"))
    return frame[column].dropna().tolist() + EDGE_CASES


@pytest.mark.parametrize("scan, pattern, lower", [
    ("escalation", PATTERNS.escalation, False),
    ("unresolved", PATTERNS.unresolved, False),
    ("complaint", PATTERNS.complaint, False),
    ("closing", PATTERNS.closing, True),
    ("question", PATTERNS.question, False),
])
def test_batch_scans_match_exactly_the_texts_the_python_patterns_match(
        scan: str, pattern, lower: bool) -> None:
    texts = [t.lower() for t in chat_texts()] if lower else chat_texts()
    expected = [pattern.search(t) is not None for t in texts]
    assert any(expected)
    assert rows_matching(PATTERNS.scan[scan], pa.array(texts, pa.string())).tolist() == expected


def test_turns_stored_without_the_question_flag_give_the_same_sessions(tmp_path: Path) -> None:
    """A workspace written before the speaker stage stored `question` is read by SQL instead."""
    ws = tmp_path / "ws.duckdb"
    analyze([CORPORA / "chats.csv"], kind="chats", config=Config(workspace=str(ws), workers=1))
    query = "SELECT * EXCLUDE (run_id, updated_at) FROM sessions ORDER BY session_id"
    with open_workspace(ws) as w:
        before = w.query(query)
        assert w.con.execute("SELECT count(*) FROM documents WHERE question").fetchone()[0] > 0
        with w.transaction():
            w.con.execute("UPDATE documents SET question = NULL")
            refresh_sessions(w, None, LEXICONS)
        after = w.query(query)
    assert before["unanswered"].any()
    pd.testing.assert_frame_equal(after, before)


def test_turns_are_numbered_the_same_whatever_the_batch_size(tmp_path: Path) -> None:
    """No turn column: turns count per session over the whole run, across batches and files;
    a repeated message ID in the same batch is a duplicate, in a later one a conflict."""
    rows = [("S1", "客户", "耳机没声音"), ("S2", "客户", "在吗"), ("S1", "客服", "您好"),
            ("S1", "客户", "还是不行"), ("S2", "客服", "在的"), ("S1", "客户", "好的谢谢")]
    first = tmp_path / "a.csv"
    pd.DataFrame(rows, columns=["会话ID", "角色", "内容"]).to_csv(first, index=False)
    second = tmp_path / "b.csv"  # the same sessions continue in a second file
    pd.DataFrame([("S2", "客户", "好的"), ("S1", "客服", "不客气")],
                 columns=["会话ID", "角色", "内容"]).to_csv(second, index=False)
    with_ids = tmp_path / "c.csv"
    pd.DataFrame([("m1", "S9", "客户", "你好"), ("m1", "S9", "客户", "你好"),
                  ("m2", "S9", "客服", "您好"), ("m1", "S9", "客户", "换了一句")],
                 columns=["消息ID", "会话ID", "角色", "内容"]).to_csv(with_ids, index=False)

    def stored(batch_size: int) -> tuple[list[tuple], tuple[int, int, int]]:
        ws = tmp_path / f"ws{batch_size}.duckdb"
        result = analyze([first, second, with_ids], kind="chats",
                         config=Config(workspace=str(ws), workers=1, batch_size=batch_size))
        with duckdb.connect(str(ws), read_only=True) as con:
            turns = con.execute("SELECT doc_id, session_id, turn, text FROM documents "
                                "ORDER BY session_id, turn").fetchall()
        return turns, (result.stored, result.duplicates, result.rejected)

    turns, counts = stored(1000)
    assert [t[0] for t in turns if t[1] == "S1"] == ["S1:1", "S1:2", "S1:3", "S1:4", "S1:5"]
    assert [t[0] for t in turns if t[1] == "S2"] == ["S2:1", "S2:2", "S2:3"]
    assert [t[0] for t in turns if t[1] == "S9"] == ["m1", "m2"]
    assert counts == (10, 1, 1)
    for size in (1, 2, 3):
        assert stored(size) == (turns, counts)
