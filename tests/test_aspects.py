"""Aspect opinions: clause opinions attributed to the aspects the clause names."""

from __future__ import annotations

import duckdb
import pandas as pd
from typer.testing import CliRunner

from textmine.cli import app
from textmine.config import Config
from textmine.pipeline import STAGES, apply_to_frame, check_pipeline, default_stages


def aspects_of(texts: list[str]) -> list[list[dict]]:
    out = apply_to_frame(pd.DataFrame({"text": texts}), "text",
                         ("clean", "segment", "sentiment", "aspects"), Config(workers=1))
    return list(out["aspects"])


def test_contrast_sentence_gives_each_aspect_its_own_polarity():
    [found] = aspects_of(["物流很快，但是质量太差"])
    by_aspect = {a["aspect"]: a for a in found}
    assert by_aspect["物流"]["polarity"] == "positive"
    assert by_aspect["质量"]["polarity"] == "negative"
    assert by_aspect["物流"]["evidence"] == "物流很快"
    assert by_aspect["质量"]["evidence"] == "但是质量太差"
    assert by_aspect["物流"]["score"] > 0.5 > by_aspect["质量"]["score"]


def test_one_clause_with_two_aspects_and_clauses_without_aspects():
    [found] = aspects_of(["今天心情不错。价格便宜质量也好"])
    assert {a["aspect"] for a in found} == {"价格", "质量"}
    assert all(a["polarity"] == "positive" for a in found)


def test_aspect_without_opinion_is_neutral_and_text_without_aspect_is_empty():
    mentioned, nothing, empty = aspects_of(["快递昨天到了", "哈哈", ""])
    assert [(a["aspect"], a["polarity"], a["score"]) for a in mentioned] == [("物流", "neutral", 0.5)]
    assert nothing == [] and empty == []


def test_aspects_stage_is_wired_into_the_default_pipeline():
    names = [s.name for s in default_stages("review")]
    assert names.index("segment") < names.index("aspects") < names.index("complaint")
    check_pipeline(default_stages("review"), ("text_raw",))
    assert STAGES["aspects"].assigns == ("aspects",)


def test_analyze_stores_aspects_in_the_workspace(tmp_path):
    source = tmp_path / "reviews.csv"
    source.write_text("评论ID,评论内容\nA1,物流很快，但是质量太差\nA2,客服态度很好\n", encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    result = CliRunner().invoke(app, ["analyze", str(source), "-w", str(ws), "--json"])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(ws), read_only=True)
    rows = con.execute("select doc_id, a.aspect, a.polarity from documents, "
                       "unnest(aspects) as t(a) order by doc_id, a.aspect").fetchall()
    assert rows == [("A1", "物流", "positive"), ("A1", "质量", "negative"),
                    ("A2", "服务", "positive")]
