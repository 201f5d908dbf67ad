"""`textmine analyze`: every row stored, counted as a duplicate, or rejected with a reason."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA
from textmine.cli import app

runner = CliRunner()
PLANTED = json.loads((CORPORA / "planted.json").read_text(encoding="utf-8"))


def analyze(*args: str) -> tuple[int, dict | str]:
    result = runner.invoke(app, ["analyze", *args, "--json", "--quiet"])
    if result.exit_code != 0:
        return result.exit_code, result.output
    return result.exit_code, json.loads(result.stdout)


def rows(ws: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(ws), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_reviews_corpus_every_row_accounted(workspace: Path) -> None:
    code, out = analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace))
    assert code == 0, out
    assert out["in"] == 485
    assert out["in"] == out["stored"] + out["duplicates"] + out["rejected"]
    assert out["stored"] == PLANTED["clean_rows"]
    messy = PLANTED["messy"]
    assert out["rejected_by_reason"] == {"empty_text": 2, "bad_time": 1, "duplicate_id_conflict": 1}
    assert out["duplicates"] == 1
    rejected = dict(rows(workspace, "SELECT doc_id, reason FROM rejects"))
    for doc_id in messy["empty_text"]:
        assert rejected[doc_id] == "empty_text"
    assert rejected[messy["unparseable_time"][0]] == "bad_time"
    assert rejected[messy["same_id_different_text"]] == "duplicate_id_conflict"
    assert rows(workspace, "SELECT count(*), count(DISTINCT doc_id) FROM documents") == [(480, 480)]


def test_loading_the_same_file_twice_stores_nothing_new(workspace: Path) -> None:
    analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace))
    code, out = analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace))
    assert code == 0
    assert out["stored"] == 0
    assert out["duplicates"] == 480 + 1  # stored rows + the exact duplicate row
    assert out["in"] == out["stored"] + out["duplicates"] + out["rejected"]
    assert rows(workspace, "SELECT count(*) FROM documents") == [(480,)]
    assert rows(workspace, "SELECT count(*) FROM runs") == [(2,)]


def test_ids_stay_strings_with_leading_zeros(workspace: Path) -> None:
    analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace))
    raw = pd.read_csv(CORPORA / "reviews.csv", dtype=str)
    expected = set(raw["用户ID"].dropna())
    stored = {r[0] for r in rows(workspace, "SELECT DISTINCT customer_id FROM documents")}
    assert stored <= expected
    assert any(c.startswith("00") for c in stored)
    types = dict(rows(workspace, "SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'documents'"))
    assert types["customer_id"] == "VARCHAR" and types["doc_id"] == "VARCHAR"


def test_gbk_file_is_detected_and_read(workspace: Path) -> None:
    code, out = analyze(str(CORPORA / "reviews_gbk.csv"), "-w", str(workspace))
    assert code == 0, out
    assert out["stored"] == 60
    assert out["sources"][0]["columns"]["text"] == "内容"
    texts = [r[0] for r in rows(workspace, "SELECT text FROM documents")]
    assert all(re.search(r"[\u4e00-\u9fff]", t) for t in texts)


def test_no_raw_pii_reaches_the_workspace_or_rejects(workspace: Path, tmp_path: Path) -> None:
    rejects_file = tmp_path / "rejects.csv"
    analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace), "--rejects", str(rejects_file))
    stored = "\n".join(str(r) for r in rows(workspace, "SELECT * FROM documents"))
    stored += "\n".join(str(r) for r in rows(workspace, "SELECT * FROM rejects"))
    stored += rejects_file.read_text(encoding="utf-8-sig")
    digits_only = re.sub(r"\D", "", stored)
    for item in PLANTED["pii"]:
        for kind, value in item["values"]:
            if kind.startswith("ORDER"):
                continue
            assert value not in stored, (kind, value)
            if kind != "EMAIL":
                compact = re.sub(r"\D", "", value)
                assert compact not in digits_only, (kind, value)


def test_rejects_file_lists_every_rejected_row(workspace: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "rejects.csv"
    code, out = analyze(str(CORPORA / "reviews.csv"), "-w", str(workspace), "--rejects", str(out_file))
    rejected = pd.read_csv(out_file, dtype=str, encoding="utf-8-sig")
    assert len(rejected) == out["rejected"]
    assert set(rejected.columns) >= {"source", "row", "reason", "detail"}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


@pytest.mark.parametrize("make, code, pattern", [
    (lambda d: d / "missing.csv", 2, r"missing\.csv: file not found"),
    (lambda d: write(d / "empty.csv", ""), 2, r"empty\.csv: file is empty"),
    (lambda d: (d / "bin.csv").write_bytes(b"\x00\x01\x02PK\x00" * 100) and d / "bin.csv", 2,
     r"bin\.csv: file looks binary"),
    (lambda d: write(d / "nums.csv", "编号,评分,时间\n1,5,2026-01-01\n"), 2,
     r"no text column found \(columns: 编号, 评分, 时间\)\. Use --text-col"),
])
def test_bad_input_is_one_line_exit_2_no_traceback(tmp_path: Path, make, code, pattern) -> None:
    path = make(tmp_path)
    result = runner.invoke(app, ["analyze", str(path), "-w", str(tmp_path / "ws.duckdb"), "-q"])
    assert result.exit_code == code
    assert re.search(pattern, result.output), result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "ws.duckdb").exists() or rows(
        tmp_path / "ws.duckdb", "SELECT count(*) FROM documents") == [(0,)]


def test_named_column_that_does_not_exist_lists_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "id,content\n1,很好\n")
    result = runner.invoke(app, ["analyze", str(path), "--text-col", "评论", "-w",
                                 str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2
    assert "Columns found: id, content" in result.output


def test_nan_text_huge_review_and_duplicate_ids_are_rejected_with_reasons(tmp_path: Path) -> None:
    huge = "太差了" * 350_000  # ~1 MB in one cell
    frame = pd.DataFrame({
        "评论ID": ["A1", "A2", "A3", "A1", "A1", "A4"],
        "评论内容": ["物流很快", None, huge, "物流很快", "另一段文字", "质量不错"],
    })
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    code, out = analyze(str(path), "-w", str(tmp_path / "w.duckdb"))
    assert code == 0, out
    assert (out["in"], out["stored"], out["duplicates"], out["rejected"]) == (6, 2, 1, 3)
    assert out["rejected_by_reason"] == {"empty_text": 1, "text_too_long": 1,
                                         "duplicate_id_conflict": 1}
    details = dict(rows(tmp_path / "w.duckdb", "SELECT reason, detail FROM rejects"))
    assert "--max-chars" in details["text_too_long"]


def test_malformed_csv_rows_become_rejects(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", 'id,text\n1,好评\n2,"多,了",一列\n3,差评\n')
    code, out = analyze(str(path), "-w", str(tmp_path / "w.duckdb"))
    assert code == 0, out
    assert (out["in"], out["stored"], out["rejected"]) == (3, 2, 1)
    assert out["rejected_by_reason"] == {"unreadable_row": 1}


def test_plain_summary_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text\n很好\n\n差\n")
    result = runner.invoke(app, ["analyze", str(path), "-w", str(tmp_path / "w.duckdb"), "-q"])
    assert result.exit_code == 0
    assert "in 2 · stored 2 · duplicates 0 · rejected 0" in result.output


def test_a_run_killed_midway_leaves_the_previous_state_and_a_rerun_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textmine import analyze as engine
    from textmine.config import Config

    ws = tmp_path / "w.duckdb"
    first = tmp_path / "a.csv"
    pd.DataFrame({"id": ["x1", "x2"], "text": ["好", "差"]}).to_csv(first, index=False)
    engine.analyze([first], config=Config(workspace=str(ws), workers=1))
    second = tmp_path / "b.csv"
    pd.DataFrame({"id": [f"y{i}" for i in range(30)], "text": ["不错"] * 30}).to_csv(second, index=False)

    calls = {"n": 0}
    real = engine.analyze_batch

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "analyze_batch", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        engine.analyze([second], config=Config(workspace=str(ws), workers=1, batch_size=10))
    assert rows(ws, "SELECT count(*) FROM documents") == [(2,)]
    assert rows(ws, "SELECT count(*) FROM runs") == [(1,)]

    monkeypatch.setattr(engine, "analyze_batch", real)
    result = engine.analyze([second], config=Config(workspace=str(ws), workers=1, batch_size=10))
    assert result.stored == 30
    assert rows(ws, "SELECT count(*) FROM documents") == [(32,)]


def test_process_pool_gives_the_same_results_as_in_process(tmp_path: Path) -> None:
    from textmine.analyze import analyze as run
    from textmine.config import Config

    frame = pd.read_csv(CORPORA / "reviews.csv", dtype=str)
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    one = run([path], config=Config(workspace=str(tmp_path / "one.duckdb"), workers=1, batch_size=50))
    two = run([path], config=Config(workspace=str(tmp_path / "two.duckdb"), workers=2, batch_size=50))
    assert one.to_dict()["in"] == two.to_dict()["in"]
    assert (one.stored, one.duplicates, one.rejected) == (two.stored, two.duplicates, two.rejected)
    query = "SELECT doc_id, text, tokens, sentiment, polarity FROM documents ORDER BY doc_id"
    assert rows(tmp_path / "one.duckdb", query) == rows(tmp_path / "two.duckdb", query)
