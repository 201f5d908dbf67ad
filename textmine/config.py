"""Run settings: defaults, overridden by `textmine.toml`, overridden by CLI flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from textmine.errors import TextmineError

DEFAULT_WORKSPACE = "textmine.duckdb"


@dataclass(frozen=True)
class Config:
    """Everything a stage needs to know that is not data; picklable, so workers rebuild resources."""

    workspace: str = DEFAULT_WORKSPACE
    lexicons: str | None = None  # a user folder layered over the shipped lexicons
    sentiment_model: str = "default"  # "default", "snownlp", "lexicon" or a path to a saved model
    batch_size: int = 5000
    workers: int = 2  # two cores on our machines; never more processes than cores
    max_chars: int = 20000  # longer texts are rejected (text_too_long), not truncated
    # sentiment in [neutral_low, neutral_high) is "neutral": the range where out-of-domain
    # reviews are positive between 1/3 and 2/3 of the time (the default recipe, leave-one-
    # category-out on online_shopping_10_cats; benchmarks/bench_sentiment.py --only loco,band)
    neutral_low: float = 0.35
    neutral_high: float = 0.65
    timezone: str = "Asia/Shanghai"  # epoch timestamps are converted to this local time
    hmm: bool = True  # jieba HMM for unknown words
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> Config:
        """Return a copy with the given non-None values set."""
        known = {f.name for f in fields(self)}
        clean = {k: v for k, v in overrides.items() if v is not None and k in known}
        return replace(self, **clean)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_config(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Config:
    """Read `textmine.toml` (or `path`) when present, then apply CLI overrides."""
    config = Config()
    toml_path = Path(path) if path else Path("textmine.toml")
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise TextmineError("E015", str(exc), where=str(toml_path),
                                fix="Fix the TOML syntax.") from exc
        section = data.get("textmine", data)
        known = {f.name for f in fields(Config)}
        unknown = sorted(set(section) - known)
        if unknown:
            raise TextmineError("E015", f"unknown settings: {', '.join(unknown)}",
                                where=str(toml_path),
                                fix=f"Known settings: {', '.join(sorted(known))}.")
        config = config.with_overrides(**section)
    return config.with_overrides(**overrides)
