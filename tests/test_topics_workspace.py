"""Topics stored with the workspace: `textmine topics fit|show|apply|rename` and `analyze`."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPORA
from typer.testing import CliRunner

from textmine.analyze import analyze
from textmine.cli import app
from textmine.config import Config
from textmine.pipeline import STAGES, _ensure_stage_modules, check_pipeline, default_stages
from textmine.workspace import open_workspace

runner = CliRunner()
FAST = ["--k", "3", "--passes", "2"]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """corpora/reviews.csv analysed once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("analysed") / "ws.duckdb"
    analyze([CORPORA / "reviews.csv"], config=Config(workspace=str(path), workers=1))
    return path


@pytest.fixture
def ws_path(analysed, tmp_path):
    path = tmp_path / "ws.duckdb"
    shutil.copy(analysed, path)
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def rows(path, sql, params=None):
    with open_workspace(path, read_only=True) as ws:
        return ws.con.execute(sql, params or []).fetchall()


def doc_topics(path) -> dict[str, int]:
    return dict(rows(path, "SELECT doc_id, topic_id FROM documents WHERE topic_id IS NOT NULL"))


def test_topics_stage_is_wired_after_complaint():
    _ensure_stage_modules()
    names = [s.name for s in default_stages("review")]
    assert names[-2:] == ["complaint", "topics"]
    check_pipeline(default_stages("review"), ("text_raw",))
    assert STAGES["topics"].assigns == ("topic_id", "topic_label", "topic_prob")


def test_fit_stores_a_current_model_and_assigns_every_complaint(ws_path):
    out = json.loads(invoke("topics", "fit", "-w", str(ws_path), *FAST, "--json"))
    assert out["version"] == 1 and out["k"] == 3 and len(out["topics"]) == 3
    assert rows(ws_path, "SELECT version, is_current, k FROM topic_models") == [(1, True, 3)]
    complaints = rows(ws_path, "SELECT count(*) FROM documents WHERE is_complaint "
                               "OR polarity = 'negative'")[0][0]
    assigned = rows(ws_path, "SELECT count(*) FROM documents WHERE topic_id IS NOT NULL")[0][0]
    assert assigned == complaints == out["assigned"]
    # Not a complaint: no topic. A complaint: a topic or -1, with its label.
    assert rows(ws_path, "SELECT count(*) FROM documents WHERE topic_id IS NOT NULL AND NOT "
                         "(is_complaint OR polarity = 'negative')")[0][0] == 0
    labels = dict(rows(ws_path, "SELECT topic_id, coalesce(custom_label, label) FROM topics"))
    for topic_id, label in rows(ws_path, "SELECT DISTINCT topic_id, topic_label FROM documents "
                                         "WHERE topic_id >= 0"):
        assert labels[topic_id] == label
    shares = rows(ws_path, "SELECT sum(share), sum(n_docs) FROM topics")[0]
    other = rows(ws_path, "SELECT count(*) FROM documents WHERE topic_id = -1")[0][0]
    assert shares[1] + other == assigned
    assert 0 < shares[0] <= 1


def test_apply_without_refit_keeps_topic_ids_and_renames_survive(ws_path):
    invoke("topics", "fit", "-w", str(ws_path), *FAST)
    before = doc_topics(ws_path)
    invoke("topics", "rename", "0", "物流太慢", "-w", str(ws_path))
    assert set(rows(ws_path, "SELECT DISTINCT topic_label FROM documents WHERE topic_id = 0")) \
        == {("物流太慢",)}
    out = json.loads(invoke("topics", "apply", "-w", str(ws_path), "--all", "--json"))
    assert out["assigned"] == len(before)
    assert doc_topics(ws_path) == before
    assert set(rows(ws_path, "SELECT DISTINCT topic_label FROM documents WHERE topic_id = 0")) \
        == {("物流太慢",)}
    assert rows(ws_path, "SELECT count(*) FROM topic_models")[0][0] == 1
    shown = json.loads(invoke("topics", "show", "-w", str(ws_path), "--json"))
    assert {t["topic_id"]: t["label"] for t in shown["topics"]}[0] == "物流太慢"


def test_apply_by_default_only_assigns_new_documents(ws_path):
    invoke("topics", "fit", "-w", str(ws_path), *FAST)
    out = json.loads(invoke("topics", "apply", "-w", str(ws_path), "--json"))
    assert out["assigned"] == 0


def test_analyze_applies_the_current_model_to_new_documents(ws_path):
    invoke("topics", "fit", "-w", str(ws_path), *FAST)
    result = analyze([CORPORA / "reviews_gbk.csv"], config=Config(workspace=str(ws_path), workers=1))
    assert result.stored > 0
    new = rows(ws_path, "SELECT topic_id, topic_label, is_complaint OR polarity = 'negative' "
                        "FROM documents WHERE run_id = ?", [result.run_id])
    complaints = [r for r in new if r[2]]
    assert complaints and all(r[0] is not None and r[1] for r in complaints)
    assert all(r[0] is None for r in new if not r[2])
    assert result.extra["topic_model_version"] == 1
    recorded = rows(ws_path, "SELECT count(*) FROM doc_topics d JOIN documents USING (doc_id) "
                             "WHERE run_id = ? AND d.version = 1", [result.run_id])[0][0]
    assert recorded == len(complaints) == result.extra["topics_assigned"]


def test_refit_makes_a_new_version_and_keeps_matching_renames(ws_path):
    invoke("topics", "fit", "-w", str(ws_path), *FAST)
    invoke("topics", "rename", "1", "客服态度", "-w", str(ws_path))
    out = json.loads(invoke("topics", "fit", "-w", str(ws_path), *FAST, "--json"))
    assert out["version"] == 2
    assert rows(ws_path, "SELECT version FROM topic_models WHERE is_current") == [(2,)]
    # Same data, same seed: the same topics, so the person's label carries over.
    assert out["labels_carried_over"] == {"1": "客服态度"}


def test_auto_k_json_shows_the_table_and_the_reason(ws_path):
    out = json.loads(invoke("topics", "fit", "-w", str(ws_path), "--k", "auto",
                            "--k-range", "2,3", "--passes", "2", "--json"))
    table = out["selection"]["table"]
    assert [r["k"] for r in table] == [2, 3]
    assert [r["k"] for r in table if r["chosen"]] == [out["k"]]
    assert f"K={out['k']}" in out["selection"]["reason"]


def test_fit_on_a_spark_folder_writes_assignments_beside_read_only_documents(analysed, tmp_path):
    folder = tmp_path / "spark_out"
    (folder / "documents").mkdir(parents=True)
    parquet = folder / "documents" / "part-0.parquet"
    with open_workspace(analysed, read_only=True) as ws:
        ws.con.execute(f"COPY documents TO '{parquet}' (FORMAT parquet)")
    before = parquet.read_bytes()
    out = json.loads(invoke("topics", "fit", "-w", str(folder), *FAST, "--sample", "120",
                            "--json"))
    assert out["fitted_on"] == 120 and out["assigned"] > 120
    assert parquet.read_bytes() == before
    assert rows(folder, "SELECT count(*) FROM doc_topics")[0][0] == out["assigned"]
    shown = json.loads(invoke("topics", "show", "-w", str(folder), "--json"))
    assert len(shown["topics"]) == 3


def test_errors_are_one_line_with_a_code(ws_path, tmp_path):
    result = runner.invoke(app, ["topics", "show", "-w", str(ws_path)])
    assert result.exit_code == 2 and "[E023]" in result.output
    result = runner.invoke(app, ["topics", "fit", "-w", str(ws_path), "--k", "one"])
    assert result.exit_code == 2 and "[E015]" in result.output
    invoke("topics", "fit", "-w", str(ws_path), *FAST)
    result = runner.invoke(app, ["topics", "rename", "99", "x", "-w", str(ws_path)])
    assert result.exit_code == 2 and "[E024]" in result.output
