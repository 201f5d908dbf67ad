"""A Spark output folder read as a workspace: topics fitted on it reach every reader."""

from __future__ import annotations

from pathlib import Path

import duckdb
from typer.testing import CliRunner

from textmine.cli import app
from textmine.workspace import open_workspace

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
runner = CliRunner()


def folder_like_spark(tmp_path: Path) -> Path:
    """documents/ as Parquet without topic columns filled, as the Spark engine writes it
    before any topic model exists."""
    ws = tmp_path / "ws.duckdb"
    assert runner.invoke(app, ["analyze", str(CORPORA / "reviews.csv"), "-w", str(ws)]).exit_code == 0
    folder = tmp_path / "out"
    (folder / "documents").mkdir(parents=True)
    with duckdb.connect(str(ws), read_only=True) as con:
        con.execute(f"""COPY (SELECT * REPLACE (NULL::INTEGER AS topic_id,
                                                 NULL::VARCHAR AS topic_label,
                                                 NULL::DOUBLE AS topic_prob) FROM documents)
                        TO '{folder / "documents" / "part-0.parquet"}' (FORMAT parquet)""")
    return folder


def test_topics_fitted_on_a_folder_show_in_documents_and_the_report(tmp_path: Path) -> None:
    folder = folder_like_spark(tmp_path)
    fit = runner.invoke(app, ["topics", "fit", "-w", str(folder), "--k", "4"])
    assert fit.exit_code == 0, fit.output
    with open_workspace(folder, read_only=True) as ws:
        assigned, labelled = ws.con.execute(
            "SELECT count(topic_id), count(topic_label) FROM documents").fetchone()
        stored = ws.con.execute("SELECT count(*) FROM doc_topics").fetchone()[0]
    assert assigned == labelled == stored > 0
    report = runner.invoke(app, ["report", "-w", str(folder), "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "尚未拟合投诉主题" not in html
