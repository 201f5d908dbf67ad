"""Export, read-only SQL, the file-to-file commands, help texts and the demo."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA
from textmine.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("ws") / "ws.duckdb"
    result = runner.invoke(app, ["analyze", str(CORPORA / "reviews.csv"), "-w", str(ws), "-q"])
    assert result.exit_code == 0, result.output
    return ws


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".xlsx"])
def test_export_documents_one_row_per_document(analysed: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"docs{suffix}"
    result = runner.invoke(app, ["export", "-w", str(analysed), "--table", "documents", "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".parquet":
        frame = pd.read_parquet(out)
        assert isinstance(frame["tokens"].iloc[0].tolist(), list)
    elif suffix == ".csv":
        frame = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    elif suffix == ".jsonl":
        frame = pd.read_json(out, lines=True, dtype={"customer_id": str, "doc_id": str})
    else:
        frame = pd.read_excel(out, dtype=str)
    assert len(frame) == 480 and frame["doc_id"].is_unique
    for col in ("doc_id", "kind", "customer_id", "created_at", "rating", "text", "tokens",
                "sentiment", "polarity", "is_complaint"):
        assert col in frame.columns
    assert "source_hash" not in frame.columns
    assert frame["customer_id"].astype(str).str.match(r"^\d{6}$").all()


def test_excel_export_keeps_ids_as_text_with_a_frozen_header(analysed: Path, tmp_path: Path) -> None:
    out = tmp_path / "docs.xlsx"
    runner.invoke(app, ["export", "-w", str(analysed), "-o", str(out)])
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    col = header.index("customer_id") + 1
    values = [sheet.cell(row=r, column=col).value for r in range(2, 50)]
    assert all(isinstance(v, str) and len(v) == 6 for v in values)


def test_sql_is_read_only(analysed: Path) -> None:
    ok = runner.invoke(app, ["sql", "-w", str(analysed), "--json",
                             "SELECT polarity, count(*) AS n FROM documents GROUP BY 1 ORDER BY 1"])
    assert ok.exit_code == 0
    counts = {r["polarity"]: r["n"] for r in json.loads(ok.stdout)}
    assert sum(counts.values()) == 480
    for statement in ("DELETE FROM documents", "DROP TABLE documents",
                      "COPY documents TO '/tmp/x.csv'"):
        bad = runner.invoke(app, ["sql", "-w", str(analysed), statement])
        assert bad.exit_code == 2 and "read-only" in bad.output
    still = runner.invoke(app, ["sql", "-w", str(analysed), "--json", "SELECT count(*) AS n FROM documents"])
    assert json.loads(still.stdout) == [{"n": 480}]


def test_sql_on_a_missing_workspace_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sql", "-w", str(tmp_path / "none.duckdb"), "SELECT 1"])
    assert result.exit_code == 2 and "workspace not found" in result.output


def test_sentiment_file_keeps_every_column_and_row(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    pd.DataFrame({"编号": ["001", "002", "003"], "渠道": ["天猫", "京东", "抖音"],
                  "评论": ["质量很好，推荐", "", "太差了，电话13812345678"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["sentiment", str(src), "-o", str(out), "--text-col", "评论"])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert list(frame.columns) == ["编号", "渠道", "评论", "sentiment", "polarity"]
    assert frame["编号"].tolist() == ["001", "002", "003"]
    assert frame["polarity"].tolist()[0] == "positive" and frame["polarity"].tolist()[2] == "negative"
    assert frame["sentiment"].iloc[1] == ""  # empty text: kept, not scored
    assert "13812345678" not in out.read_text(encoding="utf-8-sig")


def test_segment_file_adds_tokens(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "物流很快"}\n{"text": "包装破损了"}\n', encoding="utf-8")
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["segment", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    tokens = pd.read_parquet(out)["tokens"].map(list).tolist()
    assert "物流" in tokens[0] and "破损" in tokens[1]


COMMANDS = ["analyze", "segment", "sentiment", "export", "sql", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_chinese_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "textmine" in result.output and any("\u4e00" <= ch <= "\u9fff" for ch in result.output)


def test_lexicons_show_counts_a_user_folder(tmp_path: Path) -> None:
    folder = tmp_path / "lex"
    folder.mkdir()
    (folder / "stopwords.txt").write_text("\ufeff# 我们的停用词\r\n亲亲\r\n-的\r\n", encoding="utf-8")
    base = json.loads(runner.invoke(app, ["lexicons", "show", "--json"]).stdout)
    ours = json.loads(runner.invoke(app, ["lexicons", "show", "--json", "--lexicons", str(folder)]).stdout)
    assert ours["counts"]["stopwords"] == base["counts"]["stopwords"]  # +亲亲 -的
    assert ours["digest"] != base["digest"]
    shown = runner.invoke(app, ["lexicons", "show", "--lexicons", str(folder), "--word", "亲亲"])
    assert "stopword=True" in shown.output
