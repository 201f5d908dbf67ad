"""`analyze --engine spark`: the local engine's results, on Spark, in a folder every reader opens."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA, SHARED_DATA
from textmine.analyze import analyze
from textmine.cli import app
from textmine.config import Config

pytestmark = pytest.mark.spark
runner = CliRunner()
SHOPPING = SHARED_DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
# The canonical columns both engines store; `sentiment` is compared to 1e-9, the rest exactly.
COMPARED = ["doc_id", "kind", "source", "source_row", "customer_id", "order_id", "session_id",
            "product", "channel", "role", "turn", "created_at", "rating", "text", "tokens",
            "polarity", "aspects", "is_complaint", "topic_id", "topic_label", "topic_prob"]


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    """One local session for every Spark test; `local[2,2]` lets a failed task run again."""
    from textmine.spark.session import start_session

    session, started = start_session("local[2,2]", tmp_path_factory.mktemp("spark") / "spark.log")
    yield session
    if started:
        session.stop()


def review_texts() -> list[str]:
    if SHOPPING.exists():
        with open(SHOPPING, encoding="utf-8") as fh:
            return [r["review"] for r in csv.DictReader(fh) if r["review"]]
    rng = random.Random(3)
    parts = ["物流很快", "质量太差了", "客服态度很好", "包装破损", "性价比高", "不推荐购买",
             "颜色和图片不一样", "用了一周就坏了", "味道不错", "尺码偏小", "发货太慢了", "很满意"]
    return ["，".join(rng.sample(parts, rng.randint(2, 5))) + "！" for _ in range(5000)]


def write_reviews(path: Path, rows: int) -> Path:
    """`rows` reviews with an ID column, plus a duplicate, an ID conflict, an empty text and a
    bad time, so the dedup and reject rules are part of the comparison."""
    texts = review_texts()
    rng = random.Random(42)
    start = pd.Timestamp("2026-01-01")
    frame = pd.DataFrame({
        "评论ID": [f"R{i:08d}" for i in range(rows)],
        "用户ID": [f"{rng.randint(0, 99999):06d}" for _ in range(rows)],
        "评分": [str(rng.randint(1, 5)) for _ in range(rows)],
        "评论时间": [(start + pd.Timedelta(seconds=rng.randint(0, 300 * 86400))).strftime(
            "%Y-%m-%d %H:%M:%S") for _ in range(rows)],
        "评论内容": [texts[i % len(texts)] for i in range(rows)],
    })
    messy = frame.iloc[[10, 20, 30, 40]].copy()
    messy.iloc[1, messy.columns.get_loc("评论内容")] = "同一个编号，另一段文字：物流太慢了"
    messy.iloc[2, messy.columns.get_loc("评论内容")] = ""
    messy.iloc[2, messy.columns.get_loc("评论ID")] = "R-empty"
    messy.iloc[3, messy.columns.get_loc("评论时间")] = "昨天下午"
    messy.iloc[3, messy.columns.get_loc("评论ID")] = "R-time"
    pd.concat([frame, messy]).to_csv(path, index=False)
    return path


def export(workspace: Path | str, out: Path, table: str = "documents") -> pd.DataFrame:
    result = runner.invoke(app, ["export", "--workspace", str(workspace), "--table", table,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    return pd.read_parquet(out)


def assert_same_documents(local: pd.DataFrame, spark: pd.DataFrame) -> None:
    local = local.sort_values("doc_id", ignore_index=True)
    spark = spark.sort_values("doc_id", ignore_index=True)
    assert local["doc_id"].tolist() == spark["doc_id"].tolist()
    np.testing.assert_allclose(spark["sentiment"].to_numpy(float),
                               local["sentiment"].to_numpy(float), rtol=0, atol=1e-9)
    for col in [c for c in COMPARED if c in local.columns]:
        left = local[col].map(_plain).tolist()
        right = spark[col].map(_plain).tolist()
        assert left == right, f"column {col} differs"


def _plain(value: object) -> object:
    """Lists/structs as Python values and missing values as None, so engines compare equal."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def counts(result) -> dict:
    data = result.to_dict() if hasattr(result, "to_dict") else result
    return {k: data[k] for k in ("in", "stored", "duplicates", "rejected", "rejected_by_reason")}


def rejects_of(workspace: Path | str) -> list[tuple]:
    from textmine.sqlquery import run_sql

    frame = run_sql(str(workspace), "SELECT source, row, doc_id, reason, detail, excerpt "
                                    "FROM rejects ORDER BY source, row, reason")
    return [tuple(_plain(v) for v in r) for r in frame.itertuples(index=False)]


# -- the equivalence bar -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def sixty_thousand(spark, tmp_path_factory) -> dict:
    """60,000 reviews (+4 messy rows) through both engines."""
    tmp = tmp_path_factory.mktemp("equivalence")
    data = write_reviews(tmp / "reviews.csv", 60_000)
    local = analyze([data], config=Config(workspace=str(tmp / "local.duckdb"), workers=2))
    from textmine.spark import analyze_spark

    out = tmp / "spark_out"
    remote = analyze_spark([str(data)], kind="reviews", config=Config(), columns={},
                           master="local[2]", output=str(out))
    return {"tmp": tmp, "data": data, "local": local, "spark": remote,
            "local_ws": tmp / "local.duckdb", "out": out}


def test_spark_and_local_engines_agree_on_60000_reviews(sixty_thousand) -> None:
    run = sixty_thousand
    assert counts(run["spark"]) == counts(run["local"])
    assert run["spark"].n_in == 60_004
    assert run["spark"].rejected_by_reason == {"bad_time": 1, "duplicate_id_conflict": 1,
                                               "empty_text": 1}
    local = export(run["local_ws"], run["tmp"] / "local.parquet")
    remote = export(run["out"], run["tmp"] / "spark.parquet")
    assert len(remote) == run["spark"].stored == 60_000
    assert_same_documents(local, remote)
    assert rejects_of(run["out"]) == rejects_of(run["local_ws"])


def test_output_folder_layout_and_run_json(sixty_thousand) -> None:
    out = sixty_thousand["out"]
    months = sorted(p.name for p in (out / "documents").iterdir() if p.is_dir())
    assert months and all(m.startswith("month=2026-") for m in months)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["in"] == run["stored"] + run["duplicates"] + run["rejected"] == 60_004
    assert run["engine"] == "spark" and run["spark_startup_s"] >= 0


def test_reading_commands_work_on_the_spark_folder(sixty_thousand) -> None:
    out = str(sixty_thousand["out"])
    result = runner.invoke(app, ["sql", "--workspace", out, "--json",
                                 "select count(*) AS n, count(DISTINCT doc_id) AS ids "
                                 "from documents"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 60_000, "ids": 60_000}]
    result = runner.invoke(app, ["sql", "--workspace", out, "--json",
                                 "select n_in, n_stored from runs"])
    assert json.loads(result.stdout) == [{"n_in": 60_004, "n_stored": 60_000}]
    trends = runner.invoke(app, ["trends", "--workspace", out, "--by", "month", "--json"])
    assert trends.exit_code == 0, trends.output
    assert json.loads(trends.stdout)
    report = Path(sixty_thousand["tmp"]) / "report.html"
    result = runner.invoke(app, ["report", "--workspace", out, "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert report.stat().st_size > 10_000


# -- bad input, re-runs, tables ----------------------------------------------------------------

def bad_rows_file(path: Path) -> Path:
    path.write_text(
        "评论ID,评分,评论时间,评论内容\n"
        "B1,5,2026-03-01 10:00:00,很好用\n"
        "B2,五颗星星,2026-03-01 10:00:00,评分写错了\n"
        "B3,4,2026-03-01,\n"
        "B4,3,2026-03-01 10:00:00,多了一列,这里\n"
        ",2,2026-03-02 10:00:00,没有编号\n"
        "B5,1,2026-13-45 25:61:00,时间不对\n"
        "B1,5,2026-03-01 10:00:00,很好用\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def corpus_runs(spark, tmp_path_factory) -> dict:
    """The sample corpus (with its messy rows) and a file of bad rows, through both engines
    (Spark through the CLI, as the README shows it)."""
    tmp = tmp_path_factory.mktemp("corpus")
    files = [str(CORPORA / "reviews.csv"), str(bad_rows_file(tmp / "bad.csv"))]
    local = analyze(files, config=Config(workspace=str(tmp / "ws.duckdb")))
    cli = runner.invoke(app, ["analyze", *files, "--engine", "spark", "--master", "local[2]",
                              "--output", str(tmp / "out"), "--json"])
    assert cli.exit_code == 0, cli.output
    return {"tmp": tmp, "files": files, "local": local, "spark": json.loads(cli.stdout),
            "local_ws": tmp / "ws.duckdb", "out": tmp / "out"}


def test_bad_input_gets_the_same_outcomes_as_locally(corpus_runs) -> None:
    from textmine.spark import analyze_spark

    run, tmp = corpus_runs, corpus_runs["tmp"]
    assert counts(run["spark"]) == counts(run["local"])
    assert {"unreadable_row", "bad_rating", "empty_text", "empty_id", "bad_time",
            "duplicate_id_conflict"} <= set(run["spark"]["rejected_by_reason"])
    assert rejects_of(run["out"]) == rejects_of(run["local_ws"])
    assert_same_documents(export(run["local_ws"], tmp / "l.parquet"),
                          export(run["out"], tmp / "s.parquet"))
    # Re-running into the same folder dedups against what it holds, as a workspace does.
    again_local = analyze(run["files"], config=Config(workspace=str(run["local_ws"])))
    again = analyze_spark(run["files"], config=Config(), master="local[2]",
                          output=str(run["out"]))
    assert again.stored == 0
    assert counts(again) == counts(again_local)
    assert len(export(run["out"], tmp / "s2.parquet")) == run["spark"]["stored"]


def test_missing_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope.csv"), "--engine", "spark",
                                 "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "file not found" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_error_inside_an_executor_reaches_the_user_as_one_line(spark, tmp_path: Path) -> None:
    # Valid UTF-8 for the first megabyte (the part encoding detection reads), then a GBK row:
    # only the executor reading the file finds it.
    path = tmp_path / "late_gbk.csv"
    body = "".join(f"{i},物流很快，包装完好，客服态度很好，下次还来买，推荐给朋友们\n"
                   for i in range(20_000))
    path.write_bytes(("id,text\n" + body).encode("utf-8") + "99999,质量太差\n".encode("gbk"))
    local = runner.invoke(app, ["analyze", str(path), "-w", str(tmp_path / "ws.duckdb")])
    remote = runner.invoke(app, ["analyze", str(path), "--engine", "spark", "--master",
                                 "local[2]", "--output", str(tmp_path / "out")])
    assert local.exit_code == remote.exit_code == 2
    assert "[E005]" in remote.output and "Traceback" not in remote.output
    assert remote.output.strip().splitlines()[-1] == local.output.strip().splitlines()[-1]


def test_a_catalog_table_reads_like_the_file(spark, corpus_runs, tmp_path: Path) -> None:
    from textmine.spark import analyze_spark

    frame = pd.read_csv(CORPORA / "reviews.csv", dtype=str, keep_default_na=False)
    spark.createDataFrame(frame.replace("", None)).createOrReplaceTempView("shop_reviews")
    table = analyze_spark(["table:shop_reviews"], config=Config(), master="local[2]",
                          output=str(tmp_path / "table"))
    assert (table.n_in, table.stored, table.duplicates) == (485, 480, 1)
    assert table.rejected_by_reason == {"empty_text": 2, "bad_time": 1,
                                        "duplicate_id_conflict": 1}
    from_file = export(corpus_runs["out"], tmp_path / "f.parquet")
    from_file = from_file[from_file["source"] == "reviews.csv"].assign(source="table")
    from_table = export(tmp_path / "table", tmp_path / "t.parquet").assign(source="table")
    assert_same_documents(from_file, from_table)  # source_row too: dense, in table order


# -- faults ------------------------------------------------------------------------------------

def test_a_failed_task_is_retried_and_leaves_no_duplicate_rows(spark, corpus_runs, tmp_path: Path,
                                                                monkeypatch) -> None:
    from textmine.spark import analyze_spark
    from textmine.spark.tasks import FAIL_SWITCH

    marker = tmp_path / "failed-once"
    monkeypatch.setenv(FAIL_SWITCH, str(marker))
    # Small batches: a task hands one batch to the writer, then its first attempt fails.
    faulty = analyze_spark(corpus_runs["files"], config=Config(batch_size=20),
                           master="local[2,2]", output=str(tmp_path / "faulty"))
    assert marker.exists(), "the first attempt of partition 0 did not fail"
    assert counts(faulty) == counts(corpus_runs["spark"])
    assert_same_documents(export(corpus_runs["local_ws"], tmp_path / "clean.parquet"),
                          export(tmp_path / "faulty", tmp_path / "faulty.parquet"))


# -- chats -------------------------------------------------------------------------------------

def test_chats_turns_and_sessions_match_the_local_engine(spark, tmp_path: Path) -> None:
    from textmine.spark import analyze_spark

    chats = [str(CORPORA / "chats.csv")]
    local = analyze(chats, kind="chats", config=Config(workspace=str(tmp_path / "ws.duckdb")))
    remote = analyze_spark(chats, kind="chats", config=Config(), master="local[2]",
                           output=str(tmp_path / "out"))
    assert counts(remote) == counts(local)
    assert_same_documents(export(tmp_path / "ws.duckdb", tmp_path / "l.parquet"),
                          export(tmp_path / "out", tmp_path / "s.parquet"))
    keep = ["session_id", "customer_id", "n_turns", "n_customer_turns", "escalated",
            "unanswered", "repeat_contact", "previous_session_id", "ended_badly"]
    left = export(tmp_path / "ws.duckdb", tmp_path / "ls.parquet", "sessions")[keep]
    right = export(tmp_path / "out", tmp_path / "rs.parquet", "sessions")[keep]
    pd.testing.assert_frame_equal(left.sort_values("session_id", ignore_index=True),
                                  right.sort_values("session_id", ignore_index=True),
                                  check_dtype=False)
    assert remote.extra["sessions"]["sessions"] == len(right) == 76
