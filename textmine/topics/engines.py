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


def fit_gensim(counts: sparse.csr_matrix, k: int, *, seed: int, passes: int, iterations: int,
               chunksize: int = 2000) -> LdaState:
    """Online variational Bayes (gensim `LdaModel`).

    One process per fit: `LdaMulticore` merges its workers' results in arrival order, so the
    same seed gave different topics from run to run (measured); parallelism comes from fitting
    candidate K values side by side instead (`fit_many`).
    """
    import logging

    from gensim.models import LdaModel

    logging.getLogger("gensim").setLevel(logging.WARNING)
    # Online VB learns chunk by chunk and forgets: documents stored by product or by date
    # would leave topics of the last chunks only. A seeded shuffle keeps reruns identical.
    counts = counts[np.random.default_rng(seed).permutation(counts.shape[0])]
    model = LdaModel(_bow_corpus(counts), num_topics=k,
                     id2word={i: str(i) for i in range(counts.shape[1])}, passes=passes,
                     iterations=iterations, random_state=seed, chunksize=chunksize,
                     eval_every=None, alpha="symmetric")
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


def fit_many(engine: str, counts: sparse.csr_matrix, jobs: list[tuple[int, int]], passes: int,
             iterations: int, workers: int = 2) -> list[LdaState]:
    """Fit one model per (k, seed) job, `workers` at a time in separate processes.

    Each fit stays single-process and so reproducible; the pool is what uses both cores.
    Processes are spawned, not forked: the caller may hold a DuckDB connection with threads.
    """
    args = [(engine, counts, k, seed, passes, iterations) for k, seed in jobs]
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
