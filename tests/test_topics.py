"""TopicModel: readable, reproducible topics that carry over to new documents."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import CORPORA

from textmine.analyze import analyze
from textmine.config import Config
from textmine.lexicons import load_lexicons
from textmine.segment import Segmenter
from textmine.topics import TopicModel, store
from textmine.topics.engines import LdaState
from textmine.topics.preprocess import merge_phrases
from textmine.topics.select import Candidate, choose_k, topic_overlap
from textmine.workspace import open_workspace


@pytest.fixture(scope="module")
def lexicons():
    return load_lexicons()


@pytest.fixture(scope="module")
def complaint_tokens(tmp_path_factory) -> list[list[str]]:
    """Tokens of the complaint documents of corpora/reviews.csv, as `analyze` stores them."""
    ws_path = tmp_path_factory.mktemp("topics") / "ws.duckdb"
    analyze([CORPORA / "reviews.csv"], config=Config(workspace=str(ws_path), workers=1))
    with open_workspace(ws_path, read_only=True) as ws:
        docs = store.select_documents(ws)
    assert len(docs) > 100
    return [list(t) for t in docs["tokens"]]


def tiny(**kw) -> TopicModel:
    return TopicModel(**{"k": 4, "passes": 3, "workers": 1, "no_below": 2, **kw})


@pytest.fixture(scope="module")
def fitted(complaint_tokens) -> TopicModel:
    return tiny().fit(complaint_tokens)


def test_userdict_pos_tags_win_over_rjiebas_old_tags(lexicons):
    # rjieba already knows 续航 as a name (nr); our userdict says noun.
    assert lexicons.userdict["续航"][1] == "n"
    assert dict(Segmenter(lexicons).tag("续航太差了"))["续航"] == "n"


def test_no_stopword_or_filler_among_any_topics_top5_label_words(fitted, lexicons):
    banned = lexicons.stopwords | lexicons.filler
    for topic in fitted.topics_:
        assert not set(topic.words[:5]) & banned, topic
        assert not set(topic.label.split("、")) & banned, topic.label
        assert topic.label


def test_same_data_and_seed_give_identical_topics(complaint_tokens, fitted):
    again = tiny().fit(complaint_tokens)
    assert [t.top_terms for t in again.topics_] == [t.top_terms for t in fitted.topics_]
    assert [t.label for t in again.topics_] == [t.label for t in fitted.topics_]
    np.testing.assert_allclose(again.transform(complaint_tokens), fitted.transform(complaint_tokens))


def test_saved_model_assigns_the_same_topics_without_lexicons(complaint_tokens, fitted, tmp_path):
    loaded = TopicModel.load(fitted.save(tmp_path / "m.topics"))
    ids, probs = fitted.predict(complaint_tokens)
    ids2, probs2 = loaded.predict(complaint_tokens)
    assert (ids == ids2).all()
    np.testing.assert_allclose(probs, probs2)
    assert loaded.labels == fitted.labels
    assert loaded.lexicons is None  # token lists need no lexicons once fitted


def test_one_term_documents_are_assigned_but_not_learnt_from(complaint_tokens, fitted):
    word = fitted.topics_[0].top_terms[0]
    extra = [[word]] * 3 + [[t.top_terms[0]] for t in fitted.topics_[1:]]
    more = tiny().fit(complaint_tokens + extra)
    assert [t.top_terms for t in more.topics_] == [t.top_terms for t in fitted.topics_]
    ids, _ = more.predict(extra)
    assert (ids >= 0).all()
    with_them = tiny(min_terms=1).fit(complaint_tokens + extra)
    assert not np.allclose(with_them.state_.lam, more.state_.lam)


def test_documents_that_fit_no_topic_get_minus_one(fitted):
    topical = fitted.topics_[0].top_terms[:3]
    ids, probs = fitted.predict([[], ["的", "了"], ["东西", "感觉"], topical])
    assert ids[:3].tolist() == [-1, -1, -1]
    assert probs[:3].tolist() == [0.0, 0.0, 0.0]
    assert ids[3] == 0 and probs[3] >= fitted.min_prob


def test_weak_fit_is_other_not_a_forced_label(fitted):
    strict = TopicModel.from_bytes(fitted.to_bytes())
    strict.min_prob = 1.01  # no mixture can reach it
    ids, probs = strict.predict([t.top_terms[:2] for t in fitted.topics_])
    assert (ids == -1).all() and (probs > 0).all()


def test_transform_rows_are_distributions(fitted, complaint_tokens):
    theta = fitted.transform(complaint_tokens[:50] + [[]])
    sums = theta.sum(axis=1)
    assert np.allclose(sums[:-1][sums[:-1] > 0], 1.0)
    assert sums[-1] == 0


def test_raw_texts_are_segmented_with_the_lexicons(fitted):
    ids, _ = fitted.predict(["物流太慢了，快递员态度也差", "。。。"])
    assert ids[1] == -1


def test_auto_k_scores_every_candidate_and_says_why(complaint_tokens):
    model = tiny(k="auto", k_range=(2, 3), passes=2).fit(complaint_tokens)
    assert [row["k"] for row in model.selection_] == [2, 3]
    assert sum(row["chosen"] for row in model.selection_) == 1
    assert model.n_topics_ in (2, 3)
    assert f"K={model.n_topics_}" in model.selection_reason_
    assert all(-1 <= row["coherence"] <= 1 and 0 <= row["stability"] <= 1
               for row in model.selection_)


def test_choose_k_prefers_coherent_among_stable():
    rows = [Candidate(6, 0.30, 0.50), Candidate(8, 0.20, 0.80), Candidate(10, 0.25, 0.75)]
    best, why = choose_k(rows)
    assert best.k == 10 and best.chosen and "K=10" in why
    best, _ = choose_k([Candidate(6, 0.3, 0.4), Candidate(8, 0.1, 0.6)])
    assert best.k == 8  # none stable: the most stable


def test_topic_overlap_matches_topics_one_to_one():
    share, match = topic_overlap([["a", "b"], ["c", "d"]], [["c", "x"], ["a", "b"]])
    assert match == [1, 0]
    assert share == pytest.approx(0.75)


def test_phrases_merge_greedily_left_to_right():
    table = {("物流", "太慢"): "物流太慢", ("太慢", "差评"): "太慢差评"}
    assert merge_phrases(["物流", "太慢", "差评"], table) == ["物流太慢", "差评"]


def test_bad_parameters_are_user_errors():
    from textmine.errors import TextmineError

    with pytest.raises(TextmineError, match="E015"):
        TopicModel(engine="mallet").fit([["物流"]])
    with pytest.raises(TextmineError, match="E016"):
        TopicModel().predict([["物流"]])
    with pytest.raises(TextmineError, match="E016"):
        TopicModel.from_bytes(b"not a model")


def test_tomotopy_engine_is_reproducible_and_stored_the_same_way(complaint_tokens):
    pytest.importorskip("tomotopy")
    a = tiny(engine="tomotopy", passes=2).fit(complaint_tokens)
    b = tiny(engine="tomotopy", passes=2).fit(complaint_tokens)
    assert [t.top_terms for t in a.topics_] == [t.top_terms for t in b.topics_]
    ids, _ = a.predict(complaint_tokens)
    assert (TopicModel.from_bytes(a.to_bytes()).predict(complaint_tokens)[0] == ids).all()


def test_quotes_are_texts_firmly_in_their_topic(fitted):
    texts = [" ".join(t.top_terms[:3]) + "，太差了" for t in fitted.topics_] + ["还行吧"]
    fitted.quote(texts, n=2)
    ids, _ = fitted.predict(texts)
    for topic in fitted.topics_:
        assert all(ids[texts.index(q)] == topic.topic_id for q in topic.quotes)
        assert len(topic.quotes) <= 2
    assert sum(len(t.quotes) for t in fitted.topics_) >= len(fitted.topics_) // 2
    assert "还行吧" not in [q for t in fitted.topics_ for q in t.quotes]


def test_vectorised_e_step_matches_gensims_own_loop():
    from gensim.models import LdaModel

    from textmine.topics.engines import _vector_lda_class

    rng = np.random.default_rng(0)
    corpus = []
    for _ in range(60):
        ids = sorted(rng.choice(40, size=int(rng.integers(1, 8)), replace=False).tolist())
        corpus.append([(i, float(rng.integers(1, 3))) for i in ids])
    settings = dict(num_topics=4, id2word={i: str(i) for i in range(40)}, random_state=1,
                    iterations=50)
    plain, vector = LdaModel(None, **settings), _vector_lda_class()(None, **settings)
    np.testing.assert_array_equal(plain.state.sstats, vector.state.sstats)
    gamma, sstats = plain.inference(corpus, collect_sstats=True)
    gamma_v, sstats_v = vector.inference(corpus, collect_sstats=True)
    np.testing.assert_allclose(gamma_v, gamma, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(sstats_v, sstats, rtol=1e-3, atol=1e-4)


def test_gensim_start_is_the_same_whatever_the_seed(complaint_tokens, fitted):
    from textmine.topics.engines import nmf_start

    counts = fitted._counts(fitted.vocabulary_.transform(complaint_tokens))
    start = nmf_start(counts, 4)
    assert start.shape == (4, counts.shape[1]) and (start >= 0).all()
    np.testing.assert_array_equal(start, nmf_start(counts, 4))
    # The start holds as many term occurrences as the documents do.
    assert start.sum() == pytest.approx(counts.sum())


def _two_topics() -> LdaState:
    # Term 0 names a product (almost only in topic 0); term 1 is a complaint aspect (物流) that
    # topic 1 is about but product reviews mention too; terms 2-3 belong to topic 1.
    return LdaState(lam=np.array([[50.0, 20.0, 0.01, 29.99], [0.01, 60.0, 39.99, 0.0001]]),
                    alpha=np.array([0.5, 0.5]))


def test_a_reviews_topic_is_the_one_that_explains_all_its_words():
    from scipy import sparse

    from textmine.topics.engines import infer, one_topic_posterior

    state = _two_topics()
    review = sparse.csr_matrix(np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]))
    proba = one_topic_posterior(review, state, np.array([0.5, 0.5]))
    # The product word, rare in the aspect topic, decides; the word-by-word mixture splits it.
    assert proba[0].argmax() == 0 and proba[0].sum() == pytest.approx(1.0)
    assert infer(review, state)[0].max() < proba[0].max()
    assert (proba[1] == 0).all()  # no topic term: no topic


def test_topic_weights_are_how_often_each_topic_is_a_documents_topic():
    from scipy import sparse

    from textmine.topics.engines import topic_weights

    state = _two_topics()
    docs = [[1, 0, 0, 1]] * 80 + [[0, 1, 1, 0]] * 20 + [[0, 0, 0, 0]] * 50
    weights = topic_weights(sparse.csr_matrix(np.array(docs, dtype=float)), state)
    np.testing.assert_allclose(weights, [0.8, 0.2], atol=1e-3)


def test_predict_is_the_most_probable_topic_of_predict_proba(fitted, complaint_tokens):
    proba = fitted.predict_proba(complaint_tokens)
    ids, probs = fitted.predict(complaint_tokens)
    has_terms = proba.sum(axis=1) > 0
    assert np.allclose(proba[has_terms].sum(axis=1), 1.0)
    firm = probs >= fitted.min_prob
    assert (ids[firm] == proba[firm].argmax(axis=1)).all() and (ids[~firm] == -1).all()
    assert sum(t.n_docs for t in fitted.topics_) == int(firm.sum())


def test_a_model_stored_before_topic_weights_assigns_as_it_always_did(fitted, complaint_tokens):
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(fitted.to_bytes())) as old, \
            zipfile.ZipFile(out, "w") as new:
        new.writestr("model.json", old.read("model.json"))
        arrays = io.BytesIO()
        np.savez_compressed(arrays, lam=fitted.state_.lam, alpha=fitted.state_.alpha)
        new.writestr("lda.npz", arrays.getvalue())
    loaded = TopicModel.from_bytes(out.getvalue())
    # Its trends stay comparable: the argmax of the LDA mixture, as when it was stored.
    theta = fitted.transform(complaint_tokens)
    ids, probs = loaded.predict(complaint_tokens)
    np.testing.assert_allclose(probs, theta.max(axis=1))
    assert (ids == np.where(theta.max(axis=1) < loaded.min_prob, -1, theta.argmax(axis=1))).all()
    again = TopicModel.from_bytes(loaded.to_bytes())
    assert again.topic_weights_ is None
