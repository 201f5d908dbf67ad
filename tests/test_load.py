"""Loading: every supported format and encoding gives the same strings, IDs untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from textmine.columns import resolve_columns
from textmine.errors import TextmineError
from textmine.load import ROW, open_source
from textmine.records import normalize_id, parse_ratings
from textmine.timeparse import parse_times

ROWS = [
    {"评论ID": "R001", "用户ID": "000123", "评分": "5", "评论内容": "物流很快，质量很好"},
    {"评论ID": "R002", "用户ID": "004518", "评分": "1", "评论内容": "質量太差，退貨！"},
]


def read_all(path: Path) -> pd.DataFrame:
    source = open_source(path)
    frames = [f for f, _bad in source.batches(100)]
    return pd.concat(frames, ignore_index=True)


def _write(fmt: str, tmp: Path) -> Path:
    frame = pd.DataFrame(ROWS)
    path = tmp / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "xlsx":
        frame.to_excel(path, index=False)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(ROWS, ensure_ascii=False), encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "jsonl", "json", "parquet"])
def test_every_format_reads_the_same_strings(tmp_path: Path, fmt: str) -> None:
    frame = read_all(_write(fmt, tmp_path))
    assert frame[ROW].tolist() == [1, 2]
    assert frame.drop(columns=[ROW]).to_dict(orient="records") == ROWS


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_shares_of_a_file_read_its_rows_once_with_the_same_numbers(tmp_path: Path,
                                                                   fmt: str) -> None:
    # The Spark engine's tasks each read one share of a file's batches (`keep`).
    frame = pd.DataFrame([dict(r, 评论ID=f"R{i:03d}") for i in range(25) for r in ROWS[:1]])
    path = _write(fmt, tmp_path)
    if fmt == "jsonl":
        path.write_text("\n".join(frame.apply(lambda r: json.dumps(r.to_dict(),
                                                                     ensure_ascii=False),
                                                axis=1)), encoding="utf-8")
    else:
        getattr(frame, f"to_{fmt}")(path, index=False)
    source = open_source(path)
    whole = pd.concat([f for f, _ in source.batches(4)], ignore_index=True)
    shares = [pd.concat([f for f, _ in source.batches(4, keep=lambda i, p=p: i % 3 == p)])
              for p in range(3)]
    assert [len(s) for s in shares] == [9, 8, 8]  # batches 0,3,6 | 1,4 | 2,5
    joined = pd.concat(shares).sort_values(ROW, ignore_index=True)
    assert whole[ROW].tolist() == list(range(1, 26))
    pd.testing.assert_frame_equal(joined, whole)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "r.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False, encoding=encoding,
                              sep="\t" if encoding == "utf-16" else ",")
    source = open_source(path)
    assert source.columns[0] == "评论ID"  # no BOM left in the first header
    frame = read_all(path)
    assert frame["评论内容"].tolist() == [r["评论内容"] for r in ROWS]


def test_numeric_ids_from_excel_and_parquet_lose_no_digits(tmp_path: Path) -> None:
    frame = pd.DataFrame({"客户ID": [123456789012, 42], "内容": ["好", "差"]})
    frame.to_parquet(tmp_path / "n.parquet")
    frame.to_excel(tmp_path / "n.xlsx", index=False)
    for name in ("n.parquet", "n.xlsx"):
        assert read_all(tmp_path / name)["客户ID"].tolist() == ["123456789012", "42"]


def test_txt_is_one_text_per_line(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("第一条评论\n第二条评论\n", encoding="utf-8")
    assert read_all(path)["text"].tolist() == ["第一条评论", "第二条评论"]


def test_columns_found_by_chinese_and_english_names() -> None:
    found = resolve_columns(["编号", "客户ID", "商品名称", "星级", "时间", "内容"]).found()
    assert found == {"text": "内容", "doc_id": "编号", "customer_id": "客户ID",
                     "created_at": "时间", "rating": "星级", "product": "商品名称"}
    found = resolve_columns(["Review", "User ID", "created_at", "Stars"]).found()
    assert found == {"text": "Review", "customer_id": "User ID", "created_at": "created_at",
                     "rating": "Stars"}


def test_flags_override_detected_columns() -> None:
    found = resolve_columns(["内容", "备注"], {"text": "备注"}).found()
    assert found["text"] == "备注"


def test_unsupported_extension_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.doc"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(TextmineError) as err:
        open_source(path)
    assert err.value.code == "E004"


@pytest.mark.parametrize("value, expected", [
    ("2026-03-01 12:00:00", "2026-03-01 12:00:00"),
    ("2026/3/1", "2026-03-01 00:00:00"),
    ("2026/3/1 8:05", "2026-03-01 08:05:00"),
    ("2026年3月1日 12:00", "2026-03-01 12:00:00"),
    ("2026年3月1日", "2026-03-01 00:00:00"),
    ("2026-03-01T12:00:00+08:00", "2026-03-01 12:00:00"),
    ("1772337600", "2026-03-01 12:00:00"),  # epoch seconds, shown in Asia/Shanghai
    ("1772337600000", "2026-03-01 12:00:00"),  # epoch milliseconds
])
def test_common_time_formats(value: str, expected: str) -> None:
    parsed, bad = parse_times(pd.Series([value]))
    assert not bad.iloc[0]
    assert str(parsed.iloc[0]) == expected


def test_unparseable_time_is_flagged_and_empty_time_is_not() -> None:
    parsed, bad = parse_times(pd.Series(["昨天下午", "", None, "12"]))
    assert bad.tolist() == [True, False, False, True]
    assert parsed.isna().all()


@pytest.mark.parametrize("value, expected", [
    ("000123", "000123"), (" 000345 ", "000345"), ("０００１２３", "000123"), ("", None), (None, None),
])
def test_ids_are_normalised_as_text(value, expected) -> None:
    assert normalize_id(value) == expected


def test_ratings_in_the_forms_people_write() -> None:
    ratings, bad = parse_ratings(pd.Series(["5", "4.5", "3星", "2分", "★★★★☆", "", "差"]))
    assert ratings.tolist()[:5] == [5.0, 4.5, 3.0, 2.0, 4.0]
    assert bad.tolist() == [False] * 6 + [True]
