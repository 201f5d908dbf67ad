"""Shared fixtures: paths to the repo's corpora and the team's shared datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO / "corpora"
SHARED_DATA = Path(os.environ.get("TEXTMINE_SHARED_DATA", REPO.parent / "shared" / "data"))

# Plain short reviews, one per line of business, for the sentiment model tests.
POSITIVE = ["质量很好，很满意", "物流很快，包装完好", "非常好用，推荐购买", "客服态度很好",
            "性价比高，值得购买", "味道不错，还会回购", "做工精致，穿着舒服", "效果很好，好评"]
NEGATIVE = ["质量太差了", "物流太慢，等了一个星期", "用了两天就坏了，垃圾", "客服态度恶劣",
            "不值这个价，后悔买了", "味道很难吃", "做工粗糙，线头很多", "差评，退货"]


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared dataset not available: {path}")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws.duckdb"
