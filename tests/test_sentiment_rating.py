"""Star ratings as weak labels: a model trained on a domain's stars beats the default there."""

from __future__ import annotations

import json

import pandas as pd
from sklearn.model_selection import train_test_split
from typer.testing import CliRunner

from tests.conftest import CORPORA
from textmine.cli import app


def test_rating_trained_model_beats_the_default_on_the_held_out_split(tmp_path):
    frame = pd.read_csv(CORPORA / "reviews.csv", dtype=str)
    frame = frame[frame["评论内容"].fillna("").str.strip() != ""]
    stars = frame["评分"].astype(int)
    frame = frame[stars != 3].assign(标签=(stars[stars != 3] >= 4).astype(int))
    train, test = train_test_split(frame, test_size=0.2, random_state=0, stratify=frame["标签"])
    train.drop(columns="标签").to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "sentiment", str(tmp_path / "train.csv"),
                                  "--text-col", "评论内容", "--rating-col", "评分",
                                  "--base", "default", "-o", str(tmp_path / "stars.npz")])
    assert trained.exit_code == 0, trained.output
    figures = {}
    for model in ("default", str(tmp_path / "stars.npz")):
        result = runner.invoke(app, ["evaluate", "sentiment", str(tmp_path / "test.csv"),
                                     "--text-col", "评论内容", "--label-col", "标签",
                                     "--model", model, "--json"])
        assert result.exit_code == 0, result.output
        figures[model] = json.loads(result.output)
    ours, default = figures[str(tmp_path / "stars.npz")], figures["default"]
    assert ours["n"] == default["n"] == len(test)
    assert ours["accuracy"] > default["accuracy"]
    assert ours["roc_auc"] >= default["roc_auc"]
