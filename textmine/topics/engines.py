"""LDA engines (gensim by default, tomotopy optional) and the one inference step every model shares."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import digamma

ENGINES = ("gensim", "tomotopy")


@dataclass
class LdaState:
    """What an engine leaves behind: topic-word pseudo-counts (K × V) and the topic prior."""

    lam: np.ndarray  # variational topic-word parameters (gensim's lambda; tomotopy: counts + eta)
    alpha: np.ndarray

    @property
    def topic_word(self) -> np.ndarray:
        """p(word | topic), rows sum to 1."""
        return self.lam / self.lam.sum(axis=1, keepdims=True)


def _bow_corpus(counts: sparse.csr_matrix) -> list[list[tuple[int, float]]]:
    indptr, indices, data = counts.indptr, counts.indices.tolist(), counts.data.tolist()
    return [list(zip(indices[a:b], data[a:b], strict=True))
            for a, b in zip(indptr[:-1], indptr[1:], strict=True)]


def _vector_lda_class():
    """gensim `LdaModel` whose E-step handles a whole chunk at once (imported lazily)."""
    from gensim.matutils import dirichlet_expectation
    from gensim.models import LdaModel

    class VectorLda(LdaModel):
        """gensim's updates and per-document stopping rule, vectorised over the chunk.

        gensim loops over documents in Python, which dominates the time on 5–10-word reviews;
        this computes the same fixed point (checked against `LdaModel.inference`: largest
        difference of lambda 1e-5 of its scale, float32 rounding) several times faster.
        """

        def inference(self, chunk, collect_sstats=False):
            chunk = list(chunk)
            n, dtype = len(chunk), self.dtype
            gamma = self.random_state.gamma(100., 1. / 100., (n, self.num_topics)).astype(dtype)
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum([len(doc) for doc in chunk], out=indptr[1:])
            cols = np.fromiter((i for doc in chunk for i, _ in doc), np.int64, indptr[-1])
            cts = np.fromiter((c for doc in chunk for _, c in doc), dtype, indptr[-1])
            rows = np.repeat(np.arange(n), np.diff(indptr))
            # Sums each document's nonzeros: gather @ (nnz × K) is the per-document dot product.
            gather = sparse.csr_matrix((np.ones(len(cols), dtype), np.arange(len(cols)), indptr),
                                       shape=(n, len(cols)))
            beta_nz = self.expElogbeta[:, cols].T.copy()
            eps = np.finfo(dtype).eps
            exp_theta = np.exp(dirichlet_expectation(gamma))
            phinorm = np.einsum("ij,ij->i", exp_theta[rows], beta_nz) + eps
            active = np.ones(n, dtype=bool)
            for _ in range(self.iterations):
                new = self.alpha + exp_theta * (gather @ (beta_nz * (cts / phinorm)[:, None]))
                change = np.abs(new - gamma).mean(axis=1)
                # Converged documents stay where they stopped, as in gensim's loop.
                gamma[active] = new[active]
                exp_theta[active] = np.exp(dirichlet_expectation(new[active]))
                phinorm = np.einsum("ij,ij->i", exp_theta[rows], beta_nz) + eps
                active &= change >= self.gamma_threshold
                if not active.any():
                    break
            sstats = None
            if collect_sstats:
                ratio = sparse.csr_matrix((cts / phinorm, cols, indptr), shape=(n, self.num_terms))
                sstats = np.asarray((ratio.T @ exp_theta).T, dtype=dtype) * self.expElogbeta
            return gamma, sstats

    return VectorLda


def nmf_start(counts: sparse.csr_matrix, k: int) -> np.ndarray:
    """Deterministic starting topic-word counts (K × V) from NMF (NNDSVD) of the tf-idf matrix.

    gensim's random start lands in a different local optimum for every seed on short texts
    (top-10 overlap 42% across seeds); starting from the SVD-based NMF of the data gives the
    same start for every seed and better separated topics. Each NMF topic's word weights are
    scaled to the number of term occurrences its share of the documents holds.
    """
    import warnings

    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfTransformer

    # No row normalisation: a review's weight stays with its terms (NMI 0.534 vs 0.490 with
    # l2-normalised rows at K=12 on the shopping negatives, after the same gensim passes).
    tfidf = TfidfTransformer(norm=None, sublinear_tf=True).fit_transform(counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # NNDSVD starts from a randomized SVD: a fixed random_state keeps it the same start.
        nmf = NMF(k, init="nndsvd", max_iter=200, random_state=0)
        doc_topic = nmf.fit_transform(tfidf)
    topic_term = nmf.components_ + 1e-12
    share = doc_topic.sum(axis=0) / max(doc_topic.sum(), 1e-12)
    return topic_term / topic_term.sum(axis=1, keepdims=True) * (share[:, None] * counts.sum())


def fit_gensim(counts: sparse.csr_matrix, k: int, *, seed: int, passes: int, iterations: int,
               chunksize: int = 2000) -> LdaState:
    """Batch variational Bayes (gensim `LdaModel`, `update_every=0`) from an NMF start.

    One process per fit: `LdaMulticore` merges its workers' results in arrival order, so the
    same seed gave different topics from run to run (measured); parallelism comes from fitting
    candidate K values side by side instead (`fit_many`). Batch updates (every pass sees all
    documents before the topics move) separated the product categories better than online
    updates on the shopping negatives (NMI 0.50 vs 0.47 from the same start, measured).
    """
    import logging

    logging.getLogger("gensim").setLevel(logging.WARNING)
    start = nmf_start(counts, k)
    # The seed reaches gensim's per-document starting gamma and the document order.
    counts = counts[np.random.default_rng(seed).permutation(counts.shape[0])]
    model = _vector_lda_class()(None, num_topics=k,
                                id2word={i: str(i) for i in range(counts.shape[1])},
                                passes=passes, iterations=iterations, random_state=seed,
                                chunksize=chunksize, eval_every=None, alpha="symmetric",
                                update_every=0)
    model.state.sstats[...] = start
    model.sync_state()
    model.update(_bow_corpus(counts))
    return LdaState(lam=np.asarray(model.state.get_lambda(), dtype=np.float64),
                    alpha=np.asarray(model.alpha, dtype=np.float64))


def fit_tomotopy(counts: sparse.csr_matrix, k: int, *, seed: int, passes: int,
                 iterations: int) -> LdaState:
    """Collapsed Gibbs sampling (tomotopy `LDAModel`); `passes` × 20 sweeps, then counts + eta.

    `iterations` (gensim's per-document E-step limit) has no meaning here.
    """
    try:
        import tomotopy as tp
    except ModuleNotFoundError as exc:
        from textmine.errors import TextmineError

        raise TextmineError("E015", "--engine tomotopy needs the tomotopy package",
                            fix="pip install 'textmine[tomotopy]', or use --engine gensim.") from exc
    n_terms = counts.shape[1]
    alpha, eta = 1.0 / k, 0.01
    model = tp.LDAModel(k=k, alpha=alpha, eta=eta, seed=seed)
    words = [str(i) for i in range(n_terms)]
    for a, b in zip(counts.indptr[:-1], counts.indptr[1:], strict=True):
        doc = [words[j] for j, c in zip(counts.indices[a:b], counts.data[a:b], strict=True)
               for _ in range(int(c))]
        if doc:
            model.add_doc(doc)
    # tomotopy's parallel sampler can differ between runs with the same seed: one thread.
    model.train(passes * 20, workers=1)
    lam = np.full((k, n_terms), eta)
    column = np.array([int(w) for w in model.used_vocabs])
    for t in range(k):
        # get_topic_word_dist is normalised; rescale to counts so inference sees their weight.
        dist = np.asarray(model.get_topic_word_dist(t), dtype=np.float64)
        lam[t, column] += dist * model.get_count_by_topics()[t]
    return LdaState(lam=lam, alpha=np.full(k, alpha))


def fit(engine: str, counts: sparse.csr_matrix, k: int, seed: int, passes: int,
        iterations: int) -> LdaState:
    """Fit one LDA with `engine` ("gensim" or "tomotopy")."""
    func = fit_gensim if engine == "gensim" else fit_tomotopy
    return func(counts, k, seed=seed, passes=passes, iterations=iterations)


def fit_many(engine: str, samples: list[sparse.csr_matrix], jobs: list[tuple[int, int]],
             passes: int, iterations: int, workers: int = 2) -> list[LdaState]:
    """Fit one model per (k, seed) job, `workers` at a time in separate processes.

    Job j with seed `s` is fitted on `samples[(s - jobs[0][1]) % len(samples)]`: seed i of a
    K sees sample i. Each fit stays single-process and so reproducible; the pool is what uses
    both cores. Processes are spawned, not forked: the caller may hold a DuckDB connection
    with threads.
    """
    first = min(seed for _, seed in jobs)
    args = [(engine, samples[(seed - first) % len(samples)], k, seed, passes, iterations)
            for k, seed in jobs]
    if workers <= 1 or len(jobs) <= 1:
        return [fit(*a) for a in args]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, 2), mp_context=context) as pool:
        return list(pool.map(fit, *zip(*args, strict=True)))


def infer(counts: sparse.csr_matrix, state: LdaState, *, max_iter: int = 100, tol: float = 1e-3,
          block: int = 20000) -> np.ndarray:
    """Variational posterior topic mixtures (gensim's E-step), vectorised over documents.

    Deterministic (the start is the prior plus an even share of each document's words, not a
    random draw), so the same text always gets the same topic. Rows of documents without
    terms are all zero.
    """
    n_docs, k = counts.shape[0], state.lam.shape[0]
    elog_beta = digamma(state.lam) - digamma(state.lam.sum(axis=1, keepdims=True))
    beta_t = np.exp(elog_beta).T.copy()  # V × K
    alpha = state.alpha[None, :]
    theta = np.zeros((n_docs, k))
    for start in range(0, n_docs, block):
        part = counts[start:start + block]
        lengths = np.asarray(part.sum(axis=1)).ravel()
        rows = np.repeat(np.arange(part.shape[0]), np.diff(part.indptr))
        cols, data = part.indices, part.data
        beta_nz = beta_t[cols]  # the topic weights of each nonzero, fixed across iterations
        gamma = alpha + lengths[:, None] / k
        for _ in range(max_iter):
            elog_theta = digamma(gamma) - digamma(gamma.sum(axis=1, keepdims=True))
            exp_theta = np.exp(elog_theta)
            norm = np.einsum("ij,ij->i", exp_theta[rows], beta_nz) + 1e-100
            scaled = sparse.csr_matrix((data / norm, cols, part.indptr), shape=part.shape)
            new = alpha + exp_theta * (scaled @ beta_t)
            change = np.abs(new - gamma).mean()
            gamma = new
            if change < tol:
                break
        has_terms = lengths > 0
        theta[start:start + part.shape[0]][has_terms] = (
            gamma[has_terms] / gamma[has_terms].sum(axis=1, keepdims=True))
    return theta


def _word_loglik(counts: sparse.csr_matrix, state: LdaState) -> np.ndarray:
    """log p(document's words | topic) for each document and topic (documents × K)."""
    log_tw = np.log(np.maximum(state.topic_word, 1e-300))
    return np.asarray(counts @ log_tw.T)


def _one_topic(loglik: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Rows of weight × p(words | topic), normalised to sum to 1 (in log space: no underflow)."""
    post = loglik + np.log(np.maximum(weights, 1e-300))[None, :]
    post = np.exp(post - post.max(axis=1, keepdims=True))
    return post / post.sum(axis=1, keepdims=True)


def topic_weights(counts: sparse.csr_matrix, state: LdaState, *, max_iter: int = 100,
                  tol: float = 1e-6) -> np.ndarray:
    """How common each topic is as a document's one topic: EM for the weights of a mixture of
    unigrams whose components are the fitted topics (the topics themselves stay fixed)."""
    loglik = _word_loglik(counts[counts.getnnz(axis=1) > 0], state)
    k = loglik.shape[1]
    weights = np.full(k, 1.0 / k)
    if not len(loglik):
        return weights
    for _ in range(max_iter):
        new = _one_topic(loglik, weights).mean(axis=0)
        done = np.abs(new - weights).max() < tol
        weights = new
        if done:
            break
    return weights


def one_topic_posterior(counts: sparse.csr_matrix, state: LdaState,
                        weights: np.ndarray) -> np.ndarray:
    """p(topic | document) if the document is about one topic: weight × Π p(word | topic).

    Rows of documents without terms are all zero. Deterministic, and one sparse product: no
    iterations, so it is also cheaper than `infer`.
    """
    post = _one_topic(_word_loglik(counts, state), weights)
    post[counts.getnnz(axis=1) == 0] = 0.0
    return post
