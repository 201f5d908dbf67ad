"""Configuration layering and ID normalisation properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from textmine.config import Config, load_config
from textmine.errors import TextmineError
from textmine.records import normalize_id, normalize_ids


def test_toml_then_flags(tmp_path: Path) -> None:
    toml = tmp_path / "textmine.toml"
    toml.write_text('[textmine]\nworkspace = "team.duckdb"\nbatch_size = 1000\n', encoding="utf-8")
    config = load_config(toml, batch_size=200, lexicons=None)
    assert (config.workspace, config.batch_size, config.lexicons) == ("team.duckdb", 200, None)


def test_unknown_setting_is_named(tmp_path: Path) -> None:
    toml = tmp_path / "textmine.toml"
    toml.write_text('workspase = "x"\n', encoding="utf-8")
    with pytest.raises(TextmineError, match="workspase"):
        load_config(toml)


def test_config_survives_pickling_for_workers() -> None:
    import pickle

    config = Config(workspace="a.duckdb", extra={"topic_model": "m.bin"})
    assert pickle.loads(pickle.dumps(config)) == config


digits = st.text(alphabet="0123456789", min_size=1, max_size=20)


@given(digits, st.sampled_from(["", " ", "\t", "\u3000"]))
def test_ids_keep_every_digit_and_leading_zero(value: str, pad: str) -> None:
    assert normalize_id(pad + value + pad) == value


@given(digits)
def test_full_width_digits_fold_to_the_same_id(value: str) -> None:
    wide = "".join(chr(ord(c) + 0xFEE0) for c in value)
    assert normalize_id(wide) == value


@given(st.lists(st.one_of(st.none(), digits), max_size=20))
def test_vectorised_and_scalar_normalisation_agree(values: list[str | None]) -> None:
    import pandas as pd

    assert normalize_ids(pd.Series(values, dtype=object)).tolist() == [normalize_id(v) for v in values]
