"""Which rows of a run are stored: first occurrence wins, across batches and across runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from textmine.analyze import analyze
from textmine.config import Config
from textmine.workspace import ROW_GROUP_ROWS, open_workspace
from textmine.writer import DocumentWriter


def reviews(path: Path, rows: list[tuple[str, str]]) -> Path:
    pd.DataFrame({"评论ID": [r[0] for r in rows], "评论内容": [r[1] for r in rows],
                  "评论时间": "2026-03-01 12:00:00"}).to_csv(path, index=False)
    return path


def run(path: Path, ws: Path, batch_size: int = 2):
    return analyze([path], config=Config(workspace=str(ws), workers=1, batch_size=batch_size))


def rejects(ws: Path) -> list[tuple[str, str]]:
    with open_workspace(ws) as w:
        return [tuple(r) for r in w.con.execute(
            "SELECT doc_id, reason FROM rejects ORDER BY doc_id, row").fetchall()]


def test_first_row_with_an_id_wins_across_batches(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    path = reviews(tmp_path / "a.csv", [("001", "质量很好"), ("002", "物流很慢"),
                                        ("001", "质量很好"), ("002", "完全不同的话")])
    result = run(path, ws)  # two rows per batch: the repeats arrive in the second batch
    assert (result.n_in, result.stored, result.duplicates, result.rejected) == (4, 2, 1, 1)
    assert rejects(ws) == [("002", "duplicate_id_conflict")]
    with open_workspace(ws) as w:
        assert w.con.execute("SELECT text FROM documents WHERE doc_id = '002'").fetchall() \
            == [("物流很慢",)]


@pytest.mark.parametrize(("repeat", "counts", "conflicts"), [
    # a repeat of a row that conflicts with the stored one conflicts too
    ("改过的文字", (1, 0, 2), 2),
    # each row is judged against the stored one, as if the run had been one table
    ("质量很好", (1, 1, 1), 1),
])
def test_repeats_are_judged_against_the_row_an_earlier_run_stored(
        tmp_path: Path, repeat: str, counts: tuple[int, int, int], conflicts: int) -> None:
    ws = tmp_path / "ws.duckdb"
    run(reviews(tmp_path / "week1.csv", [("001", "质量很好")]), ws)
    second = run(reviews(tmp_path / "week2.csv",
                         [("001", "改过的文字"), ("x", "别的"), ("001", repeat)]), ws)
    assert (second.stored, second.duplicates, second.rejected) == counts
    assert rejects(ws) == [("001", "duplicate_id_conflict")] * conflicts


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_chat_turn_ids_do_not_depend_on_batching(tmp_path: Path, batch_size: int) -> None:
    path = tmp_path / "chats.csv"
    pd.DataFrame({"会话ID": ["s1", "s2", "s1", "s1", "s2"],
                  "角色": ["客户", "客户", "客服", "客户", "客服"],
                  "内容": ["在吗", "退货", "您好", "还是不行", "好的"]}).to_csv(path, index=False)
    ws = tmp_path / f"ws{batch_size}.duckdb"
    analyze([path], kind="chats", config=Config(workspace=str(ws), workers=1,
                                                batch_size=batch_size))
    with open_workspace(ws) as w:
        got = w.con.execute("SELECT doc_id, turn, text FROM documents ORDER BY doc_id").fetchall()
    assert got == [("s1:1", 1, "在吗"), ("s1:2", 2, "您好"), ("s1:3", 3, "还是不行"),
                   ("s2:1", 1, "退货"), ("s2:2", 2, "好的")]


def test_writer_flushes_every_row_group_and_the_remainder(tmp_path: Path) -> None:
    with open_workspace(tmp_path / "ws.duckdb") as ws, ws.transaction():
        with DocumentWriter(ws, row_group=3) as writer:
            for start in range(0, 7, 2):
                writer.documents(pa.table({"doc_id": [f"d{i}" for i in range(start, start + 2)],
                                           "run_id": ["r"] * 2}))
        assert ws.count("documents") == 8


def test_writer_leaves_whole_row_groups_for_the_checkpoint(tmp_path: Path) -> None:
    # Partly filled row groups in the middle of a table are merged and compressed again when
    # the file is checkpointed (at close, after the run): only the last group may be partial.
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws, ws.transaction(), DocumentWriter(ws) as writer:
        for start in range(0, 50_000, 5_000):
            writer.documents(pa.table({"doc_id": [f"d{i}" for i in range(start, start + 5_000)],
                                       "run_id": ["r"] * 5_000}))
    with open_workspace(path) as ws:
        groups = [n for (n,) in ws.con.execute(
            "SELECT max(count) FROM pragma_storage_info('documents') "
            "WHERE column_name = 'doc_id' GROUP BY row_group_id ORDER BY row_group_id").fetchall()]
    assert groups == [ROW_GROUP_ROWS, ROW_GROUP_ROWS, 50_000 - 2 * ROW_GROUP_ROWS]


def test_writer_errors_reach_the_caller_and_nothing_is_kept(tmp_path: Path) -> None:
    with open_workspace(tmp_path / "ws.duckdb") as ws:
        with pytest.raises(Exception) as raised, ws.transaction(), \
                DocumentWriter(ws, row_group=1) as writer:
            writer.documents(pa.table({"doc_id": ["ok"], "run_id": ["r"]}))
            writer.documents(pa.table({"no_such_column": [1]}))
        chain = [raised.value, raised.value.__context__, raised.value.__cause__]
        assert any("no_such_column" in str(e) for e in chain if e is not None)
        assert ws.count("documents") == 0
