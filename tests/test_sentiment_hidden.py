"""`train sentiment --hidden`: a one-hidden-layer network on the n-gram rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from tests.conftest import NEGATIVE, POSITIVE
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.sentiment.hidden import LEARNING_RATE, HiddenTrainer
from textmine.sentiment.ngram import NgramModel, NgramSettings
from textmine.sentiment.train import prepare_texts


def test_the_hidden_layer_learns_an_interaction_a_linear_model_cannot():
    # Positive when exactly one of two words is present (XOR): no linear score separates it.
    rng = np.random.default_rng(0)
    a, b = rng.random(4000) < 0.5, rng.random(4000) < 0.5
    labels = (a ^ b).astype(int)
    rows = sparse.csr_matrix(np.column_stack([a, b, np.ones(len(a))]).astype(np.float32))
    linear = LogisticRegression(C=100).fit(rows, labels).score(rows, labels)
    trainer = HiddenTrainer(rows, labels, hidden=8, dropout=0.0, seed=1)
    for _ in range(15):
        layer = trainer.epoch()
    assert linear < 0.8
    assert ((layer.score(rows) > 0) == labels).mean() > 0.99
    assert trainer.epochs == 15


def test_one_step_moves_exactly_the_rows_whose_dense_gradient_is_not_zero():
    # Three documents over five buckets; bucket 3 is in none of them. The sparse update must
    # match the dense gradient row for row (a wrong column mapping would move the wrong rows).
    rows = sparse.csr_matrix(np.array([[0.6, 0, 0.8, 0, 0], [0, 1.0, 0, 0, 0],
                                       [0, 0.6, 0, 0, 0.8]], np.float32))
    labels = np.array([1, 0, 1])
    trainer = HiddenTrainer(rows, labels, hidden=4, dropout=0.0)
    layer = trainer.layer
    before = layer.W1.copy()
    pre = rows @ before + layer.b1
    g = (1 / (1 + np.exp(-(np.maximum(pre, 0) @ layer.w2 + layer.b2))) - labels) / 3
    dense = rows.T @ (np.outer(g, layer.w2) * (pre > 0))
    trainer.epoch()  # one minibatch: the first Adam step moves each weight by ~lr * sign(grad)
    moved = before - layer.W1
    np.testing.assert_allclose(moved, LEARNING_RATE * np.sign(dense), atol=1e-5)
    assert np.abs(dense[3]).max() == 0 and (moved[3] == 0).all()


@pytest.fixture(scope="module")
def reviews():
    texts = [t + end for end in ("", "。", "！", "～") for t in POSITIVE + NEGATIVE]
    labels = np.array(([1] * 8 + [0] * 8) * 4)
    return prepare_texts(pd.Series(texts), Config()), labels


def test_auto_epochs_are_chosen_on_out_of_fold_scores_and_stop_after_the_patience(reviews):
    batch, labels = reviews
    settings = NgramSettings(bits=16, min_df=1, hidden=8, max_epochs=30, patience=2,
                             calibration_folds=4)
    model = NgramModel(settings, lexicons=load_lexicons()).fit(batch, labels)
    search = {int(k): v for k, v in model.info["validation"]["epochs_search"].items()}
    chosen = model.info["epochs"]
    assert search[chosen] == max(search.values())
    # Training stopped `patience` epochs after the first best count, or at max_epochs.
    assert max(search) == min(chosen + settings.patience, settings.max_epochs)
    assert list(search) == list(range(1, max(search) + 1))
    assert model.info["hidden"] == 8 and "C" not in model.info
    p = model.predict_proba(batch)
    assert ((p > 0.5) == labels).mean() > 0.9


def test_a_hidden_model_file_scores_like_the_fitted_model(reviews, tmp_path):
    batch, labels = reviews
    settings = NgramSettings(bits=16, min_df=1, hidden=8, epochs=20, calibration_folds=0,
                             lexicon=False)
    model = NgramModel(settings).fit(batch, labels)
    assert model.info["epochs"] == 20 and "epochs_search" not in model.info["validation"]
    path = model.save(tmp_path / "hidden")
    reloaded = NgramModel.load(path)
    assert reloaded.layer is not None and reloaded.settings.hidden == 8
    # Its own format name: a textmine without hidden layers (or with float16 W1 only) refuses it.
    assert reloaded.version.startswith("textmine-ngram-nn/2:")
    # W1 is stored as int8 per row: each weight within half a step of its row's 127 steps.
    step = np.abs(model.layer.W1).max(axis=1, keepdims=True) / 127
    assert (np.abs(reloaded.layer.W1 - model.layer.W1) <= step / 2 + 1e-7).all()
    assert np.abs(reloaded.layer.W1 - model.layer.W1).max() > 0  # it was quantised
    np.testing.assert_allclose(reloaded.decision_function(batch), model.decision_function(batch),
                               atol=0.02)
    # Files of format /1 (W1 as float16) still load.
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k not in ("W1_int8", "W1_scale")}
    header = json.loads(str(arrays["header"]))
    arrays["header"] = np.array(json.dumps({**header, "format": "textmine-ngram-nn/1"}))
    np.savez_compressed(tmp_path / "old.npz", W1=model.layer.W1.astype(np.float16), **arrays)
    old = NgramModel.load(tmp_path / "old.npz")
    np.testing.assert_allclose(old.decision_function(batch), model.decision_function(batch),
                               atol=1e-3)
    # Scoring in chunks (large batches) gives the same scores as one pass.
    many = pd.concat([batch] * 70, ignore_index=True)
    np.testing.assert_allclose(model.decision_function(many)[: len(batch)],
                               model.decision_function(batch), rtol=1e-5)


def test_a_hidden_layer_cannot_sit_on_a_base_model(reviews):
    batch, labels = reviews
    with pytest.raises(ValueError, match="base"):
        NgramModel(NgramSettings(bits=16, min_df=1, hidden=4, base="default")).fit(batch, labels)
