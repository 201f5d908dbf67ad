"""`textmine evaluate sentiment` and `textmine train sentiment` through the CLI, on small files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA, NEGATIVE, POSITIVE
from textmine.cli import app
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.sentiment import load_model
from textmine.sentiment.ngram import NgramModel, saved_settings


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result


@pytest.fixture
def labeled(tmp_path):
    path = tmp_path / "labeled.csv"
    pd.DataFrame({"评论内容": POSITIVE + NEGATIVE + ["", "还行"],
                  "情感": ["正面"] * 8 + ["负面"] * 8 + ["正面", "未知"]}).to_csv(path, index=False)
    return path


def test_evaluate_prints_the_contract_keys(labeled):
    result = run("evaluate", "sentiment", str(labeled), "--text-col", "评论内容",
                 "--label-col", "情感", "--model", "lexicon", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert {"accuracy", "macro_f1", "roc_auc", "n", "docs_per_s"} <= set(figures)
    assert figures["n"] == 16  # the empty text is dropped, the unknown label skipped
    assert figures["skipped"] == 1 and figures["without_text"] == 1
    assert figures["accuracy"] >= 0.9 and figures["roc_auc"] >= 0.9


def test_evaluate_names_a_missing_label_column(labeled):
    result = run("evaluate", "sentiment", str(labeled), "--label-col", "label")
    assert result.exit_code == 2
    assert "E007" in result.output and "情感" in result.output


def test_train_with_ratings_leaves_the_middle_out_and_saves_one_file(tmp_path):
    out = tmp_path / "stars.npz"
    result = run("train", "sentiment", str(CORPORA / "reviews.csv"), "--text-col", "评论内容",
                 "--rating-col", "评分", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.output)
    rows = pd.read_csv(CORPORA / "reviews.csv", dtype=str)
    has_text = rows["评论内容"].fillna("").str.strip() != ""
    stars = rows[has_text]["评分"].astype(int)
    assert recorded["training"]["n"] == int(((stars <= 2) | (stars >= 4)).sum())
    assert recorded["training"]["negative"] == int((stars <= 2).sum())
    # every row is accounted for: trained on, in the middle of the stars, or without text
    assert recorded["training"]["rows_in_file"] == len(rows)
    assert recorded["training"]["rows_without_text"] == int((~has_text).sum()) > 0
    assert recorded["training"]["rows_left_out"] == int((stars == 3).sum()) + int((~has_text).sum())
    assert out.is_file() and list(tmp_path.iterdir()) == [out]
    model = load_model(str(out), load_lexicons())
    assert isinstance(model, NgramModel)
    assert model.info["training"]["rating_col"] == "评分"
    assert set(model.info["validation"]) >= {"accuracy", "roc_auc"}


def test_train_needs_exactly_one_label_source(labeled, tmp_path):
    result = run("train", "sentiment", str(labeled), "--text-col", "评论内容", "-o",
                 str(tmp_path / "m.npz"))
    assert result.exit_code == 2 and "E015" in result.output


def test_saved_model_scores_files_in_worker_processes(labeled, tmp_path):
    """A model path travels in the picklable Config; spawned workers load it themselves."""
    from textmine.pipeline import apply_to_frame

    model = tmp_path / "m.npz"
    assert run("train", "sentiment", str(labeled), "--text-col", "评论内容", "--label-col", "情感",
               "-o", str(model)).exit_code == 0
    frame = pd.DataFrame({"text": (POSITIVE + NEGATIVE) * 2})
    config = Config(sentiment_model=str(model), workers=2, batch_size=8)
    scored = apply_to_frame(frame, "text", ("clean", "segment", "sentiment"), config)
    labels = [1] * 8 + [0] * 8
    assert ((scored["sentiment"].to_numpy() >= 0.5).astype(int) == labels * 2).all()


def test_train_with_auto_C_and_a_group_column(tmp_path):
    path = tmp_path / "grouped.csv"
    pd.DataFrame({"评论内容": POSITIVE + NEGATIVE, "情感": [1] * 8 + [0] * 8,
                  "品类": ["衣服", "水果"] * 8}).to_csv(path, index=False)
    out = tmp_path / "m.npz"
    result = run("train", "sentiment", str(path), "--text-col", "评论内容", "--label-col", "情感",
                 "--C", "auto", "--group-col", "品类", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.output)
    assert recorded["C"] in NgramModel().settings.C_grid
    assert "whole groups" in recorded["validation"]["split"]
    assert recorded["training"]["group_col"] == "品类"
    missing = run("train", "sentiment", str(path), "--text-col", "评论内容", "--label-col", "情感",
                  "--group-col", "渠道", "-o", str(out))
    assert missing.exit_code == 2 and "E007" in missing.output
    for value in ("big", "0", "-1"):
        bad = run("train", "sentiment", str(path), "--text-col", "评论内容", "--label-col", "情感",
                  "--C", value, "-o", str(out))
        assert bad.exit_code == 2 and "E015" in bad.output, value


def test_train_with_a_domain_column_and_evaluate_reads_it_from_the_file(tmp_path):
    """快 is good for a parcel, bad for a battery: only the domain column tells them apart."""
    texts = (["快递很快", "送得快", "发货快"] + ["快递很慢", "送得慢", "发货慢"]
             + ["电池耐用", "很耐用", "续航耐用"] + ["掉电很快", "耗电快", "没电快"]) * 4
    labels = ([1] * 3 + [0] * 3 + [1] * 3 + [0] * 3) * 4
    domains = (["快递"] * 6 + ["手机"] * 6) * 4
    train = tmp_path / "train.csv"
    pd.DataFrame({"评论内容": texts, "情感": labels, "品类": domains}).to_csv(train, index=False)
    model = tmp_path / "by_domain.npz"
    result = run("train", "sentiment", str(train), "--text-col", "评论内容", "--label-col", "情感",
                 "--domain-col", "品类", "--no-lexicon", "-o", str(model), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["domains"] == {"column": "品类", "n": 2}
    test = tmp_path / "test.csv"
    pd.DataFrame({"评论内容": ["很快", "很快"], "情感": [1, 0], "品类": ["快递", "手机"]}
                 ).to_csv(test, index=False)
    scored = run("evaluate", "sentiment", str(test), "--text-col", "评论内容", "--label-col", "情感",
                 "--model", str(model), "--json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["accuracy"] == 1.0
    missing = run("train", "sentiment", str(train), "--text-col", "评论内容", "--label-col", "情感",
                  "--domain-col", "渠道", "-o", str(model))
    assert missing.exit_code == 2 and "E007" in missing.output


def test_train_with_a_hidden_layer_records_its_epochs_and_evaluates(tmp_path):
    out = tmp_path / "hidden.npz"
    result = run("train", "sentiment", str(CORPORA / "reviews.csv"), "--text-col", "评论内容",
                 "--rating-col", "评分", "--hidden", "8", "--epochs", "40", "--bits", "18",
                 "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    recorded = json.loads(result.output)
    assert recorded["hidden"] == 8 and recorded["epochs"] == 40
    assert saved_settings(out).bits == 18
    stars = pd.read_csv(CORPORA / "reviews.csv", dtype=str)
    stars = stars[stars["评分"].isin(["1", "2", "4", "5"])]
    labeled = tmp_path / "labeled.csv"
    pd.DataFrame({"评论内容": stars["评论内容"], "情感": (stars["评分"] >= "4").astype(int)}
                 ).to_csv(labeled, index=False)
    scored = run("evaluate", "sentiment", str(labeled), "--text-col", "评论内容",
                 "--label-col", "情感", "--model", str(out), "--json")
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["accuracy"] > 0.9  # the rows it was trained on


@pytest.mark.parametrize("options", [["--hidden", "8", "--base", "default"],
                                     ["--hidden", "-1"], ["--hidden", "8", "--epochs", "0"],
                                     ["--hidden", "8", "--epochs", "many"],
                                     ["--bits", "12"], ["--hidden", "8", "--bits", "30"]])
def test_bad_hidden_layer_options_are_one_line_errors(labeled, tmp_path, options):
    result = run("train", "sentiment", str(labeled), "--text-col", "评论内容", "--label-col", "情感",
                 *options, "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 2 and "E015" in result.output
    assert len(result.output.strip().splitlines()) == 1 and not (tmp_path / "m.npz").exists()
