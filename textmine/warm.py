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


def warm(config: Config) -> None:
    """Build (and cache for this process) the resources the stages of `config` use."""
    from textmine.pipeline import _ensure_stage_modules, resources_for

    _ensure_stage_modules()
    resources = resources_for(config)
    _ = resources.segmenter, resources.sentiment_model, resources.complaint_pattern


def _warm_from_environment() -> None:
    settings = os.environ.get(WARM_CONFIG_ENV)
    if not settings:
        return
    # A failure here must not kill the fork server: a worker that finds nothing warm
    # builds its own resources (and reports any real error from there).
    with contextlib.suppress(Exception):
        warm(Config(**json.loads(settings)))


_warm_from_environment()
