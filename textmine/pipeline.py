"""The analysis stages: pure batch functions that declare the columns they need and add.

A stage is `(DataFrame, Resources) -> DataFrame` (same rows, more columns). Resources are
built once per process from a picklable `Config`, which is what lets the same stage code run
in-process, in a process pool, or inside Spark's `mapInPandas`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import re2

from textmine.config import Config
from textmine.lexicons import Lexicons, load_lexicons

StageFunc = Callable[[pd.DataFrame, "Resources"], pd.DataFrame]


@dataclass(frozen=True)
class Stage:
    """A named step; `requires`/`assigns` are checked when a pipeline is assembled."""

    name: str
    requires: tuple[str, ...]
    assigns: tuple[str, ...]
    func: StageFunc
    kinds: tuple[str, ...] = ("review", "chat")

    def __call__(self, batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
        return self.func(batch, resources)


class PipelineError(ValueError):
    """A stage needs a column that nothing before it makes."""


@dataclass
class Resources:
    """Lexicons and models for one process, built lazily from the config and reused."""

    config: Config
    extra: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def lexicons(self) -> Lexicons:
        return load_lexicons(self.config.lexicons)

    @cached_property
    def segmenter(self):  # -> Segmenter (import kept lazy: rjieba loads a dictionary)
        from textmine.segment import Segmenter

        return Segmenter(self.lexicons, hmm=self.config.hmm)

    @cached_property
    def sentiment_model(self):  # -> SentimentModel
        from textmine.sentiment import load_model

        return load_model(self.config.sentiment_model, self.lexicons)

    @cached_property
    def complaint_pattern(self) -> re2._Regexp | None:
        phrases = sorted({p for words in self.lexicons.complaint.values() for p in words},
                         key=len, reverse=True)
        return re2.compile("|".join(map(re.escape, phrases))) if phrases else None


_RESOURCES: dict[str, Resources] = {}


def resources_for(config: Config) -> Resources:
    """The per-process Resources for `config` (built on first use, then cached)."""
    # The workspace path does not change lexicons or models: runs into other workspaces (tests,
    # the demo) reuse the loaded segmenter and sentiment model.
    # Nor do `extra` (e.g. the topic model a PRE_RUN hook attaches), the batch size or the
    # worker count: a cached Resources takes the newest config, so stages read its `extra`.
    unrelated = ("workspace", "extra", "batch_size", "workers")
    settings = {k: v for k, v in config.as_dict().items() if k not in unrelated}
    key = json.dumps(settings, sort_keys=True, default=str)
    resources = _RESOURCES.get(key)
    if resources is None:
        resources = _RESOURCES[key] = Resources(config)
    else:
        resources.config = config
    return resources


# -- stage functions ---------------------------------------------------------------------------

def clean_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """text_raw -> text: normalised, then PII-masked (masked text is all that is kept)."""
    from textmine.clean import clean_texts
    from textmine.mask import mask_texts

    batch = batch.copy(deep=False)  # stages add columns; the rows are not modified
    batch["text"] = mask_texts(clean_texts(batch["text_raw"].fillna("").astype(str)))
    return batch.drop(columns=["text_raw"])


def segment_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """text -> tokens (stored) and _words (transient, with punctuation, for clause rules)."""
    words, tokens = resources.segmenter.segment_texts(batch["text"])
    batch = batch.copy(deep=False)  # stages add columns; the rows are not modified
    batch["_words"] = words
    batch["tokens"] = tokens
    return batch


def sentiment_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """tokens -> sentiment (P(positive), 0..1) and polarity (negative/neutral/positive)."""
    from textmine.sentiment import polarity

    config = resources.config
    batch = batch.copy(deep=False)  # stages add columns; the rows are not modified
    if len(batch):
        scores = resources.sentiment_model.predict_proba(batch)
    else:
        scores = np.array([], dtype=float)
    batch["sentiment"] = scores.astype(float)
    batch["polarity"] = polarity(scores, config.neutral_low, config.neutral_high)
    return batch


def complaint_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """polarity + complaint phrases -> is_complaint."""
    batch = batch.copy(deep=False)  # stages add columns; the rows are not modified
    negative = batch["polarity"].to_numpy() == "negative"
    pattern = resources.complaint_pattern
    if pattern is not None and len(batch):
        intent = texts_matching(pattern, batch["text"].tolist())
    else:
        intent = np.zeros(len(batch), dtype=bool)
    batch["is_complaint"] = negative | intent
    return batch


def texts_matching(pattern: re2._Regexp, texts: list[str | None]) -> np.ndarray:
    """For each text, whether `pattern` (which never matches a newline) occurs in it.

    One RE2 scan of the batch joined by newlines, with the pattern compiled once per process:
    RE2 builds its automaton as it reads, so a pattern kept across batches (unlike Arrow's
    regex kernels, which compile per call) scans at memory speed after the first batch.
    """
    parts = [t.replace("\n", " ") if t else "" for t in texts]
    joined = "\n".join(parts)
    starts = np.cumsum([0] + [len(t) + 1 for t in parts[:-1]])
    found = np.zeros(len(parts), dtype=bool)
    hits = [m.start() for m in pattern.finditer(joined)]
    if hits:
        found[np.searchsorted(starts, hits, side="right") - 1] = True
    return found


STAGES: dict[str, Stage] = {}


def register(stage: Stage) -> Stage:
    """Add a stage to the registry (later issues register aspects, topics, chat stages)."""
    STAGES[stage.name] = stage
    return stage


register(Stage("clean", ("text_raw",), ("text",), clean_stage))
register(Stage("segment", ("text",), ("tokens", "_words"), segment_stage))
register(Stage("sentiment", ("tokens", "_words", "text"), ("sentiment", "polarity"), sentiment_stage))
register(Stage("complaint", ("text", "polarity"), ("is_complaint",), complaint_stage))

# "speaker" (chats only, textmine.chats) clears opinion columns on agent/bot turns before topics.
DEFAULT_ORDER = ("clean", "segment", "sentiment", "aspects", "complaint", "speaker", "topics")


def default_stages(kind: str = "review", names: tuple[str, ...] = DEFAULT_ORDER) -> list[Stage]:
    """The default pipeline for `kind`: every registered stage in DEFAULT_ORDER that applies."""
    return [STAGES[n] for n in names if n in STAGES and kind in STAGES[n].kinds]


def check_pipeline(stages: list[Stage], available: tuple[str, ...]) -> None:
    """Raise PipelineError naming the first stage whose inputs nothing upstream makes."""
    have = set(available)
    for stage in stages:
        missing = [c for c in stage.requires if c not in have]
        if missing:
            raise PipelineError(f"stage {stage.name!r} needs {missing}, which no earlier stage "
                                f"assigns (available: {sorted(have)})")
        have.update(stage.assigns)


# Stages that describe the customer's opinion. In chats they run on customer turns only: an
# agent's 非常抱歉 is not the customer's mood, and skipping agent/bot/system turns roughly halves
# their cost on chats. Those turns get NULL in the columns these stages assign.
OPINION_STAGES = frozenset({"sentiment", "aspects", "complaint"})
NON_CUSTOMER_ROLES = ("agent", "bot", "system")


def run_stages(batch: pd.DataFrame, stages: list[Stage], resources: Resources) -> pd.DataFrame:
    """Run `stages` over one batch and drop transient (`_`-prefixed) columns."""
    for stage in stages:
        batch = _run_stage(stage, batch, resources)
    return batch.drop(columns=[c for c in batch.columns if c.startswith("_")])


def _run_stage(stage: Stage, batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    if stage.name not in OPINION_STAGES or "role" not in batch:
        return stage(batch, resources)
    others = batch["role"].isin(NON_CUSTOMER_ROLES).to_numpy(dtype=bool)
    if not others.any():
        return stage(batch, resources)
    part = stage(batch.loc[~others], resources)
    out = batch.copy(deep=False)
    for col in part.columns:
        if col in batch.columns and col not in stage.assigns:
            continue
        if pd.api.types.is_float_dtype(part[col]):
            full = pd.Series(np.nan, index=batch.index, dtype=part[col].dtype)
        else:
            full = pd.Series([None] * len(batch), index=batch.index, dtype=object)
        full.loc[part.index] = part[col]
        out[col] = full
    return out


def process_batch(batch: pd.DataFrame, config: Config, kind: str = "review",
                  stage_names: tuple[str, ...] = DEFAULT_ORDER) -> pd.DataFrame:
    """Entry point for workers (process pool, Spark): rebuild resources once, run stages."""
    _ensure_stage_modules()
    resources = resources_for(config)
    return run_stages(batch, default_stages(kind, stage_names), resources)


def _ensure_stage_modules() -> None:
    """Import the modules that register optional stages (aspects, topics, chats)."""
    import importlib

    for module in ("textmine.aspects", "textmine.topics.stage", "textmine.chats"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise


def apply_to_frame(frame: pd.DataFrame, text_col: str, stage_names: tuple[str, ...],
                   config: Config, kind: str = "review", keep: tuple[str, ...] = ()
                   ) -> pd.DataFrame:
    """Run stages over a DataFrame's text column; returns the stage outputs, same index.

    `keep`: more columns of `frame` the stages see (e.g. a sentiment model's domain column).
    Large frames are split into batches and spread over `config.workers` processes.
    """
    work = pd.DataFrame({"text_raw": frame[text_col].astype(object).where(frame[text_col].notna(), None)})
    for name in keep:
        if name in frame.columns and name not in work.columns:
            work[name] = frame[name].to_numpy(dtype=object)
    size = config.batch_size
    chunks = [work.iloc[i:i + size] for i in range(0, len(work), size)] or [work]
    if config.workers > 1 and len(chunks) > 2:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=config.workers, mp_context=context) as pool:
            outs = list(pool.map(process_batch, chunks, [config] * len(chunks),
                                 [kind] * len(chunks), [stage_names] * len(chunks)))
    else:
        outs = [process_batch(c, config, kind, stage_names) for c in chunks]
    out = pd.concat(outs)
    out.index = frame.index
    return out
