"""`TopicModel`: complaint topics with a scikit-learn feel (fit, transform, predict, save, load)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from textmine.errors import TextmineError
from textmine.topics import labels as lab
from textmine.topics.engines import (
    ENGINES,
    LdaState,
    fit,
    fit_many,
    infer,
    one_topic_posterior,
    topic_weights,
)
from textmine.topics.preprocess import PosLookup, TermVocabulary, candidate_filter
from textmine.topics.select import Candidate, choose_k, npmi_coherence, stability, top_term_ids

FORMAT = "textmine-topics/1"
DEFAULT_K_RANGE = (8, 10, 12, 14, 16)
OTHER = lab.OTHER
# Distinct terms a document needs to be learnt from, per engine (see `TopicModel._trainable`).
MIN_TERMS = {"gensim": 2, "tomotopy": 1}

Docs = Sequence[str | Sequence[str]]


@dataclass
class Topic:
    """One topic as people read it."""

    topic_id: int
    label: str
    words: list[str]  # relevance-ranked: frequent in the topic and distinctive for it
    top_terms: list[str]  # most probable terms (what coherence is measured on)
    n_docs: int = 0
    share: float = 0.0  # of the documents the model was fitted on
    coherence: float = 0.0  # NPMI of the top-10 terms
    quotes: list[str] = field(default_factory=list)


class TopicModel:
    """LDA over complaint texts, tuned for short Chinese reviews.

    `docs` are raw texts (segmented with the lexicons' segmenter) or token lists (the
    workspace's `tokens` column). Fitting learns the term vocabulary (POS filter, filler and
    stopwords out, bigram phrases, document-frequency pruning), picks K when `k="auto"`, fits
    the LDA engine and labels the topics. A fitted model needs no lexicons to transform token
    lists, so a stored model assigns next week's documents to the same topics. `transform`
    gives LDA's topic mixtures; `predict_proba` / `predict` give each document the one topic
    that explains all its words (the one-topic posterior, with topic weights fitted by EM).

    Settings: `engine` "gensim" (batch variational Bayes from an NMF start) or "tomotopy"
    (Gibbs sampling); `passes` over the data per fit; `iterations` of gensim's per-document
    E-step; `workers` processes fitting candidate K side by side (each
    fit is single-process, so reproducible); `min_prob`: a document whose most probable topic
    (`predict_proba`) is below it is "other" (-1); `select_sample` documents and `select_seeds` seeds (each on its own
    resample) per candidate K; `no_below` /
    `no_above` / `max_terms` prune the vocabulary; `min_terms` distinct terms a document needs
    to be learnt from (shorter ones are only assigned; None: the engine's measured default,
    `MIN_TERMS`); `relevance` is the label words' λ.

    >>> model = TopicModel(k="auto", seed=0).fit(texts)          # doctest: +SKIP
    >>> topic_ids, probs = model.predict(new_texts)               # doctest: +SKIP
    """

    def __init__(self, k: int | str = "auto", *, k_range: Sequence[int] = DEFAULT_K_RANGE,
                 engine: str = "gensim", passes: int = 10, iterations: int = 20, seed: int = 0,
                 workers: int = 2, min_prob: float = 0.3, binary: bool = True,
                 select_sample: int = 20000, select_seeds: int = 2, no_below: int = 5,
                 no_above: float = 0.2, max_terms: int = 8000, min_terms: int | None = None,
                 relevance: float = lab.RELEVANCE_LAMBDA,
                 lexicons: Any = None, segmenter: Any = None) -> None:
        self.k = k
        self.k_range = tuple(k_range)
        self.engine = engine
        self.passes = passes
        self.iterations = iterations
        self.seed = seed
        self.workers = workers
        self.min_prob = min_prob
        self.binary = binary
        self.select_sample = select_sample
        self.select_seeds = select_seeds
        self.no_below = no_below
        self.no_above = no_above
        self.max_terms = max_terms
        self.min_terms = min_terms
        self.relevance = relevance
        self.lexicons = lexicons
        self.segmenter = segmenter

    _PARAMS = ("k", "k_range", "engine", "passes", "iterations", "seed", "workers", "min_prob",
               "binary", "select_sample", "select_seeds", "no_below", "no_above", "max_terms",
               "min_terms", "relevance")

    def get_params(self) -> dict[str, Any]:
        """The settings (JSON-ready), as scikit-learn's estimators report them."""
        return {name: (list(v) if isinstance(v := getattr(self, name), tuple) else v)
                for name in self._PARAMS}

    def __repr__(self) -> str:
        return f"TopicModel(k={self.k!r}, engine={self.engine!r}, seed={self.seed})"

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, docs: Docs, y: Any = None) -> TopicModel:
        """Learn terms, choose K (when "auto"), fit LDA and label the topics; returns self."""
        self._check_params()
        started = time.perf_counter()
        tokens = self._tokens(docs)
        lexicons = self._lexicons()
        excluded = (lexicons.filler | lexicons.stopwords | lexicons.negations
                    | frozenset(lexicons.degree) | lexicons.contrast)
        keep = candidate_filter(PosLookup(self._segmenter()), excluded)
        self.vocabulary_ = TermVocabulary(no_below=self.no_below, no_above=self.no_above,
                                          max_terms=self.max_terms)
        counts = self._counts(self.vocabulary_.fit(tokens, keep))
        if counts.shape[1] < 2:
            raise TextmineError("E019", f"only {counts.shape[1]} topic terms in {len(tokens)} documents",
                                fix="Fit on more complaint documents (a few hundred at least).")
        trainable = self._trainable(counts)
        self.selection_: list[dict[str, Any]] = []
        self.selection_reason_ = ""
        self.stability_: float | None = None
        k = self._select_k(trainable) if self.k == "auto" else int(self.k)
        self.state_ = fit(self.engine, trainable, k, self.seed, self.passes, self.iterations)
        self.topic_weights_ = topic_weights(trainable, self.state_)
        self.n_topics_ = k
        self._describe(counts)
        self.n_docs_ = len(tokens)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _trainable(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """The documents LDA learns from: those with at least `min_terms` distinct terms.

        Topics are learnt from words that occur together; a one-term review ("物流") holds no
        co-occurrence, it only adds its word's count to whichever topic already owns it (gensim:
        NMI 0.521 → 0.542, mean over K = 10–16, on the shopping negatives). It is still assigned
        afterwards like any document. Falls back to every non-empty document when fewer than
        half of them are long enough (tiny or very terse corpora). tomotopy's Gibbs sampler
        keeps them by default: without them its auto-K fit scored NMI 0.547 instead of 0.555
        and top-10 overlap across seeds 67% instead of 78% there.
        """
        min_terms = MIN_TERMS[self.engine] if self.min_terms is None else self.min_terms
        n_terms = counts.getnnz(axis=1)
        long_enough = n_terms >= max(min_terms, 1)
        if long_enough.sum() < 0.5 * (n_terms > 0).sum():
            long_enough = n_terms > 0
        return counts[long_enough]

    def fit_predict(self, docs: Docs, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        tokens = self._tokens(docs)
        return self.fit(tokens).predict(tokens)

    def _check_params(self) -> None:
        if self.engine not in ENGINES:
            raise TextmineError("E015", f"engine {self.engine!r}",
                                fix=f"Use one of: {', '.join(ENGINES)}.")
        if self.k != "auto" and (not str(self.k).isdigit() or int(self.k) < 2):
            raise TextmineError("E015", f"k={self.k!r}", fix="Use --k auto or a whole number ≥ 2.")
        if self.k == "auto" and not self.k_range:
            raise TextmineError("E015", "empty k_range", fix="Give candidate K values, e.g. 8,10,12.")

    def _select_k(self, counts: sparse.csr_matrix) -> int:
        """Fit each candidate K on `select_seeds` resamples (seed i draws sample i); score, choose.

        Each resample holds at most `select_sample` documents and at most 80% of them, so two
        fits of one K differ in their data as well as their seed: a K whose topics come back
        from different documents is one whose topics are in the data, even for an engine whose
        start does not depend on the seed (gensim's NMF start).
        """
        n = counts.shape[0]
        size = max(2, min(self.select_sample, int(0.8 * n)))
        samples = [counts[np.sort(np.random.default_rng(self.seed + i).choice(n, size, replace=False))]
                   for i in range(self.select_seeds)]
        jobs = [(k, self.seed + i) for k in self.k_range for i in range(self.select_seeds)]
        states = fit_many(self.engine, samples, jobs, self.passes, self.iterations, self.workers)
        candidates = []
        for j, k in enumerate(self.k_range):
            fits = states[j * self.select_seeds:(j + 1) * self.select_seeds]
            tops = [top_term_ids(s.topic_word) for s in fits]
            coherence = float(np.mean(npmi_coherence(counts, tops[0])))
            candidates.append(Candidate(k, coherence, stability(tops)))
        best, why = choose_k(candidates)
        self.selection_ = [c.as_dict() for c in candidates]
        self.selection_reason_ = why
        self.stability_ = best.stability
        return best.k

    def _describe(self, counts: sparse.csr_matrix) -> None:
        """Labels, shares and coherence of the fitted topics (quotes need texts: `quote`)."""
        state, terms = self.state_, self.vocabulary_.terms
        topic_word = state.topic_word
        term_prob = np.asarray(counts.sum(axis=0)).ravel() + 1.0
        term_prob /= term_prob.sum()
        words = lab.ranked_words(lab.relevance(topic_word, term_prob, self.relevance), terms)
        tops = top_term_ids(topic_word)
        coherence = npmi_coherence(counts, tops)
        ids, _ = self._assign(self._posterior(counts))
        n_docs, share = lab.shares(ids, self.n_topics_)
        self.topics_: list[Topic] = []
        taken: set[str] = set()
        for t in range(self.n_topics_):
            label = lab.make_label(words[t], taken)
            taken.add(label)
            self.topics_.append(Topic(t, label, words[t], [terms[i] for i in tops[t]],
                                      int(n_docs[t]), float(share[t]), float(coherence[t])))
        self.coherence_ = float(np.mean(coherence))
        self.other_share_ = float(np.mean(ids == OTHER))

    # -- using ------------------------------------------------------------------------------
    def transform(self, docs: Docs) -> np.ndarray:
        """Topic mixture of each document (rows sum to 1; all zeros when no topic term occurs)."""
        self._check_fitted()
        counts = self._counts(self.vocabulary_.transform(self._tokens(docs)))
        return infer(counts, self.state_)

    def predict_proba(self, docs: Docs) -> np.ndarray:
        """p(topic | document) when the document is about one topic (rows sum to 1; 0 without terms).

        A short review is nearly always about one thing, so its topic is the one that explains
        all of its words together: topic weight × Π p(word | topic) (the mixture-of-unigrams
        posterior of Nigam et al. 2000, the assumption of short-text models such as GSDMM).
        `transform`'s mixture lets each word pick its own topic instead, so a review naming a
        product and a generic complaint word ("物流") is split between a product topic and an
        aspect topic and often lands in the aspect one; here the product word, rare in every
        other topic, decides.
        """
        self._check_fitted()
        return self._posterior(self._counts(self.vocabulary_.transform(self._tokens(docs))))

    def predict(self, docs: Docs) -> tuple[np.ndarray, np.ndarray]:
        """(topic_id, topic_prob) per document from `predict_proba`; -1 below `min_prob`."""
        return self._assign(self.predict_proba(docs))

    def _posterior(self, counts: sparse.csr_matrix) -> np.ndarray:
        if self.topic_weights_ is None:  # stored before the one-topic rule: LDA's mixture
            return infer(counts, self.state_)
        return one_topic_posterior(counts, self.state_, self.topic_weights_)

    def _assign(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ids = proba.argmax(axis=1).astype(np.int32)
        probs = proba.max(axis=1) if proba.shape[1] else np.zeros(len(proba))
        ids[probs < self.min_prob] = OTHER
        return ids, probs

    @property
    def labels(self) -> dict[int, str]:
        """topic_id -> label (plus -1 -> 其他)."""
        self._check_fitted()
        return {OTHER: "其他", **{t.topic_id: t.label for t in self.topics_}}

    def quote(self, texts: Sequence[str], docs: Docs | None = None, n: int = 3) -> TopicModel:
        """Attach up to `n` representative quotes per topic from `texts` (masked texts!)."""
        ids, probs = self.predict(docs if docs is not None else texts)
        for topic in self.topics_:
            topic.quotes = lab.pick_quotes(texts, ids, probs, topic.topic_id, n)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "state_"):
            raise TextmineError("E016", "this TopicModel is not fitted yet",
                                fix="Call fit(...) first, or TopicModel.load(path).")

    # -- inputs -----------------------------------------------------------------------------
    def _lexicons(self):
        if self.lexicons is None:
            from textmine.lexicons import load_lexicons

            self.lexicons = load_lexicons()
        return self.lexicons

    def _segmenter(self):
        if self.segmenter is None:
            from textmine.segment import Segmenter

            self.segmenter = Segmenter(self._lexicons())
        return self.segmenter

    def _tokens(self, docs: Docs) -> list[Sequence[str]]:
        if isinstance(docs, str):
            raise TextmineError("E015", "docs is one string",
                                fix="Pass a list of texts (or of token lists), one per document.")
        out: list[Sequence[str]] = []
        for doc in docs:
            if isinstance(doc, str):
                out.append(self._segmenter()(doc))
            elif doc is None or (isinstance(doc, float) and np.isnan(doc)):
                out.append([])
            else:
                out.append(doc)
        return out

    def _counts(self, term_docs: list[list[str]]) -> sparse.csr_matrix:
        counts = self.vocabulary_.counts(term_docs)
        if self.binary:
            # A long review repeating 房间 ten times is one complaint about the room, not ten.
            counts.data[:] = 1.0
        return counts

    # -- persistence ------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The fitted model as one zip (JSON + arrays; no pickle, safe to load)."""
        self._check_fitted()
        meta = {
            "format": FORMAT, "params": self.get_params(), "n_topics": self.n_topics_,
            "vocabulary": self.vocabulary_.state(), "topics": [asdict(t) for t in self.topics_],
            "selection": self.selection_, "selection_reason": self.selection_reason_,
            "stability": self.stability_, "coherence": self.coherence_,
            "other_share": self.other_share_, "n_docs": self.n_docs_,
            "fit_seconds": self.fit_seconds_,
        }
        arrays = io.BytesIO()
        extra = {} if self.topic_weights_ is None else {"weights": self.topic_weights_}
        np.savez_compressed(arrays, lam=self.state_.lam, alpha=self.state_.alpha, **extra)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("model.json", json.dumps(meta, ensure_ascii=False))
            zf.writestr("lda.npz", arrays.getvalue())
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TopicModel:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                meta = json.loads(zf.read("model.json"))
                arrays = np.load(io.BytesIO(zf.read("lda.npz")))
                lam, alpha = arrays["lam"], arrays["alpha"]
                # A model stored before topic weights existed keeps assigning documents as it
                # did (argmax of the LDA mixture), so its week-to-week trends stay comparable.
                weights = arrays["weights"] if "weights" in arrays.files else None
        except (zipfile.BadZipFile, KeyError, ValueError) as exc:
            raise TextmineError("E016", f"not a textmine topic model ({exc})",
                                fix="Fit one with `textmine topics fit`.") from exc
        if meta.get("format") != FORMAT:
            raise TextmineError("E016", f"unknown topic model format {meta.get('format')!r}",
                                fix="Refit with this version: `textmine topics fit`.")
        params = meta["params"]
        model = cls(**{k: (tuple(v) if k == "k_range" else v) for k, v in params.items()})
        model.vocabulary_ = TermVocabulary.from_state(meta["vocabulary"])
        model.state_ = LdaState(lam=lam, alpha=alpha)
        model.topic_weights_ = weights
        model.n_topics_ = meta["n_topics"]
        model.topics_ = [Topic(**t) for t in meta["topics"]]
        model.selection_ = meta["selection"]
        model.selection_reason_ = meta["selection_reason"]
        model.stability_ = meta["stability"]
        model.coherence_ = meta["coherence"]
        model.other_share_ = meta["other_share"]
        model.n_docs_ = meta["n_docs"]
        model.fit_seconds_ = meta["fit_seconds"]
        return model

    def save(self, path: str | Path) -> Path:
        """Write the model to one file (written whole, then renamed: readers never see half)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TopicModel:
        path = Path(path)
        if not path.is_file():
            raise TextmineError("E016", where=str(path), fix="Fit a model with `textmine topics fit`.")
        return cls.from_bytes(path.read_bytes())
