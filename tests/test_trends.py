"""Trends: counts per period with their n, and rising detection that finds a planted surge,
stays quiet on flat data, and names new words."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from trend_workspace import RATES, documents
from typer.testing import CliRunner

from textmine.cli import app
from textmine.trends import (
    RisingRules,
    aspect_trends,
    benjamini_hochberg,
    fisher_greater,
    rising,
    topic_trends,
    trends,
)
from textmine.workspace import open_workspace

SEEDS = range(5)


def _store(path, frames) -> str:
    data = pa.concat_tables(frames) if isinstance(frames[0], pa.Table) else frames[0]
    with open_workspace(path) as ws:
        ws.insert("documents", data)
    return str(path)


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> str:
    """Five seeds with 物流 complaints tripled in the last week, five flat, one new word pair."""
    path = tmp_path_factory.mktemp("trends") / "ws.duckdb"
    frames = [documents(s, surge="物流", product=f"surge{s}") for s in SEEDS]
    frames += [documents(100 + s, product=f"flat{s}") for s in SEEDS]
    frames.append(documents(7, new_word=("充电仓", "断连"), product="newword"))
    return _store(path, frames)


# -- the statistics -------------------------------------------------------------------------------

def test_fisher_matches_the_textbook_tail():
    # 10 of 41 now against 24 of 269 before: the one-sided hypergeometric tail.
    from scipy.stats import fisher_exact

    p = fisher_greater(np.array([10]), np.array([41]), np.array([24]), np.array([269]))[0]
    expected = fisher_exact([[10, 31], [24, 245]], alternative="greater").pvalue
    assert p == pytest.approx(expected)


def test_benjamini_hochberg_adjusts_and_keeps_order():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    q = benjamini_hochberg(p)
    assert q.tolist() == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert (q >= p).all()


# -- planted and flat data ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def by_product(planted) -> pd.DataFrame:
    """One grouped call: every product (seed) is tested on its own."""
    return rising(planted, "week", group="product")


@pytest.mark.parametrize("seed", SEEDS)
def test_tripled_aspect_is_reported_first(by_product, seed):
    found = by_product[by_product["product"] == f"surge{seed}"]
    assert len(found), "the planted surge was missed"
    top = found.iloc[0]
    assert (top["kind"], top["name"]) == ("aspect", "物流")
    assert top["period"] == "2026-11-09..2026-11-15"
    assert top["share"] == pytest.approx(top["count"] / top["n"])
    assert top["baseline_share"] == pytest.approx(top["baseline_count"] / top["baseline_n"])
    assert top["lift"] > 1.5 and top["q_value"] <= 0.05
    assert top["examples"] and all(e["created_at"] >= "2026-11-09" for e in top["examples"])


@pytest.mark.parametrize("seed", SEEDS)
def test_flat_data_reports_nothing(by_product, seed):
    assert by_product[by_product["product"] == f"flat{seed}"].empty


def test_grouped_and_filtered_calls_agree(planted, by_product):
    alone = rising(planted, "week", product="surge0")
    grouped = by_product[by_product["product"] == "surge0"].drop(columns=["product"])
    pd.testing.assert_frame_equal(alone.reset_index(drop=True), grouped.reset_index(drop=True))
    assert rising(planted, "week", product="flat0").empty


def test_false_alarm_rate_over_fifty_seeds(tmp_path):
    """Flat data for 50 seeds through the whole SQL path: a report on any of them is a false
    alarm. By construction (BH under the global null) the rate is at most alpha = 5 % for
    aspects/topics plus 1 % for words; benchmarks/bench_trends.py measures it on more seeds."""
    path = _store(tmp_path / "flat.duckdb",
                  [documents(1000 + s, per_week=200, product=f"f{s}") for s in range(50)])
    found = rising(path, group="product", examples=0)
    alarms = found["product"].nunique()
    assert alarms / 50 <= 0.08


def test_new_word_pair_is_reported_with_first_seen(by_product):
    found = by_product[by_product["product"] == "newword"]
    words = found[found["kind"] == "word"]
    assert words["name"].tolist() == ["充电仓断连"]  # the pair, not its parts
    row = words.iloc[0]
    assert row["period"] == "2026-11-02..2026-11-15"
    assert row["baseline_count"] == 0 and row["first_seen"] >= "2026-11-02"


def test_rising_can_be_asked_about_one_aspect(planted):
    found = rising(planted, product="surge0", aspect="物流")
    assert found[["kind", "name"]].values.tolist() == [["aspect", "物流"]]
    assert rising(planted, product="surge0", aspect="包装").empty


def test_stricter_rules_report_less(planted):
    strict = RisingRules(min_count=10_000)
    assert rising(planted, product="surge0", rules=strict, words=False).empty


# -- trend tables ---------------------------------------------------------------------------------

def _tiny(path) -> str:
    rows = [  # (doc_id, created_at, channel, complaint, sentiment, aspects, topic)
        ("a", datetime(2026, 3, 2, 9), "天猫", True, 0.1, [("物流", "negative")], 0),
        ("b", datetime(2026, 3, 3, 9), "天猫", False, 0.9, [("物流", "positive")], None),
        ("c", datetime(2026, 3, 4, 9), "京东", True, 0.2, [("质量", "negative")], 1),
        # the week of 2026-03-09 has no documents at all
        ("d", datetime(2026, 3, 17, 9), "京东", True, 0.3, [("物流", "negative")], 0),
    ]
    frame = pd.DataFrame({
        "doc_id": [r[0] for r in rows], "kind": "review", "created_at": [r[1] for r in rows],
        "channel": [r[2] for r in rows], "is_complaint": [r[3] for r in rows],
        "sentiment": [r[4] for r in rows],
        "polarity": ["negative" if r[3] else "positive" for r in rows],
        "aspects": [[{"aspect": a, "polarity": p, "score": 0.5, "evidence": a} for a, p in r[5]]
                    for r in rows],
        "topic_id": pd.array([r[6] for r in rows], dtype="Int64"),
        "topic_label": [{0: "物流慢", 1: "质量差"}.get(r[6]) for r in rows],
    })
    return _store(path, [frame])


def test_weekly_volume_has_counts_next_to_every_share(tmp_path):
    frame = trends(_tiny(tmp_path / "t.duckdb"), "week")
    assert frame["period"].dt.strftime("%Y-%m-%d").tolist() == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert frame["n"].tolist() == [3, 0, 1]
    assert frame["complaints"].tolist() == [2, 0, 1]
    assert frame["complaint_share"].iloc[0] == pytest.approx(2 / 3)
    assert pd.isna(frame["complaint_share"].iloc[1])  # no share without documents
    assert frame["mean_sentiment"].iloc[0] == pytest.approx((0.1 + 0.9 + 0.2) / 3)


def test_grouped_by_channel(tmp_path):
    frame = trends(_tiny(tmp_path / "t.duckdb"), "week", group="channel")
    first = frame[frame["period"] == "2026-03-02"].set_index("channel")
    assert first.loc["天猫", "n"] == 2 and first.loc["京东", "complaints"] == 1


def test_aspect_and_topic_trends(tmp_path):
    path = _tiny(tmp_path / "t.duckdb")
    asp = aspect_trends(path, "week", aspect="物流")
    assert asp["aspect"].unique().tolist() == ["物流"]
    first = asp.iloc[0]
    assert (first["n"], first["mentions"], first["complaints"]) == (3, 2, 1)
    assert first["share"] == pytest.approx(1 / 3)
    top = topic_trends(path, "month")
    march = top.set_index("topic")
    assert march.loc["物流慢", "complaints"] == 2 and march.loc["物流慢", "n"] == 4
    assert trends(path, "week", topic="物流慢")["complaints"].tolist() == [1, 0, 1]


def test_minimal_documents_table_still_answers(tmp_path):
    """A workspace from before aspects/topics existed: the columns are simply absent."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE documents AS SELECT 'r' || i AS doc_id, 'review' AS kind, "
                "NULL::VARCHAR AS customer_id, TIMESTAMP '2026-01-05' + INTERVAL (i) DAY AS "
                "created_at, '好' AS text, i % 3 = 0 AS is_complaint FROM range(60) t(i)")
    con.close()
    assert trends(path, "month")["n"].sum() == 60
    assert rising(path).empty
    assert aspect_trends(path).empty


def test_bad_period_is_a_user_error(tmp_path):
    result = CliRunner().invoke(app, ["trends", "-w", _tiny(tmp_path / "t.duckdb"), "--by", "year"])
    assert result.exit_code == 2 and "E015" in result.output


# -- CLI ------------------------------------------------------------------------------------------

def test_cli_rising_json_contract(planted):
    result = CliRunner().invoke(app, ["trends", "-w", planted, "--rising", "--json",
                                      "--product", "surge1"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.output)
    assert isinstance(items, list) and items[0]["kind"] == "aspect" and items[0]["name"] == "物流"
    for item in items:
        assert {"kind", "name", "period", "count", "share", "baseline_share", "score"} <= set(item)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


def test_cli_trends_csv_and_json(planted, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["trends", "-w", planted, "--aspect", "物流", "--product",
                                 "surge2", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "period,aspect,n,mentions,complaints,share,mean_score"
    out = tmp_path / "weekly.xlsx"
    result = runner.invoke(app, ["trends", "-w", planted, "--json", "--product", "flat0",
                                 "-o", str(out)])
    rows = json.loads(result.output)
    assert len(rows) == 14 and sum(r["n"] for r in rows) == len(documents(100))
    assert out.exists()


def test_planted_rates_are_what_the_generator_promises():
    frame = documents(3, surge="物流").to_pandas()
    last = frame["created_at"] >= "2026-11-09"
    share = frame["aspects"].map(lambda a: any(x["aspect"] == "物流" and x["polarity"] == "negative"
                                               for x in a))
    assert share[~last].mean() == pytest.approx(RATES["物流"], abs=0.015)
    assert share[last].mean() == pytest.approx(3 * RATES["物流"], abs=0.06)
