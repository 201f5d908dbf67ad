"""Choose the number of topics: coherence (NPMI) and stability across seeds for each candidate K."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import sparse

STABILITY_FLOOR = 0.7  # top-10 words shared by matched topics of two seeds


def top_term_ids(topic_word: np.ndarray, n: int = 10) -> list[list[int]]:
    """The n most probable term ids of each topic, most probable first (ties by id)."""
    order = np.lexsort((np.arange(topic_word.shape[1])[None, :].repeat(len(topic_word), 0),
                        -topic_word), axis=1)
    return [row[:n].tolist() for row in order]


def npmi_coherence(counts: sparse.csr_matrix, tops: Sequence[Sequence[int]]) -> list[float]:
    """Mean NPMI of each topic's top-word pairs, from document co-occurrence.

    Short reviews are one context window each, so document co-occurrence is what gensim's
    `c_npmi` measures on them. Pairs never seen together score -1.
    """
    ids = sorted({t for top in tops for t in top})
    col = {t: i for i, t in enumerate(ids)}
    present = (counts[:, ids] > 0).astype(np.float64).tocsc()
    n_docs = max(counts.shape[0], 1)
    joint = (present.T @ present).toarray() / n_docs
    single = np.diag(joint).copy()
    out = []
    for top in tops:
        scores = []
        for a in range(len(top)):
            for b in range(a + 1, len(top)):
                i, j = col[top[a]], col[top[b]]
                p_ij = joint[i, j]
                if p_ij <= 0:
                    scores.append(-1.0)
                    continue
                if p_ij >= 1:
                    scores.append(1.0)
                    continue
                scores.append(float(np.log(p_ij / (single[i] * single[j])) / -np.log(p_ij)))
        out.append(float(np.mean(scores)) if scores else 0.0)
    return out


def topic_overlap(tops_a: Sequence[Sequence], tops_b: Sequence[Sequence]) -> tuple[float, list[int]]:
    """Mean share of top words that one-to-one matched topics of two fits have in common.

    Returns the mean and, for each topic of `tops_a`, the index of its match in `tops_b`.
    """
    sets_b = [set(t) for t in tops_b]
    shared = np.array([[len(set(a) & b) / max(len(a), 1) for b in sets_b] for a in tops_a])
    # Imported here: scipy.optimize costs ~0.2 s at import, and only fitting needs it (not the
    # analyze workers that apply a model).
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-shared)
    match = [-1] * len(tops_a)
    for r, c in zip(rows, cols, strict=True):
        match[r] = int(c)
    return float(shared[rows, cols].mean()), match


def stability(runs: Sequence[Sequence[Sequence]]) -> float:
    """Mean pairwise topic overlap of several fits (seeds) of the same K."""
    pairs = [topic_overlap(runs[i], runs[j])[0]
             for i in range(len(runs)) for j in range(i + 1, len(runs))]
    return float(np.mean(pairs)) if pairs else 1.0


@dataclass
class Candidate:
    """One row of the auto-K table."""

    k: int
    coherence: float
    stability: float
    chosen: bool = False

    def as_dict(self) -> dict:
        return {key: (round(v, 4) if isinstance(v, float) else v) for key, v in asdict(self).items()}


def choose_k(candidates: list[Candidate], floor: float = STABILITY_FLOOR) -> tuple[Candidate, str]:
    """The most coherent K among those stable across seeds (else the most stable), and why."""
    stable = [c for c in candidates if c.stability >= floor]
    if stable:
        best = max(stable, key=lambda c: (round(c.coherence, 4), c.stability, -c.k))
        others = ", ".join(f"K={c.k} {c.coherence:.3f}" for c in stable if c is not best)
        why = (f"K={best.k}: highest coherence (NPMI {best.coherence:.3f}) among the K whose "
               f"topics agree across seeds (stability ≥ {floor:.0%}; K={best.k}: "
               f"{best.stability:.0%})" + (f"; others: {others}" if others else ""))
    else:
        best = max(candidates, key=lambda c: (round(c.stability, 4), c.coherence, -c.k))
        why = (f"K={best.k}: no K reached stability {floor:.0%}; chose the most stable "
               f"({best.stability:.0%}, NPMI {best.coherence:.3f})")
    best.chosen = True
    return best, why
