"""`textmine train sentiment --self-train`: adapting a model to a new domain without labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from textmine.cli import app
from textmine.lexicons import load_lexicons
from textmine.sentiment import load_model, score
from textmine.sentiment.ngram import FORMAT_ANCHORED, NgramModel, saved_settings
from textmine.sentiment.train import confident_rows

# Sichuan dialect the shipped model never learned: 巴适 (great), 拉胯 (lousy). Each text also
# carries plain cues the default model reads, so its confident rows label the dialect words.
POSITIVE = ["菜品很新鲜，味道巴适得板", "送餐很快，巴适得板", "分量足，好吃，巴适",
            "好吃，下次还点，巴适得板", "味道很好，巴适得板"]
NEGATIVE = ["送餐太慢了，菜都凉了，拉胯", "味道很差，拉胯", "分量太少，难吃，拉胯得很",
            "难吃，再也不点了，拉胯", "菜是馊的，太差了，拉胯"]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def unlabeled(tmp_path):
    rng = np.random.default_rng(0)
    texts = [str(rng.choice(POSITIVE if i % 2 else NEGATIVE)) for i in range(200)]
    path = tmp_path / "外卖评论.csv"
    pd.DataFrame({"订单号": [f"{i:06d}" for i in range(201)],
                  "评论内容": texts + [""]}).to_csv(path, index=False)
    return path


def test_self_training_learns_the_new_domains_words_and_counts_every_row(unlabeled, tmp_path):
    out = tmp_path / "外卖.npz"
    result = run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
                 "--self-train", "default", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    t = json.loads(result.output)["training"]
    assert t["rows_in_file"] == 201 and t["rows_without_text"] == 1
    assert t["n"] + t["rows_not_confident"] + t["rows_without_text"] == t["rows_in_file"]
    assert t["rows_left_out"] == t["rows_not_confident"] + 1
    assert t["self_trained_from"] == "default" and t["confident_share"] == 0.5
    assert 95 <= t["n"] <= 100  # half of each predicted class

    words = pd.DataFrame({"text": ["巴适得板", "拉胯"]})
    before = score(words, model="default")["sentiment"].to_numpy()
    after = score(words, model=str(out))["sentiment"].to_numpy()
    assert before[0] < 0.5  # the default model does not know 巴适
    assert after[0] > 0.6 and after[0] > before[0] + 0.3
    assert after[1] < before[1]


def test_a_self_trained_model_averages_with_its_start_model(unlabeled, tmp_path):
    out = tmp_path / "外卖.npz"
    assert run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
               "--self-train", "default", "-o", str(out)).exit_code == 0
    settings = saved_settings(out)
    assert settings.anchor == "default" and settings.C == 4.0
    with np.load(out, allow_pickle=False) as data:
        assert json.loads(str(data["header"]))["format"] == FORMAT_ANCHORED
    lexicons = load_lexicons()
    adapted = load_model(str(out), lexicons)
    assert isinstance(adapted, NgramModel)
    from textmine.config import Config
    from textmine.sentiment.train import prepare_texts

    batch = prepare_texts(pd.Series(POSITIVE + NEGATIVE + ["今天下雨了", "还行吧"]), Config())
    both = adapted.predict_proba(batch)
    own = adapted._calibrated(adapted.decision_function(batch), batch)
    start = load_model("default", lexicons).predict_proba(batch)
    def logit(p):  # clipped like the model, so a near-certain score stays finite
        p = np.clip(p, 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))

    assert np.allclose(logit(both), (logit(own) + logit(start)) / 2, atol=1e-6)
    assert ((np.minimum(own, start) - 1e-9 <= both) & (both <= np.maximum(own, start) + 1e-9)).all()


def test_plain_output_names_where_every_row_went(unlabeled, tmp_path):
    result = run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
                 "--self-train", "default", "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("201 rows in: trained on ") and "1 without text" in first
    assert "not confident" in first
    assert "agreement with those labels" in result.output


@pytest.mark.parametrize("options, code", [
    (["--label-col", "订单号"], "E015"),
    (["--cv", "5"], "E015"),
    (["--hidden", "32"], "E015"),
    (["--base", "default"], "E015"),
    (["--confident-share", "0"], "E015"),
    (["--confident-share", "1.5"], "E015"),
])
def test_options_that_need_labels_or_make_no_sense_are_one_line_errors(unlabeled, tmp_path,
                                                                       options, code):
    out = tmp_path / "m.npz"
    result = run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
                 "--self-train", "default", *options, "-o", str(out))
    assert result.exit_code == 2, result.output
    assert code in result.output and len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_confident_share_without_self_training_is_refused(unlabeled, tmp_path):
    result = run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
                 "--label-col", "订单号", "--confident-share", "0.8", "-o", str(tmp_path / "m.npz"))
    assert result.exit_code == 2 and "E015" in result.output and "--self-train" in result.output


def test_a_missing_start_model_or_too_few_texts_fail_cleanly(unlabeled, tmp_path):
    out = tmp_path / "m.npz"
    missing = run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
                  "--self-train", str(tmp_path / "nosuch.npz"), "-o", str(out))
    assert missing.exit_code == 2 and "E016" in missing.output
    few = tmp_path / "few.csv"
    pd.DataFrame({"评论内容": POSITIVE[:2] + NEGATIVE[:2]}).to_csv(few, index=False)
    small = run("train", "sentiment", str(few), "--text-col", "评论内容",
                "--self-train", "default", "-o", str(out))
    assert small.exit_code == 2 and "E017" in small.output and str(few) in small.output
    assert not out.exists()


@given(st.lists(st.floats(0, 1, allow_nan=False), max_size=60), st.floats(0.01, 1))
def test_confident_rows_keep_the_surest_share_of_each_predicted_class(proba, share):
    proba = np.asarray(proba, float)
    keep = confident_rows(proba, share)
    confidence = np.abs(proba - 0.5)
    for cls in (False, True):
        rows = (proba >= 0.5) == cls
        assert keep[rows].sum() == int(share * rows.sum())
        if keep[rows].any() and (~keep[rows]).any():
            assert confidence[rows & keep].min() >= confidence[rows & ~keep].max()


def test_a_self_trained_model_scores_the_same_in_worker_processes(unlabeled, tmp_path):
    """Each spawned worker loads the file and, through its anchor, the start model."""
    from textmine.config import Config
    from textmine.pipeline import apply_to_frame

    out = tmp_path / "外卖.npz"
    assert run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
               "--self-train", "default", "-o", str(out)).exit_code == 0
    frame = pd.DataFrame({"text": (POSITIVE + NEGATIVE) * 2})
    stages = ("clean", "segment", "sentiment")
    here = apply_to_frame(frame, "text", stages, Config(sentiment_model=str(out), workers=1))
    there = apply_to_frame(frame, "text", stages,
                           Config(sentiment_model=str(out), workers=2, batch_size=5))
    assert np.allclose(here["sentiment"], there["sentiment"])
    assert (here["polarity"].iloc[:5] == "positive").all()
    assert (here["polarity"].iloc[5:10] == "negative").all()


def test_a_start_model_with_domains_keeps_reading_its_column(tmp_path):
    """快 is good for a parcel, bad for a battery: the start model needs 品类 when it labels
    the rows and when, as the anchor, it scores them later."""
    from textmine.config import Config
    from textmine.sentiment import model_columns

    texts = (["快递很快", "送得快", "发货快"] + ["快递很慢", "送得慢", "发货慢"]
             + ["电池耐用", "很耐用", "续航耐用"] + ["掉电很快", "耗电快", "没电快"]) * 4
    domains = (["快递"] * 6 + ["手机"] * 6) * 4
    train = tmp_path / "train.csv"
    pd.DataFrame({"评论内容": texts, "情感": ([1] * 3 + [0] * 3 + [1] * 3 + [0] * 3) * 4,
                  "品类": domains}).to_csv(train, index=False)
    start = tmp_path / "by_domain.npz"
    assert run("train", "sentiment", str(train), "--text-col", "评论内容", "--label-col", "情感",
               "--domain-col", "品类", "--no-lexicon", "-o", str(start)).exit_code == 0
    out = tmp_path / "adapted.npz"
    result = run("train", "sentiment", str(train), "--text-col", "评论内容",
                 "--self-train", str(start), "--confident-share", "1", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    trained = json.loads(result.output)["training"]
    assert trained["negative"] == 24 and trained["positive"] == 24  # 快 read per domain
    assert "品类" in model_columns(Config(sentiment_model=str(out)))
    test = tmp_path / "test.csv"
    pd.DataFrame({"评论内容": ["很快", "很快"], "情感": [1, 0], "品类": ["快递", "手机"]}
                 ).to_csv(test, index=False)
    scored = run("evaluate", "sentiment", str(test), "--text-col", "评论内容", "--label-col", "情感",
                 "--model", str(out), "--json")
    assert scored.exit_code == 0 and json.loads(scored.output)["accuracy"] == 1.0, scored.output


def test_a_model_whose_start_model_changed_is_refused_not_silently_rescored(unlabeled, tmp_path):
    labeled = tmp_path / "labeled.csv"
    pd.DataFrame({"text": POSITIVE * 4 + NEGATIVE * 4, "label": [1] * 20 + [0] * 20}).to_csv(
        labeled, index=False)
    start, adapted = tmp_path / "start.npz", tmp_path / "adapted.npz"
    assert run("train", "sentiment", str(labeled), "--text-col", "text", "--label-col", "label",
               "-o", str(start)).exit_code == 0
    assert run("train", "sentiment", str(unlabeled), "--text-col", "评论内容",
               "--self-train", str(start), "-o", str(adapted)).exit_code == 0
    fingerprint = load_model(str(start), load_lexicons()).fingerprint
    header = json.loads(str(np.load(adapted, allow_pickle=False)["header"]))
    assert header["info"]["inputs"] == {"anchor": fingerprint}
    assert load_model(str(adapted), load_lexicons()) is not None  # unchanged: loads

    # Someone retrains the start model at the same path (other labels, other weights).
    pd.DataFrame({"text": POSITIVE * 4 + NEGATIVE * 4, "label": [1] * 21 + [0] * 19}).to_csv(
        labeled, index=False)
    assert run("train", "sentiment", str(labeled), "--text-col", "text", "--label-col", "label",
               "-o", str(start)).exit_code == 0
    result = run("evaluate", "sentiment", str(labeled), "--text-col", "text",
                 "--label-col", "label", "--model", str(adapted))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert "E016" in message and "adapted.npz" in message and "has changed" in message
