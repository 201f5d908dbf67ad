"""Sentiment models: the shipped default, the n-gram recipe, save/load, polarity bands."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.conftest import NEGATIVE, POSITIVE
from textmine.config import Config
from textmine.errors import TextmineError
from textmine.lexicons import load_lexicons
from textmine.sentiment import load_model, polarity, score, shipped_model_path
from textmine.sentiment.ngram import NgramModel, NgramSettings
from textmine.sentiment.train import prepare_texts, rating_labels


@pytest.fixture(scope="module")
def lexicons():
    return load_lexicons()


@pytest.fixture(scope="module")
def batch():
    return prepare_texts(pd.Series(POSITIVE + NEGATIVE), Config())


def test_default_is_the_shipped_ngram_model(lexicons):
    model = load_model("default", lexicons)
    assert isinstance(model, NgramModel)
    assert shipped_model_path().stat().st_size < 3_000_000
    assert model.info["training"]["n"] > 50_000  # shopping + hotel reviews
    assert shipped_model_path().with_suffix(".md").is_file()  # provenance next to it


def test_issue_negation_and_contrast_cases_with_the_default_model():
    frame = score(pd.DataFrame({"text": ["不太好", "不是不好", "物流很快，但是质量太差"]}))
    assert list(frame["polarity"] != "negative") == [False, True, False]


def test_default_model_separates_plain_reviews(lexicons, batch):
    proba = load_model("default", lexicons).predict_proba(batch)
    assert (proba[:8] > 0.5).all() and (proba[8:] < 0.5).all()


def test_saved_model_predicts_like_the_fitted_one(batch, tmp_path, lexicons):
    labels = np.array([1] * 8 + [0] * 8)
    model = NgramModel(NgramSettings(bits=16, min_df=1)).fit(batch, labels)
    path = model.save(tmp_path / "tiny")
    assert path.suffix == ".npz"
    loaded = load_model(str(path), lexicons)
    assert np.allclose(loaded.predict_proba(batch), model.predict_proba(batch), atol=0.02)
    assert loaded.predict_proba(batch.iloc[:0]).shape == (0,)


def test_base_model_logit_is_an_input(batch, lexicons):
    labels = np.array([1] * 8 + [0] * 8)
    model = NgramModel(NgramSettings(bits=16, min_df=1, base="default"),
                       lexicons=lexicons).fit(batch, labels)
    assert len(model.extra_coef) == 1 and model.extra_coef[0] > 0


def test_unreadable_or_missing_model_is_a_user_error(tmp_path, lexicons):
    bogus = tmp_path / "bogus.npz"
    np.savez(bogus, header=np.array('{"format": "something-else"}'))
    for name in (str(bogus), str(tmp_path / "missing.npz")):
        with pytest.raises(TextmineError) as err:
            load_model(name, lexicons)
        assert err.value.code == "E016"


def test_rating_thresholds_leave_the_middle_out():
    labels, used = rating_labels(pd.Series(["1", "2星", "3", "4", "5", None, "x"]))
    assert list(used) == [True, True, False, True, True, False, False]
    assert list(labels[used]) == [0, 0, 1, 1]
    with pytest.raises(TextmineError):
        rating_labels(pd.Series(["1"]), negative_max=4, positive_min=4)


def test_polarity_band_is_the_configured_one():
    config = Config()
    values = np.array([config.neutral_low - 0.01, config.neutral_low, config.neutral_high])
    assert list(polarity(values, config.neutral_low, config.neutral_high)) == [
        "negative", "neutral", "positive"]


def test_every_named_model_scores_the_same_batch(lexicons, batch):
    for name in ("snownlp", "lexicon", "default"):
        proba = load_model(name, lexicons).predict_proba(batch)
        assert proba.shape == (16,) and ((proba >= 0) & (proba <= 1)).all()
        assert proba[:8].mean() > proba[8:].mean()


def test_nb_scales_follow_the_labels_and_tfidf_stays_available(batch, tmp_path, lexicons):
    from textmine.sentiment.ngram import _buckets, _char_keys

    labels = np.array([1] * 8 + [0] * 8)
    model = NgramModel(NgramSettings(bits=16, min_df=1)).fit(batch, labels)
    assert model.settings.weighting == "nb"
    # 推 (推荐) occurs in positive texts only, 差 (质量太差, 差评) in negative ones only.
    (_, keys) = _char_keys(["推差"], (1,))
    good, bad = model.scale[_buckets(keys, 16)]
    assert good > 0 > bad
    tfidf = NgramModel(NgramSettings(bits=16, min_df=1, weighting="tfidf")).fit(batch, labels)
    assert (tfidf.scale >= 0).all()
    loaded = load_model(str(tfidf.save(tmp_path / "tfidf")), lexicons)
    assert np.allclose(loaded.predict_proba(batch), tfidf.predict_proba(batch), atol=0.02)


def test_nb_scales_do_not_depend_on_the_number_of_buckets(batch):
    from textmine.sentiment.ngram import _buckets, _char_keys

    labels = np.array([1] * 8 + [0] * 8)
    (_, keys) = _char_keys(["推差好的"], (1,))
    found = []
    for bits in (16, 20):
        model = NgramModel(NgramSettings(bits=bits, min_df=1, lexicon=False)).fit(batch, labels)
        found.append(model.scale[_buckets(keys, bits)])
    # Normalising over every bucket (most of them empty) shifted all ratios with 2**bits.
    assert np.allclose(found[0], found[1], atol=1e-5)


def test_calibration_is_fitted_on_out_of_fold_scores(batch):
    labels = np.array([1] * 8 + [0] * 8)
    model = NgramModel(NgramSettings(bits=16, min_df=1, calibration_folds=4)).fit(batch, labels)
    validation = model.info["validation"]
    assert validation["n"] == len(labels)  # every row scored by a model that never saw it
    assert validation["split"].startswith("4-fold out-of-fold")
    assert model.calibration[0] > 0  # a higher n-gram score means more likely positive
    small = NgramModel(NgramSettings(bits=16, min_df=1, calibration_folds=0)).fit(batch, labels)
    assert small.info["validation"] == {}  # 10 % of 16 rows is too few to hold out


def test_auto_C_is_chosen_on_out_of_fold_scores_and_recorded(batch):
    labels = np.array([1] * 8 + [0] * 8)
    model = NgramModel(NgramSettings(bits=16, min_df=1, calibration_folds=4, C="auto",
                                     C_grid=(0.5, 8.0))).fit(batch, labels)
    search = model.info["validation"]["C_search"]
    assert set(search) == {"0.5", "8"}
    assert model.info["C"] in (0.5, 8.0)
    assert search[f"{model.info['C']:g}"] == max(search.values())
    fixed = NgramModel(NgramSettings(bits=16, min_df=1, calibration_folds=4, C=2.0)).fit(batch, labels)
    assert fixed.info["C"] == 2.0 and "C_search" not in fixed.info["validation"]


def test_grouped_calibration_folds_keep_each_group_on_one_side(batch):
    labels = np.array([1] * 8 + [0] * 8)
    groups = np.array(["衣服", "水果", "手机", "书籍"] * 4)
    model = NgramModel(NgramSettings(bits=16, min_df=1, calibration_folds=2))
    parts, how = model._calibration_parts(labels, groups)
    assert len(parts) == 2 and "whole groups" in how
    for fitted, scored in parts:
        assert not set(groups[fitted]) & set(groups[scored])
    fitted = model.fit(batch, labels, groups=groups)
    assert fitted.info["validation"]["n"] == len(labels)
    assert "whole groups" in fitted.info["validation"]["split"]
    # One group only: nothing to hold out by group, so the folds are stratified instead.
    _, how = model._calibration_parts(labels, np.array(["衣服"] * 16))
    assert how.startswith("2-fold out-of-fold scores of the training file (seed")


def test_character_4_grams_do_not_collide_with_their_3_gram_tails():
    from textmine.sentiment.ngram import _char_keys

    # Packing 4 x 21 bits into 64 kept only the lowest bit of the first character, so
    # 好评如潮 and 坏评如潮 (odd code points both) were one key, and the key of 评如潮.
    _, threes = _char_keys(["好评如潮", "坏评如潮"], (3,))
    _, fours = _char_keys(["好评如潮", "坏评如潮"], (4,))
    assert len(set(fours.tolist())) == 2
    assert not set(fours.tolist()) & set(threes.tolist())


def _two_domain_batch() -> tuple[pd.DataFrame, np.ndarray]:
    """快 is good news for a parcel and bad news for a battery."""
    parcel_good = ["快递很快", "送得快", "发货快", "到得快，很快"] * 3
    parcel_bad = ["快递很慢", "送得慢", "发货慢", "到得慢，太慢"] * 3
    battery_good = ["电池耐用", "电量耐用", "很耐用", "续航耐用"] * 3
    battery_bad = ["掉电很快", "没电快", "耗电快", "用得快，很快"] * 3
    texts = parcel_good + parcel_bad + battery_good + battery_bad
    batch = prepare_texts(pd.Series(texts), Config())
    batch["品类"] = ["快递"] * 24 + ["手机"] * 24
    labels = np.array([1] * 12 + [0] * 12 + [1] * 12 + [0] * 12)
    return batch, labels


def test_a_domain_column_lets_one_word_mean_different_things_per_domain(tmp_path, lexicons):
    batch, labels = _two_domain_batch()
    settings = NgramSettings(bits=16, min_df=1, calibration_folds=0, lexicon=False)
    by_domain = NgramModel(replace(settings, domain_col="品类"), lexicons=lexicons).fit(batch, labels)
    assert by_domain.domains == ["快递", "手机"]
    query = prepare_texts(pd.Series(["很快"] * 3), Config())
    query["品类"] = ["快递", "手机", "文具"]  # the last one the model never saw
    parcel, battery, unseen = by_domain.decision_function(query)
    assert parcel > 0 > battery
    # An unknown domain gets the shared n-grams only; so does a batch without the column.
    assert unseen == pytest.approx(by_domain.decision_function(query.drop(columns="品类"))[0])
    reloaded = NgramModel.load(by_domain.save(tmp_path / "domains"), lexicons)
    assert reloaded.domains == by_domain.domains and reloaded.settings.domain_col == "品类"
    np.testing.assert_allclose(reloaded.decision_function(query),
                               by_domain.decision_function(query), atol=0.05)
    # Scoring falls back to the canonical `product` column (what `analyze` batches carry).
    renamed = query.rename(columns={"品类": "product"})
    np.testing.assert_allclose(by_domain.decision_function(renamed),
                               by_domain.decision_function(query))


@pytest.mark.parametrize("bits", [15, 25])
def test_bucket_count_outside_the_supported_range_is_refused_by_the_settings(bits):
    with pytest.raises(ValueError, match="bits must be between 16 and 24"):
        NgramSettings(bits=bits)


def test_a_model_fitted_on_a_base_model_refuses_a_changed_base(batch, tmp_path, lexicons):
    labels = np.array([1] * 8 + [0] * 8)
    base_path = NgramModel(NgramSettings(bits=16, min_df=1)).fit(batch, labels).save(
        tmp_path / "base.npz")
    on_top = NgramModel(NgramSettings(bits=16, min_df=1, base=str(base_path)),
                        lexicons=lexicons).fit(batch, labels).save(tmp_path / "on_top.npz")
    assert load_model(str(on_top), lexicons).predict_proba(batch).shape == (16,)
    NgramModel(NgramSettings(bits=16, min_df=1, C=1.0)).fit(batch, labels).save(base_path)
    with pytest.raises(TextmineError) as err:
        load_model(str(on_top), lexicons)
    assert err.value.code == "E016" and "base model" in str(err.value.message())


def test_fits_run_two_at_a_time_and_give_the_model_one_at_a_time_gives(batch, monkeypatch):
    import textmine.sentiment.ngram as ngram

    labels = np.array([1] * 8 + [0] * 8)
    models = []
    for threads in (1, 2):
        monkeypatch.setattr(ngram, "FIT_THREADS", threads)
        for C in (2.0, "auto"):  # one C: the final fit runs beside the folds' fits
            settings = NgramSettings(bits=16, min_df=1, calibration_folds=4, C=C)
            models.append(NgramModel(settings).fit(batch, labels))
    for serial, parallel in zip(models[:2], models[2:], strict=True):
        assert np.array_equal(serial.coef, parallel.coef)
        assert serial.intercept == parallel.intercept
        # The calibration's own solver (lbfgs over BLAS) may differ in the last digits.
        assert np.allclose(serial.calibration, parallel.calibration, rtol=1e-4)
        for key in ("accuracy", "macro_f1", "roc_auc"):
            assert serial.info["validation"][key] == pytest.approx(
                parallel.info["validation"][key], abs=0.02)
        # The final weights are the regression on all rows with the final vocabulary, even
        # when that fit was started before the folds' fits changed the model's vocabulary.
        alone = ngram._logistic(parallel._matrix(batch), labels, parallel.info["C"], 13)
        assert np.allclose(alone.coef_.ravel()[:1 << 16], parallel.coef, atol=1e-6)
