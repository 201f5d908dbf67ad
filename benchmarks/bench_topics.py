"""Complaint topics on real data: NMI vs product categories, coherence, stability, speed, memory.

Runs on ../shared/data directly (no workspace) through the same `TopicModel` API the CLI uses:

    .venv/bin/python benchmarks/bench_topics.py [--engine gensim|tomotopy] [--skip-scale]

1. The ~31k negative reviews of online_shopping_10_cats: plain gensim LDA baseline (K=10,
   short stopword list, no POS filter) and `TopicModel(k="auto")`; NMI of each document's
   dominant topic against the 10 categories, coherence (NPMI of top-10 words), auto-K table.
2. Stability: the chosen K fitted with three seeds; mean top-10 overlap of matched topics;
   the overlap between auto-K's two fits on different resamples (seed and data differ); and
   the same seed twice (must give identical topics).
3. Scale: fit with auto-K on 100,000 real review texts (all of online_shopping_10_cats, then
   ChnSentiCorp hotel reviews, then conversation_sentiment's 30k file) and `predict` speed.
Prints figures and never asserts. Timings depend on machine load.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import normalized_mutual_info_score

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SHOPPING = DATA / "online_shopping_10_cats" / "online_shopping_10_cats.csv"
HOTEL = DATA / "chnsenticorp_htl_all" / "ChnSentiCorp_htl_all.csv"
CONVERSATION = DATA / "conversation_sentiment" / "sentiment_XS_30k.txt"
# The short list a plain LDA tutorial uses (function words and punctuation only).
_BASELINE_STOPWORD_TEXT = ("的 了 是 我 也 和 就 都 不 在 有 很 这 那 啊 吧 呢 吗 还 就是 但是 "
                           "一 个 着 没 他 她 你 我们 会 说 要 去 又 ， 。 ！ ？ 、 ： ； ~ … . , ! ?")
BASELINE_STOPWORDS = frozenset(_BASELINE_STOPWORD_TEXT.split())


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers (comparable under load, unlike wall time)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def nmi(labels, ids) -> float:
    return float(normalized_mutual_info_score(labels, ids))


def segment(texts: list[str], segmenter) -> list[list[str]]:
    from textmine.clean import clean_texts

    return [segmenter(t) for t in clean_texts(pd.Series(texts))]


def baseline(raw_words: list[list[str]], categories: list[str], seed: int = 0) -> float:
    """Plain gensim LDA, K=10: jieba words, a short stopword list, no POS filter or phrases."""
    from gensim.corpora import Dictionary
    from gensim.models import LdaMulticore

    docs = [[w for w in words if w.strip() and w not in BASELINE_STOPWORDS] for words in raw_words]
    dictionary = Dictionary(docs)
    dictionary.filter_extremes(no_below=5, no_above=0.5)
    corpus = [dictionary.doc2bow(d) for d in docs]
    lda = LdaMulticore(corpus, num_topics=10, id2word=dictionary, workers=2, passes=10,
                       random_state=seed)
    dominant = [max(lda.get_document_topics(b, minimum_probability=0), key=lambda x: x[1])[0]
                if b else -1 for b in corpus]
    print("  baseline topics: " + " | ".join(
        " ".join(w for w, _ in lda.show_topic(k, 4)) for k in range(3)) + " | …")
    return nmi(categories, dominant)


def shopping_negatives(args, segmenter, lexicons) -> dict:
    from textmine.topics import TopicModel
    from textmine.topics.select import stability

    frame = pd.read_csv(SHOPPING)
    frame = frame[frame["label"] == 0].reset_index(drop=True)
    texts, cats = frame["review"].fillna("").astype(str).tolist(), frame["cat"].tolist()
    t0 = time.perf_counter()
    tokens = segment(texts, segmenter)
    print(f"segmented {len(texts):,} negative reviews in {time.perf_counter() - t0:.1f} s")
    out: dict = {"n_docs": len(texts)}

    if not args.skip_baseline:
        t0 = time.perf_counter()
        out["baseline_nmi"] = baseline([segmenter.cut(t) for t in texts], cats)
        print(f"baseline plain LDA K=10: NMI {out['baseline_nmi']:.3f} "
              f"({time.perf_counter() - t0:.0f} s)")

    params = dict(engine=args.engine, workers=args.workers, lexicons=lexicons, segmenter=segmenter)
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    model = TopicModel(k="auto", seed=0, **params).fit(tokens)
    out["fit_seconds"], out["fit_cpu_seconds"] = time.perf_counter() - t0, cpu_seconds() - cpu0
    ids, _ = model.predict(tokens)
    # The dominant topic as `predict` picks it, before "other" (min_prob). A document without
    # any topic term has no dominant topic: one class of its own (-1), not topic 0.
    proba = model.predict_proba(tokens)
    no_term = proba.sum(axis=1) == 0
    dominant = np.where(no_term, -1, proba.argmax(axis=1))
    # Earlier sessions' figure: argmax of the LDA mixture, where an all-zero row is topic 0.
    mixture_argmax = model.transform(tokens).argmax(axis=1)
    out.update(k=model.n_topics_, nmi=nmi(cats, dominant), nmi_with_other=nmi(cats, ids),
               nmi_no_term_as_topic0=nmi(cats, proba.argmax(axis=1)),
               nmi_mixture_argmax=nmi(cats, mixture_argmax), no_term_share=float(no_term.mean()),
               coherence=model.coherence_, other_share=float(np.mean(ids == -1)),
               selection=model.selection_, reason=model.selection_reason_)
    print(f"TopicModel(k='auto', engine={args.engine}): K={out['k']}  NMI {out['nmi']:.3f} "
          f"({out['no_term_share']:.1%} without a topic term as one class; counted as topic 0: "
          f"{out['nmi_no_term_as_topic0']:.3f}; predict's ids with -1 as a class: "
          f"{out['nmi_with_other']:.3f}; argmax of the LDA mixture as before: "
          f"{out['nmi_mixture_argmax']:.3f})  coherence NPMI "
          f"{out['coherence']:.3f}  other {out['other_share']:.1%}  fit {out['fit_seconds']:.0f} s "
          f"({out['fit_cpu_seconds']:.0f} CPU s)")
    print("  auto-K: " + json.dumps(model.selection_, ensure_ascii=False))
    print("  why: " + model.selection_reason_)
    for topic in sorted(model.topics_, key=lambda t: -t.share):
        print(f"  [{topic.topic_id:2d}] {topic.share:6.1%}  {topic.label:<16} "
              f"{' '.join(topic.words[:8])}")

    runs = [[t.top_terms for t in model.topics_]]
    for seed in (1, 2):
        other = TopicModel(k=model.n_topics_, seed=seed, **params).fit(tokens)
        runs.append([t.top_terms for t in other.topics_])
    out["stability_3_seeds"] = stability(runs)
    again = TopicModel(k=model.n_topics_, seed=0, **params).fit(tokens)
    out["same_seed_identical"] = [t.top_terms for t in again.topics_] == runs[0]
    out["stability_resamples"] = model.stability_
    print(f"stability over seeds 0,1,2 at K={model.n_topics_} (all documents): mean top-10 "
          f"overlap {out['stability_3_seeds']:.0%}; across auto-K's two resamples: "
          f"{model.stability_:.0%}; same seed twice identical: {out['same_seed_identical']}")
    return out


def hundred_thousand() -> list[str]:
    texts = pd.read_csv(SHOPPING)["review"].fillna("").astype(str).tolist()
    texts += pd.read_csv(HOTEL)["review"].fillna("").astype(str).tolist()
    # conversation_sentiment is stored pre-segmented (space-joined): join back to raw text.
    conv = pd.read_csv(CONVERSATION)["text"].fillna("").astype(str).str.replace(" ", "")
    texts += conv.tolist()
    return texts[:100_000]


def scale(args, segmenter, lexicons) -> dict:
    from textmine.topics import TopicModel

    texts = hundred_thousand()
    t0 = time.perf_counter()
    tokens = segment(texts, segmenter)
    seg_s = time.perf_counter() - t0
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    model = TopicModel(k="auto", seed=0, engine=args.engine, workers=args.workers,
                       lexicons=lexicons, segmenter=segmenter).fit(tokens)
    fit_s, fit_cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    t0 = time.perf_counter()
    model.predict(tokens)
    apply_rate = len(tokens) / (time.perf_counter() - t0)
    sample = texts[:20000]
    t0 = time.perf_counter()
    model.predict(sample)
    raw_rate = len(sample) / (time.perf_counter() - t0)
    print(f"100k documents: fit with auto-K {fit_s:.0f} s wall, {fit_cpu:.0f} CPU s over both "
          f"cores (K={model.n_topics_}; segmenting "
          f"them first took {seg_s:.0f} s, done by `analyze`); predict from stored tokens "
          f"{apply_rate:,.0f} docs/s; from raw text incl. segmentation {raw_rate:,.0f} docs/s")
    return {"n_docs": len(texts), "fit_seconds": fit_s, "fit_cpu_seconds": fit_cpu,
            "k": model.n_topics_,
            "apply_docs_per_s": apply_rate, "apply_raw_docs_per_s": raw_rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="gensim", choices=("gensim", "tomotopy"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--skip-shopping", action="store_true", help="only the 100k scale part")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if not SHOPPING.exists():
        print(f"shared data not found: {SHOPPING}")
        return
    from textmine.lexicons import load_lexicons
    from textmine.segment import Segmenter

    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    lexicons = load_lexicons()
    segmenter = Segmenter(lexicons)
    figures: dict = {"engine": args.engine}
    if not args.skip_shopping:
        figures["shopping_negatives"] = shopping_negatives(args, segmenter, lexicons)
    if not args.skip_scale:
        figures["scale_100k"] = scale(args, segmenter, lexicons)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(f"peak RSS {figures['peak_rss_mb']:,.0f} MB (largest of this process and its workers)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=float))


if __name__ == "__main__":
    main()
