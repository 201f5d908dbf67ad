"""A trainable hashed TF-IDF (word + character n-gram) logistic-regression sentiment model.

Features are integer keys computed for a whole batch with numpy, so scoring costs a few
microseconds per document instead of a Python loop over n-grams:
- character n-grams of `text`: up to 3 characters, the Unicode code points packed into one
  int64 ((c1 << 42) | (c2 << 21) | c3 — code points need 21 bits, so the n's cannot collide);
  longer ones as a polynomial hash of the code points tagged with n (packing 4 x 21 bits
  overflowed 64 and made a 4-gram collide with the 3-gram after its first character);
- word unigrams and bigrams of `tokens`: negative keys built from a fitted word list;
- with `domain_col`, each of those once more keyed by the row's domain (product category).
Keys are hashed into 2**bits buckets whose weights are plain arrays (no vocabulary lookups).
A row is count x scale per bucket divided by the root of its summed squared scales. The scale
is the NB-SVM log-count ratio log(P(bucket | positive) / P(bucket | negative)) by default
(weighting "nb", Wang & Manning 2012), or idf (weighting "tfidf"); logistic regression on
that (or, with `hidden`, a one-hidden-layer network on the same rows: hidden.py), then a
calibration fitted on out-of-fold scores of the training file, so 0.5 means
"as likely positive as negative". A saved model is one `.npz` file (arrays + a JSON header: settings,
training summary, scores), read with `allow_pickle=False`, so loading a file never runs code.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from textmine.sentiment.hidden import HiddenLayer, HiddenTrainer

FORMAT = "textmine-ngram-lr/1"
# Models with a hidden layer carry their own format name, so a textmine that predates them
# refuses the file instead of scoring with weights it does not know.
FORMAT_HIDDEN = "textmine-ngram-nn/2"
# /1 stored W1 as float16; /2 stores it as int8 per row with a float32 scale (half the file).
# Self-trained models average their score with the model that labelled their training rows
# (`anchor`): an older textmine would ignore that setting, so they carry a format name too.
FORMAT_ANCHORED = "textmine-ngram-self/1"
FORMATS_READ = (FORMAT, FORMAT_HIDDEN, FORMAT_ANCHORED, "textmine-ngram-nn/1")
CHUNK = 1000  # rows scored at a time
FIT_THREADS = 2  # logistic regressions fitted at once (two cores)
# Below 2**16 buckets most n-grams share one; above 2**24 the per-bucket arrays each model
# keeps in memory (scales, the hidden layer's row map) pass 64 MB per process.
MIN_BITS, MAX_BITS = 16, 24


@dataclass
class NgramSettings:
    """What a model is fitted with; stored in the model file."""

    char_ngrams: tuple[int, ...] = (1, 2, 3)
    word_ngrams: tuple[int, ...] = (1, 2)
    min_df: int = 2
    bits: int = 20  # 2**bits hashed feature buckets
    weighting: str = "nb"  # per-bucket scale: "nb" log-count ratio or "tfidf" idf
    lexicon: bool = True  # blend the rules scorer's document score in at calibration
    base: str | None = None  # add this model's logit as an input ("default" or a path)
    # Column of each row's domain (e.g. product category). Every n-gram then also counts as
    # "this n-gram in this domain" (feature augmentation, Daume 2007), so 快 can be good for
    # delivery and bad for a battery. Rows of a domain the model never saw, or without the
    # column, use the shared n-grams only. Scoring reads this column, else `product`.
    domain_col: str | None = None
    # Self-training (train.self_train): the model whose confident predictions labelled the
    # training rows ("default" or a path). Scores average the two models' logits, so the
    # anchor still speaks for texts with few of the new domain's n-grams.
    anchor: str | None = None
    # 8: chosen on an inner 10 % split of a training fold (shopping). "auto": each C of
    # C_grid is fitted on the calibration folds and the one whose calibrated out-of-fold
    # accuracy is highest is refitted on everything (no test data; len(C_grid) times the
    # fits; 5-fold CV on hotels 0.9068 against 0.9079 with 8).
    C: float | str = 8.0
    C_grid: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    # Out-of-fold scores for the calibration (0: use `holdout`); 3 folds scored hotels as well
    # as 5 (5-fold CV 0.9079 vs 0.9075) for 4 fits instead of 6.
    calibration_folds: int = 3
    holdout: float = 0.1  # with calibration_folds 0: share of rows kept aside to calibrate
    seed: int = 13
    # hidden > 0: a network with this many hidden units replaces the logistic regression
    # (C is then unused). "auto" epochs: the calibration folds' networks train side by side
    # and stop once their out-of-fold accuracy has not improved for `patience` epochs; the
    # final network trains for the best count (for `max_epochs` when the file is too small to
    # hold rows out). Dropout 0.5 and 32 units: chosen on the
    # development splits (README, sentiment section).
    hidden: int = 0
    epochs: int | str = "auto"
    max_epochs: int = 12
    patience: int = 2
    dropout: float = 0.5

    def __post_init__(self) -> None:
        if not MIN_BITS <= self.bits <= MAX_BITS:
            raise ValueError(f"bits must be between {MIN_BITS} and {MAX_BITS}, not {self.bits}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NgramSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("char_ngrams", "word_ngrams", "C_grid"):
            if key in known:
                known[key] = tuple(known[key])
        return cls(**known)


_POLY = np.int64(1_000_003)  # multiplier of the 4+-gram polynomial hash


def _char_keys(texts: list[str], orders: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, key) for every character n-gram of every text, in one vectorised pass."""
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    # Code point 0 separates documents; n-grams that touch it are dropped.
    codes = np.frombuffer("\0".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)[: len(codes)]
    docs, keys = [], []
    for n in orders:
        if len(codes) < n:
            continue
        key = codes[: len(codes) - n + 1].copy()
        ok = key != 0
        for i in range(1, n):
            nxt = codes[i: len(codes) - n + 1 + i]
            # Three code points fit in 63 bits exactly; longer n-grams are hashed (int64
            # products wrap around) and tagged with n in the top bits.
            key = (key << 21) | nxt if n <= 3 else key * _POLY + nxt
            ok &= nxt != 0
        if n > 3:
            key ^= np.int64(n) << np.int64(58)
        docs.append(doc[: len(key)][ok])
        keys.append(key[ok])
    if not keys:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(docs), np.concatenate(keys)


def _word_keys(tokens: list[list[str]], vocab: dict[str, int], orders: tuple[int, ...]
               ) -> tuple[np.ndarray, np.ndarray]:
    """(doc index, key) for word unigrams/bigrams: -(1 + id) and -(1 + W + id1 * W + id2)."""
    lengths = np.fromiter((len(t) for t in tokens), dtype=np.int64, count=len(tokens))
    # map() with two iterables calls vocab.get(word, -1) without a Python frame per word.
    ids = np.array(list(map(vocab.get, chain.from_iterable(tokens), repeat(-1))), dtype=np.int64)
    doc = np.repeat(np.arange(len(tokens), dtype=np.int64), lengths)
    size = len(vocab)
    docs, keys = [], []
    if 1 in orders:
        ok = ids >= 0
        docs.append(doc[ok])
        keys.append(-(1 + ids[ok]))
    if 2 in orders and len(ids) > 1:
        a, b = ids[:-1], ids[1:]
        ok = (a >= 0) & (b >= 0) & (doc[:-1] == doc[1:])
        docs.append(doc[:-1][ok])
        keys.append(-(1 + size + a[ok] * size + b[ok]))
    if not keys:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(docs), np.concatenate(keys)


_DOMAIN_TAG = np.int64(0x2545F4914F6CDD1D)  # keeps (n-gram, domain) keys apart from n-grams


def _domain_values(values: pd.Series) -> pd.Series:
    """Domains as stripped strings ("" when missing), the same at fitting and scoring."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip()


_MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: one multiply spreads the keys


def _buckets(keys: np.ndarray, bits: int) -> np.ndarray:
    """Hash int64 keys into 2**bits buckets (the weight tables are indexed directly)."""
    return ((keys.view(np.uint64) * _MULT) >> np.uint64(64 - bits)).astype(np.int64)


@dataclass
class NgramModel:
    """Hashed TF-IDF n-grams + logistic regression (or, with `hidden`, a one-hidden-layer
    network) + Platt calibration (SentimentModel).

    `lexicon`: the calibration on out-of-fold scores is a logistic regression on two inputs,
    the n-gram score and the rules scorer's document score (needs `_words`), so negation and
    contrast that bags of n-grams miss (不是不好) move the result as much as held-out data
    says they should. `base`: the logit of another model (e.g. "default") is one more
    column next to the n-grams, so a small rating-labeled file learns corrections to the
    shipped model instead of starting from nothing.
    """

    settings: NgramSettings = field(default_factory=NgramSettings)
    name: str = "ngram"
    version: str = "untrained"
    words: list[str] = field(default_factory=list)
    # Per-bucket feature scale (log-count ratio or idf); 0 = unused bucket.
    scale: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    coef: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    extra_coef: list[float] = field(default_factory=list)
    intercept: float = 0.0
    calibration: tuple[float, ...] = (1.0, 0.0, 0.0)  # p = sigmoid(a * z + b + c * lexicon)
    info: dict[str, Any] = field(default_factory=dict)  # training summary and scores
    domains: list[str] = field(default_factory=list)  # with `domain_col`: the domains fitted
    layer: HiddenLayer | None = None  # with `hidden`: the network (replaces coef)
    hidden_buckets: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    lexicons: Any = field(default=None, repr=False)  # Lexicons, for the extra inputs

    def __post_init__(self) -> None:
        self._vocab = {w: i for i, w in enumerate(self.words)}
        self._domain_index = {d: i for i, d in enumerate(self.domains)}
        self._set_hidden_rows()
        self.lexicon_scorer = self._base = self._anchor = None
        if self.settings.lexicon or self.settings.base or self.settings.anchor:
            from textmine.lexicons import load_lexicons

            lexicons = self.lexicons or load_lexicons()
            if self.settings.lexicon:
                from textmine.sentiment.lexicon import LexiconScorer

                self.lexicon_scorer = LexiconScorer(lexicons)
            from textmine.sentiment import load_model

            if self.settings.base:
                self._base = load_model(self.settings.base, lexicons)
            if self.settings.anchor:
                self._anchor = load_model(self.settings.anchor, lexicons)
                if (isinstance(self._anchor, NgramModel) and self.lexicon_scorer is not None
                        and self._anchor.lexicon_scorer is not None):
                    # Same lexicons, one scorer: it keeps the last batch's clause reading, so
                    # a batch's clauses are read once for both models, not twice.
                    self._anchor.lexicon_scorer = self.lexicon_scorer
        self._check_inputs_unchanged()

    def _input_models(self) -> dict[str, Any]:
        return {role: model for role, model in (("base", self._base), ("anchor", self._anchor))
                if isinstance(model, NgramModel)}

    def _check_inputs_unchanged(self) -> None:
        """A model fitted on another model's scores (base) or averaged with it (anchor) is only
        what was validated while that model is the same: a rebuilt `default` in a newer
        textmine, or a start model overwritten at its path, would change every score silently."""
        recorded = self.info.get("inputs", {})
        for role, model in self._input_models().items():
            if role in recorded and recorded[role] != model.fingerprint:
                given = getattr(self.settings, role)
                raise ValueError(
                    f"its {role} model {given!r} has changed since it was trained (weights "
                    f"{recorded[role]}, now {model.fingerprint}); train it again against the "
                    f"current {given!r}")

    @property
    def fingerprint(self) -> str:
        """Short digest of the weights, recorded by the models fitted on top of this one."""
        digest = hashlib.sha1()
        for values in (self.scale, self.coef, np.asarray(self.extra_coef, np.float64),
                       np.asarray(self.calibration, np.float64), np.float64(self.intercept),
                       *((self.layer.W1, self.layer.b1, self.layer.w2, np.float64(self.layer.b2))
                         if self.layer else ())):
            digest.update(np.ascontiguousarray(values).tobytes())
        return digest.hexdigest()[:12]

    @property
    def anchor_model(self) -> Any:
        """The model this one was self-trained from (settings.anchor), loaded; else None."""
        return self._anchor

    # -- features ------------------------------------------------------------------------
    def _occurrences(self, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(doc index, bucket) of every n-gram occurrence in the batch."""
        texts = [t if isinstance(t, str) else "" for t in batch["text"]]
        tokens = [t if isinstance(t, list | tuple | np.ndarray) else [] for t in batch["tokens"]]
        cd, ck = _char_keys(texts, self.settings.char_ngrams)
        wd, wk = _word_keys(tokens, self._vocab, self.settings.word_ngrams)
        doc, keys = np.concatenate([cd, wd]), np.concatenate([ck, wk])
        codes = self._domain_codes(batch)
        if codes is not None:
            # The same n-gram once more, keyed by (n-gram, domain), for rows of a known domain.
            known = codes[doc] >= 0
            extra = doc[known]
            keys = np.concatenate([keys, (keys[known] ^ _DOMAIN_TAG) * _POLY + codes[extra]])
            doc = np.concatenate([doc, extra])
        return doc, _buckets(keys, self.settings.bits)

    def _domain_codes(self, batch: pd.DataFrame) -> np.ndarray | None:
        """Index of each row's domain in `domains` (-1: unknown), or None without domains."""
        col = self.settings.domain_col
        if not col or not self._domain_index:
            return None
        name = col if col in batch.columns else "product" if "product" in batch.columns else None
        if name is None:
            return None
        return (_domain_values(batch[name]).map(self._domain_index).fillna(-1)
                .to_numpy(dtype=np.int64))

    def _extras(self, batch: pd.DataFrame) -> np.ndarray:
        """The extra input column (base-model logit), n x 0..1."""
        if self._base is None:
            return np.empty((len(batch), 0))
        p = np.clip(self._base.predict_proba(batch), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p)).reshape(-1, 1)

    def _calibrated(self, z: np.ndarray, batch: pd.DataFrame) -> np.ndarray:
        a, b, c = (*self.calibration, 0.0)[:3]
        z = a * z + b
        lexicon = self.lexicon_scorer
        if lexicon is None:
            return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))
        raw = lexicon.raw_scores(batch)
        p = 1.0 / (1.0 + np.exp(-np.clip(z + c * raw, -50, 50)))
        # Negated complaints (不差, 不是不好) are too rare in training data for n-grams to
        # learn: where they are a text's only opinions, the rules scorer's reading stands.
        cleared = lexicon.cleared_complaints(batch)
        if cleared.any():
            p[cleared] = np.maximum(p[cleared], lexicon.proba_from_raw(raw[cleared]))
        return p

    def _weighted(self, batch: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(doc, bucket, value) per occurrence: its scale divided by the root of the summed
        squared scales of the document's occurrences (an l2 norm of the row that needs no
        per-document grouping)."""
        doc, bucket = self._occurrences(batch)
        weight = self.scale[bucket]
        norms = np.sqrt(np.bincount(doc, weight * weight, minlength=len(batch)))
        norms[norms == 0] = 1.0
        return doc, bucket, weight / norms[doc]

    def _matrix(self, batch: pd.DataFrame) -> sparse.csr_matrix:
        """Rows of `_weighted` values per bucket, then the extra columns."""
        doc, bucket, value = self._weighted(batch)
        matrix = sparse.csr_matrix((value, (doc, bucket)),
                                   shape=(len(batch), 1 << self.settings.bits))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return sparse.hstack([matrix, sparse.csr_matrix(self._extras(batch))], format="csr")

    # -- the contract ----------------------------------------------------------------------
    def decision_function(self, batch: pd.DataFrame) -> np.ndarray:
        """Linear score per row, computed from the occurrences without building a matrix."""
        if len(batch) > CHUNK:
            # Chunks keep the temporary key arrays within the CPU caches.
            return np.concatenate([self.decision_function(batch.iloc[i:i + CHUNK])
                                   for i in range(0, len(batch), CHUNK)])
        if self.layer is not None:
            return self.layer.score(self._hidden_matrix(batch))
        doc, bucket, value = self._weighted(batch)
        z = np.bincount(doc, value * self.coef[bucket], minlength=len(batch))
        if self.extra_coef:
            z += self._extras(batch) @ np.asarray(self.extra_coef)
        return z + self.intercept

    def _set_hidden_rows(self) -> None:
        """Map bucket -> row of the network's W1 (-1: bucket unused)."""
        self._hidden_row = None
        if self.settings.hidden:
            self._hidden_row = np.full(1 << self.settings.bits, -1, np.int32)
            self._hidden_row[self.hidden_buckets] = np.arange(len(self.hidden_buckets))

    def _hidden_matrix(self, batch: pd.DataFrame) -> sparse.csr_matrix:
        """`_weighted` rows over the used buckets only: the network's input."""
        doc, bucket, value = self._weighted(batch)
        row = self._hidden_row[bucket]
        used = row >= 0  # unused buckets have scale 0, so they added nothing to the norms
        doc, row, value = doc[used], row[used], value[used]
        # CSR built directly from occurrences grouped by document (a radix sort on int16 for
        # scoring chunks): a third faster than via COO, whose duplicate summing sorts twice.
        # Repeated (document, bucket) entries are kept; products with the matrix add them up.
        order = np.argsort(doc.astype(np.int16 if len(batch) < 1 << 15 else np.int64),
                           kind="stable")
        indptr = np.zeros(len(batch) + 1, np.int64)
        np.cumsum(np.bincount(doc, minlength=len(batch)), out=indptr[1:])
        return sparse.csr_matrix((value[order].astype(np.float32), row[order], indptr),
                                 shape=(len(batch), len(self.hidden_buckets)))

    def predict_proba(self, batch: pd.DataFrame) -> np.ndarray:
        """Calibrated P(positive) per row from `text` and `tokens` (and `_words`, `lexicon`)."""
        if len(batch) == 0:
            return np.empty(0, float)
        p = self._calibrated(self.decision_function(batch), batch)
        if self._anchor is not None:
            p = _mean_logit(p, self._anchor.predict_proba(batch))
        return p

    # -- fitting ---------------------------------------------------------------------------
    def _fit_vocab(self, batch: pd.DataFrame, labels: np.ndarray) -> None:
        s = self.settings
        df_words: dict[str, int] = {}
        for toks in batch["tokens"]:
            for w in set(toks):
                df_words[w] = df_words.get(w, 0) + 1
        self.words = sorted(w for w, n in df_words.items() if n >= s.min_df)
        self._vocab = {w: i for i, w in enumerate(self.words)}
        doc, bucket = self._occurrences(batch)
        size = 1 << s.bits
        # Summing duplicates leaves one entry per (document, bucket): document frequencies.
        present = sparse.csr_matrix((np.ones(len(doc), np.float32), (doc, bucket)),
                                    shape=(len(batch), size))
        present.sum_duplicates()
        df = np.bincount(present.indices, minlength=size)
        kept = df >= s.min_df
        if s.weighting == "nb":
            # Documents of each class holding the bucket, add-one smoothed, normalised over
            # the buckets kept: normalising over all 2**bits buckets (mostly empty) shifted
            # every ratio by about +0.3, which cost 0.4 points of 5-fold accuracy on hotels.
            rows = np.repeat(labels, np.diff(present.indptr)) == 1
            p = np.bincount(present.indices[rows], minlength=size) + 1.0
            q = np.bincount(present.indices[~rows], minlength=size) + 1.0
            scale = np.log(p / p[kept].sum()) - np.log(q / q[kept].sum())
        else:
            scale = np.log((1 + len(batch)) / (1 + df)) + 1.0
        scale[~kept] = 0.0  # rare buckets are left out entirely
        self.scale = scale.astype(np.float32)
        if s.hidden:
            self.hidden_buckets = np.flatnonzero(self.scale)
            self._set_hidden_rows()

    def _keep_lr(self, lr: Any) -> None:
        """A fitted logistic regression's weights become the model's."""
        size = 1 << self.settings.bits
        self.coef = lr.coef_.ravel()[:size].astype(np.float32)
        self.extra_coef = [float(c) for c in lr.coef_.ravel()[size:]]
        self.intercept = float(lr.intercept_[0])

    def fit(self, batch: pd.DataFrame, labels: np.ndarray | pd.Series,
            summary: dict[str, Any] | None = None,
            groups: np.ndarray | pd.Series | None = None) -> NgramModel:
        """Fit on `batch` (text, tokens[, _words]) and 0/1 `labels`; validation scores in `info`.

        The calibration (and the blend with the rules scorer) is fitted on out-of-fold
        scores: `calibration_folds` models, each fitted without one fold, score that fold, so
        every training row gets a score from a model that never saw it. The same scores give
        the validation figures and, with C "auto", choose C. With `groups` (e.g. the product
        category or source of each row) the folds keep each group together: the blend and C
        are then fitted on scores of groups the model never saw, which is how a shipped model
        meets a new domain. With `calibration_folds` 0 a random `holdout` share is used.
        """

        labels = np.asarray(labels, dtype=int)
        s = self.settings
        if s.domain_col:
            if s.domain_col not in batch.columns:
                raise ValueError(f"domain column {s.domain_col!r} is not in the batch")
            self.domains = sorted(set(_domain_values(batch[s.domain_col])) - {""})
            self._domain_index = {d: i for i, d in enumerate(self.domains)}
        if s.hidden and (s.base or s.anchor):
            raise ValueError("a hidden layer cannot be combined with a base or anchor model")
        scores: dict[str, Any] = {}
        parts, how = self._calibration_parts(labels, groups)
        if s.hidden:
            grid = [] if s.epochs == "auto" else [int(s.epochs)]
            chosen: float = grid[0] if grid else s.max_epochs
        else:
            grid = [float(c) for c in s.C_grid] if s.C == "auto" else [float(s.C)]
            chosen = grid[0]
        # liblinear releases the GIL: the folds' fits (and the final one) run two at a time
        # (the hidden layer's networks do not use the pool).
        with ThreadPoolExecutor(FIT_THREADS) as pool:
            final = None
            if not s.hidden and len(grid) == 1:
                # One C: the final fit needs nothing from the calibration, so it runs beside it.
                self._fit_vocab(batch, labels)
                final = pool.submit(_logistic, self._matrix(batch), labels, grid[0], s.seed)
            if parts:
                scores, chosen = self._calibrate(batch, labels, parts, how, grid, pool)
            self._fit_vocab(batch, labels)
            if s.hidden:
                trainer = HiddenTrainer(self._hidden_matrix(batch), labels, s.hidden, s.dropout, s.seed)
                for _ in range(int(chosen)):
                    trainer.epoch()
                self.layer, self.coef = trainer.layer, np.empty(0, np.float32)
            else:
                self._keep_lr(final.result() if final is not None
                              else _logistic(self._matrix(batch), labels, chosen, s.seed))
        self.info = {"training": {**(summary or {}), "n": int(len(labels)),
                                  "positive": int(labels.sum()),
                                  "negative": int(len(labels) - labels.sum())},
                     "validation": scores,
                     **({"hidden": s.hidden, "epochs": int(chosen)} if s.hidden else {"C": chosen}),
                     "buckets_used": int((self.scale != 0).sum())}
        if s.domain_col:
            self.info["domains"] = {"column": s.domain_col, "n": len(self.domains)}
        if inputs := self._input_models():
            self.info["inputs"] = {role: model.fingerprint for role, model in inputs.items()}
        self.version = f"{self._format}:{self.info['buckets_used']}f"
        return self

    def _calibrate(self, batch: pd.DataFrame, labels: np.ndarray, parts: list, how: str,
                   grid: list, pool: ThreadPoolExecutor) -> tuple[dict[str, Any], float]:
        """Fit the calibration (and rules blend) on the parts' out-of-fold scores for each
        candidate of `grid` (C values, or epochs of the networks); keep the best. Returns the
        validation scores of the kept candidate and that candidate."""
        from textmine.sentiment.metrics import binary_scores

        s = self.settings
        held = np.zeros(len(labels), bool)
        for _, test_idx in parts:
            held[test_idx] = True
        rows = batch.iloc[np.flatnonzero(held)]
        raw = self.lexicon_scorer.raw_scores(rows) if self.lexicon_scorer is not None else None
        candidates = (self._hidden_candidates(batch, labels, parts, grid) if s.hidden
                      else self._linear_candidates(batch, labels, parts, grid, pool))
        best, search, since_best = None, {}, 0
        for value, z in candidates:
            inputs = z[held, None] if raw is None else np.column_stack([z[held], raw])
            self.calibration = _platt(inputs, labels[held])
            found = binary_scores(labels[held], self._calibrated(z[held], rows))
            search[f"{value:g}"] = found["accuracy"]
            since_best += 1
            if best is None or found["accuracy"] > best[0]["accuracy"]:
                best, since_best = (found, value, self.calibration), 0
            if s.hidden and not grid and since_best >= s.patience:
                break  # stops the networks' training (the candidates are a generator)
        scores, chosen, self.calibration = best
        scores["split"] = how
        if len(search) > 1:
            scores["epochs_search" if s.hidden else "C_search"] = search
        return scores, chosen

    def _linear_candidates(self, batch: pd.DataFrame, labels: np.ndarray, parts: list,
                           grid: list[float], pool: ThreadPoolExecutor
                           ) -> list[tuple[float, np.ndarray]]:
        """(C, out-of-fold logistic-regression scores) for every C of `grid`; the fits run in
        `pool` while the next part's rows are built."""
        z = np.zeros((len(grid), len(labels)))
        jobs = []
        for train_idx, test_idx in parts:
            train = batch.iloc[train_idx]
            self._fit_vocab(train, labels[train_idx])
            matrix, scored = self._matrix(train), self._matrix(batch.iloc[test_idx])
            jobs += [(i, test_idx, scored, pool.submit(_logistic, matrix, labels[train_idx], c,
                                                       self.settings.seed))
                     for i, c in enumerate(grid)]
        for i, test_idx, scored, job in jobs:
            z[i, test_idx] = job.result().decision_function(scored)
        return list(zip(grid, z, strict=True))

    def _hidden_candidates(self, batch: pd.DataFrame, labels: np.ndarray, parts: list,
                           grid: list[int]) -> Any:
        """Yield (epochs, out-of-fold network scores) after each epoch (or only after the
        `grid` count): one network per calibration part, trained side by side."""
        s = self.settings
        runs = []
        for train_idx, test_idx in parts:
            train = batch.iloc[train_idx]
            self._fit_vocab(train, labels[train_idx])
            trainer = HiddenTrainer(self._hidden_matrix(train), labels[train_idx], s.hidden,
                                    s.dropout, s.seed)
            runs.append((trainer, self._hidden_matrix(batch.iloc[test_idx]), test_idx))
        last = grid[0] if grid else s.max_epochs
        z = np.zeros(len(labels))
        for epoch in range(1, last + 1):
            for trainer, scored, test_idx in runs:
                z[test_idx] = trainer.epoch().score(scored)
            if not grid or epoch == last:
                yield epoch, z

    def _calibration_parts(self, labels: np.ndarray, groups: Any = None
                           ) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
        """(fit rows, scored rows) pairs for the calibration and how they were made: folds
        that keep each group together, stratified folds, or one random holdout; none when the
        file is too small to hold anything out."""
        s = self.settings
        minority = int(min(labels.sum(), len(labels) - labels.sum()))
        if groups is not None:
            from sklearn.model_selection import GroupKFold

            groups = np.asarray(groups)
            folds = min(s.calibration_folds, len(set(groups.tolist())))
            if folds >= 2 and minority >= folds:
                parts = list(GroupKFold(n_splits=folds).split(np.zeros(len(labels)), labels, groups))
                if all(len(set(labels[b])) == 2 for _, b in parts):
                    return parts, (f"{folds}-fold out-of-fold scores of the training file, "
                                   f"each fold holding whole groups")
        folds = min(s.calibration_folds, minority)
        if folds >= 2:
            from sklearn.model_selection import StratifiedKFold

            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=s.seed)
            return (list(splitter.split(np.zeros(len(labels)), labels)),
                    f"{folds}-fold out-of-fold scores of the training file (seed {s.seed})")
        held = np.random.default_rng(s.seed).random(len(labels)) < s.holdout
        if s.holdout > 0 and held.sum() >= 20 and len(set(labels[held])) == 2:
            return ([(np.flatnonzero(~held), np.flatnonzero(held))],
                    f"random {s.holdout:.0%} held out of the training file (seed {s.seed})")
        return [], ""

    # -- persistence -------------------------------------------------------------------------
    @property
    def _format(self) -> str:
        return (FORMAT_HIDDEN if self.settings.hidden else
                FORMAT_ANCHORED if self.settings.anchor else FORMAT)

    def save(self, path: str | Path) -> Path:
        """Write one `.npz` file (the extension is added when missing)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"format": self._format, "name": self.name, "version": self.version,
                  "settings": asdict(self.settings), "intercept": self.intercept,
                  "extra_coef": self.extra_coef, "calibration": list(self.calibration),
                  "info": self.info, "domains": self.domains}
        # One byte per coefficient; the scales as float16, because log-count ratios near 0
        # would round to 0 in one byte and drop out of the row norms.
        coef, coef_scale = _to_int8(self.coef)
        header["scales"] = [1.0, float(coef_scale)]
        arrays = {"scale": self.scale.astype(np.float16), "coef": coef}
        if self.layer is not None:
            # W1 with one scale per row: the 2**22-bucket shopping network's file is 66.6 MB
            # (115 MB as float16); 20,000 reviews' probabilities moved by at most 0.0018.
            W1, W1_scale = _to_int8(self.layer.W1)
            header["b2"] = float(self.layer.b2)
            arrays.update(hidden_buckets=self.hidden_buckets.astype(np.int32), W1_int8=W1,
                          W1_scale=W1_scale.astype(np.float32), b1=self.layer.b1,
                          w2=self.layer.w2)
        np.savez_compressed(path, header=np.array(json.dumps(header, ensure_ascii=False)),
                            words=np.array("\n".join(self.words)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path, lexicons: Any = None) -> NgramModel:
        """Read a model saved by `save` (no pickle: a model file cannot run code)."""
        with np.load(path, allow_pickle=False) as data:
            header = _header(data)
            words = str(data["words"])
            scales = header.get("scales", [1.0, 1.0])
            layer, buckets = None, np.empty(0, np.int64)
            W1 = (data["W1_int8"] * data["W1_scale"][:, None] if "W1_int8" in data.files
                  else data["W1"].astype(np.float32) if "W1" in data.files  # format /1: float16
                  else None)
            if W1 is not None:
                layer = HiddenLayer(W1=W1, b1=data["b1"], w2=data["w2"], b2=float(header["b2"]))
                buckets = data["hidden_buckets"].astype(np.int64)
            return cls(settings=NgramSettings.from_dict(header["settings"]),
                       name=header["name"], version=header["version"],
                       words=words.split("\n") if words else [],
                       scale=data["scale"].astype(np.float32) * np.float32(scales[0]),
                       coef=data["coef"].astype(np.float32) * np.float32(scales[1]),
                       extra_coef=list(header.get("extra_coef", [])),
                       intercept=float(header["intercept"]),
                       calibration=tuple(header["calibration"]), info=header["info"],
                       domains=list(header.get("domains", [])), layer=layer,
                       hidden_buckets=buckets, lexicons=lexicons)


def _logistic(matrix: sparse.csr_matrix, labels: np.ndarray, C: float, seed: int) -> Any:
    """Logistic regression on `_matrix` rows (seeded: liblinear shuffles the rows)."""
    from sklearn.linear_model import LogisticRegression

    # The dual solver is several times faster with far more columns than rows.
    return LogisticRegression(C=C, max_iter=2000, solver="liblinear", dual=True,
                              random_state=seed).fit(matrix, labels)


def _header(data: Any) -> dict[str, Any]:
    """The JSON header of an open model file, checked to be ours."""
    header = json.loads(str(data["header"]))
    if header.get("format") not in FORMATS_READ:
        raise ValueError(f"not a textmine n-gram model ({', '.join(FORMATS_READ[:3])}): "
                         f"{header.get('format')!r}")
    return header


def _to_int8(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`values` in one byte each, every last-axis row scaled so its largest magnitude is 127,
    and the scale of each row (one number for a vector; 1 where a row is all zeros)."""
    scale = np.abs(values).max(axis=-1, initial=0.0) / 127.0
    scale = np.where(scale == 0, 1.0, scale)
    return np.round(values / scale[..., None]).astype(np.int8), scale


def saved_settings(path: str | Path) -> NgramSettings:
    """A saved model's settings, read from its header alone (no weights, no lexicons)."""
    with np.load(path, allow_pickle=False) as data:
        return NgramSettings.from_dict(_header(data)["settings"])


def _mean_logit(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sigmoid of the mean of the two probabilities' logits."""
    p, q = np.clip(p, 1e-6, 1 - 1e-6), np.clip(q, 1e-6, 1 - 1e-6)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) + np.log(q / (1 - q))) / 2))


def _platt(inputs: np.ndarray, labels: np.ndarray) -> tuple[float, ...]:
    """(a, b[, c]) of sigmoid(a * z + b [+ c * lexicon]) fitted to held-out values."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e6).fit(inputs, labels)
    coef = [float(c) for c in lr.coef_[0]]
    return (coef[0], float(lr.intercept_[0]), *coef[1:])
