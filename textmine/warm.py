"""Warm a worker process: import the stages and build the segmenter and sentiment model once.

Imported by the fork server that `analyze` starts (see `analyze._start_pool`): its workers
are forked from this state, so they start with everything loaded.
"""

from __future__ import annotations

import contextlib
import json
import os

from textmine.config import Config

WARM_CONFIG_ENV = "TEXTMINE_WARM_CONFIG"


# Run once through the stages so that what they build on first use (OpenCC's dictionaries,
# the character tables, the aspect finder, compiled phrase patterns) exists before the workers
# are forked from this process, instead of in each worker's first batch.
_SAMPLE = ("物流很快，但是质量太差了！！", "客服态度很好，电话13812345678", "衣服尺码偏小，颜色和图片不一样")


def warm(config: Config) -> None:
    """Build (and cache for this process) the resources the stages of `config` use."""
    import pandas as pd

    from textmine.pipeline import _ensure_stage_modules, process_batch, resources_for

    _ensure_stage_modules()
    resources = resources_for(config)
    _ = resources.segmenter, resources.sentiment_model, resources.complaint_pattern
    process_batch(pd.DataFrame({"text_raw": list(_SAMPLE)}), config)


def _warm_from_environment() -> None:
    settings = os.environ.get(WARM_CONFIG_ENV)
    if not settings:
        return
    # A failure here must not kill the fork server: a worker that finds nothing warm
    # builds its own resources (and reports any real error from there).
    with contextlib.suppress(Exception):
        warm(Config(**json.loads(settings)))


_warm_from_environment()
