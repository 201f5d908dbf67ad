"""Customers: CRM and order imports that lose nothing, RFM, profiles, and a follow-up list that
ranks by value × recent negativity × unresolved signals and reads well in Excel."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA
from textmine.analyze import analyze
from textmine.cli import app
from textmine.config import Config
from textmine.customers import customer_profiles, follow_up_list, import_customers, rfm
from textmine.workspace import open_workspace

PLANTED = json.loads((CORPORA / "planted.json").read_text(encoding="utf-8"))
runner = CliRunner()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def sql(path: Path | str, query: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(query).fetchall()


def review(doc_id: str, customer: str, when: datetime, *, rating: float = 1.0,
           polarity: str = "negative", aspect: str | None = None, text: str = "不满意") -> dict:
    return {"doc_id": doc_id, "kind": "review", "customer_id": customer, "created_at": when,
            "rating": rating, "polarity": polarity, "text": text,
            "sentiment": 0.1 if polarity == "negative" else 0.9,
            "is_complaint": polarity == "negative",
            "aspects": [{"aspect": aspect, "polarity": polarity, "score": 0.1, "evidence": text}]
            if aspect else []}


# -- the bundled corpora ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpora_ws(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("crm") / "ws.duckdb"
    analyze([CORPORA / "reviews.csv"], config=Config(workspace=str(path), workers=1))
    result = import_customers(path, CORPORA / "customers.csv", CORPORA / "orders.csv")
    return path, result.to_dict()


def test_corpora_crm_rows_all_accounted(corpora_ws):
    path, result = corpora_ws
    crm = result["customers"]
    assert (crm["in"], crm["stored"], crm["duplicates"], crm["conflicts"], crm["rejected"]) == \
        (162, 161, 1, 0, 0)
    ids = {r[0] for r in sql(path, "SELECT customer_id FROM customers")}
    assert len(ids) == 161
    assert set(PLANTED["crm"]["spaced_ids"]) <= ids  # ' 000345 ' became 000345
    assert all(len(i) == 6 and i.isdigit() for i in ids)  # leading zeros kept, never numbers


def test_corpora_unmatched_ids_are_counted_on_both_sides(corpora_ws):
    _, result = corpora_ws
    match = result["matching"]
    assert match["document_customers_not_in_crm"]["ids"] == sorted(PLANTED["crm"]["left_out_reviewers"])
    assert set(PLANTED["crm"]["never_active"]) <= set(match["crm_customers_without_documents"]["ids"])
    reviewers = len(sql(corpora_ws[0], "SELECT DISTINCT customer_id FROM documents"))
    assert match["crm_customers_with_documents"] + match["document_customers_not_in_crm"]["count"] \
        == reviewers


def test_corpora_orders_keep_their_ids_as_text(corpora_ws):
    path, result = corpora_ws
    assert (result["orders"]["in"], result["orders"]["stored"]) == (800, 800)
    source = pd.read_csv(CORPORA / "orders.csv", dtype=str)
    stored = {r[0] for r in sql(path, "SELECT order_id FROM orders")}
    assert stored == set(source["订单号"])
    assert any(o.startswith("0") for o in stored)


def test_corpora_follow_up_finds_the_planted_customers(corpora_ws):
    frame = follow_up_list(corpora_ws[0], top=0)
    top = frame["customer_id"].head(8).tolist()
    assert set(PLANTED["follow_up_customers"]) <= set(top)
    assert PLANTED["happy_frequent_customer"] not in frame["customer_id"].tolist()
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert frame["score"].is_monotonic_decreasing


def test_corpora_profiles_count_every_review(corpora_ws):
    path, _ = corpora_ws
    profiles = customer_profiles(path)
    assert profiles["customer_id"].is_unique
    reviews = sql(path, "SELECT count(*) FROM documents WHERE customer_id IS NOT NULL")[0][0]
    assert profiles["reviews"].sum() == reviews
    crm_and_reviewers = sql(path, "SELECT count(*) FROM (SELECT customer_id FROM customers UNION "
                                  "SELECT customer_id FROM documents WHERE customer_id IS NOT NULL)")
    assert len(profiles) == crm_and_reviewers[0][0]


# -- joins: nothing lost ------------------------------------------------------------------------------

CRM = """客户ID,会员等级,地区,累计消费
000123,金卡,上海,100.5
 000456 ,银卡,北京,50
００７８９,普通,广州,10
000123,金卡,上海,100.5
000999,普通,深圳,5
000999,钻石,深圳,5000
,普通,杭州,1
555555,普通,成都,1
"""


@pytest.fixture
def joined(tmp_path) -> tuple[Path, dict]:
    path = tmp_path / "ws.duckdb"
    day = datetime(2026, 3, 1)
    docs = [review("r1", "000123", day), review("r2", "000123", day, rating=5, polarity="positive"),
            review("r3", "000456", day), review("r4", "00789", day), review("r5", "777777", day),
            review("r6", "123", day)]
    with open_workspace(path) as ws:
        ws.insert("documents", pd.DataFrame(docs))
    crm = write(tmp_path / "crm.csv", CRM, encoding="utf-8-sig")
    return path, import_customers(path, crm).to_dict()


def test_duplicates_conflicts_and_blank_ids_are_counted(joined):
    path, result = joined
    crm = result["customers"]
    assert crm["in"] == 8 == crm["stored"] + crm["duplicates"] + crm["conflicts"] + crm["rejected"]
    assert (crm["stored"], crm["duplicates"], crm["conflicts"], crm["rejected"]) == (5, 1, 1, 1)
    assert crm["conflicting_ids"] == ["000999"]
    assert sql(path, "SELECT tier, spend FROM customers WHERE customer_id = '000999'") == [("钻石", 5000.0)]
    assert sql(path, "SELECT row, reason FROM rejects") == [(7, "empty_id")]
    assert {r[0] for r in sql(path, "SELECT customer_id FROM customers")} == \
        {"000123", "000456", "00789", "000999", "555555"}  # spaces trimmed, full-width folded


def test_unmatched_ids_and_lost_leading_zeros_are_reported(joined):
    _, result = joined
    match = result["matching"]
    assert match["crm_customers_without_documents"]["ids"] == ["000999", "555555"]
    assert match["document_customers_not_in_crm"]["ids"] == ["123", "777777"]
    assert match["document_customers_not_in_crm"]["differ_only_in_leading_zeros"] == 1


def test_profiles_cover_both_sides(joined):
    path, _ = joined
    profiles = customer_profiles(path).set_index("customer_id")
    assert len(profiles) == 7  # 5 CRM customers + 2 reviewers not in the CRM
    assert profiles.loc["000123", "reviews"] == 2 and profiles.loc["000123", "negative_reviews"] == 1
    assert bool(profiles.loc["000123", "in_crm"]) and profiles.loc["000123", "tier"] == "金卡"
    assert not profiles.loc["777777", "in_crm"] and profiles.loc["777777", "reviews"] == 1
    assert profiles.loc["555555", "reviews"] == 0 and profiles.loc["555555", "score"] == 0


def test_a_missing_id_column_names_the_columns_found(tmp_path):
    crm = write(tmp_path / "crm.csv", "姓名,等级\n张三,金卡\n")
    result = runner.invoke(app, ["customers", "import", str(crm), "-w", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 2 and "E007" in result.output and "姓名" in result.output


def test_excel_crm_with_numeric_ids_is_flagged(tmp_path):
    """IDs saved as numbers lose their zeros; they are counted, not silently matched or dropped."""
    path = tmp_path / "ws.duckdb"
    with open_workspace(path) as ws:
        ws.insert("documents", pd.DataFrame([review("r1", "000233", datetime(2026, 3, 1))]))
    book = openpyxl.Workbook()
    book.active.append(["客户ID", "会员等级"])
    book.active.append([233, "金卡"])
    book.save(tmp_path / "crm.xlsx")
    match = import_customers(path, tmp_path / "crm.xlsx").matching
    assert match["crm_customers_without_documents"]["ids"] == ["233"]
    assert match["crm_customers_without_documents"]["differ_only_in_leading_zeros"] == 1


ORDERS = """客户ID,订单号,下单时间,金额
000123,0001,2026-01-05 10:00,"¥1,299.00"
000123,0002,2026-02-05 10:00,88元
000123,0002,2026-02-05 10:00,88元
000123,0003,2026-02-06 10:00,99
000123,0003,2026-02-06 10:00,199
000456,0004,昨天,10
000456,0005,2026-02-07,abc
,0006,2026-02-07,10
888888,0007,2026-02-08,10
"""


def test_orders_every_row_accounted(tmp_path):
    path = tmp_path / "ws.duckdb"
    crm = write(tmp_path / "crm.csv", "客户ID,会员等级\n000123,金卡\n000456,银卡\n")
    orders = write(tmp_path / "orders.csv", ORDERS)
    result = import_customers(path, crm, orders).to_dict()
    o = result["orders"]
    assert o["in"] == 9 == o["stored"] + o["duplicates"] + o["rejected"]
    assert (o["stored"], o["duplicates"]) == (4, 1)
    assert o["rejected_by_reason"] == {"bad_time": 1, "bad_amount": 1, "empty_id": 1,
                                       "duplicate_id_conflict": 1}
    assert sql(path, "SELECT amount FROM orders WHERE order_id = '0001'") == [(1299.0,)]
    assert result["matching"]["order_customers_not_in_crm"]["ids"] == ["888888"]
    assert result["matching"]["crm_customers_without_orders"]["ids"] == ["000456"]


def test_rfm_scores_and_segments(tmp_path):
    path = tmp_path / "ws.duckdb"
    end = datetime(2026, 6, 30)
    rows = [("A", 0, 1000.0)] * 5 + [("B", 200, 900.0)] * 4 + [("C", 5, 50.0)] + [("D", 300, 10.0)]
    with open_workspace(path) as ws:
        ws.insert("orders", pd.DataFrame(
            [{"customer_id": c, "order_id": f"{c}{i}", "ordered_at": end - timedelta(days=d),
              "amount": a} for i, (c, d, a) in enumerate(rows)]))
    table = rfm(path).set_index("customer_id")
    assert table.loc["A", ["orders", "monetary", "recency_days"]].tolist() == [5, 5000.0, 0]
    assert table.loc["A", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert table.loc["D", ["r_score", "f_score", "m_score"]].tolist() == [1, 1, 1]
    assert table["rfm_segment"].to_dict() == {"A": "重要价值客户", "B": "重要保持客户",
                                              "C": "一般发展客户", "D": "一般挽留客户"}


# -- the ranking rule -----------------------------------------------------------------------------------

@pytest.fixture
def ranked(tmp_path) -> Path:
    """Four customers whose expected scores follow from the documented rule by hand."""
    path = tmp_path / "ws.duckdb"
    d = datetime(2026, 3, 2, 10)
    docs = [
        review("a1", "A", d - timedelta(days=3), aspect="物流", text="快递太慢了，一周才到"),
        review("a2", "A", d - timedelta(days=1), aspect="物流"),
        review("b1", "B", d - timedelta(days=2)), review("b2", "B", d - timedelta(days=1)),
        review("b3", "B", d, rating=5, polarity="positive"),
        review("c1", "C", d - timedelta(days=5), rating=2),
        # the model calls it negative but the customer gave 5 stars: no call-back
        review("e1", "E", d, rating=5, polarity="negative"),
        # too old for the 30-day window
        review("f1", "F", d - timedelta(days=60)),
    ]
    with open_workspace(path) as ws:
        ws.insert("documents", pd.DataFrame(docs))
        ws.con.execute("""CREATE OR REPLACE TABLE sessions AS SELECT * FROM (VALUES
            ('s1', 'A', TIMESTAMP '2026-03-02 09:00', true, true, false, ['投诉']),
            ('s2', 'C', TIMESTAMP '2026-02-20 09:00', false, false, false, NULL),
            ('s3', 'C', TIMESTAMP '2026-02-24 09:00', false, false, true, NULL))
            t(session_id, customer_id, started_at, escalated, ended_badly, repeat_contact,
              escalation_reasons)""").fetchall()
    crm = write(tmp_path / "crm.csv", "客户ID,会员等级\nA,金卡\nB,普通\nC,普通\nE,钻石\n")
    # A is worth most (most orders and money), B and C the least.
    orders = "客户ID,订单号,下单时间,金额\n" + "".join(
        f"{c},{c}{i},2026-02-{10 + i:02d},{amount}\n"
        for c, n, amount in (("A", 4, 500), ("B", 1, 10), ("C", 1, 10), ("E", 2, 100))
        for i in range(n))
    import_customers(path, crm, write(tmp_path / "orders.csv", orders))
    return path


def test_ranking_rule_by_hand(ranked):
    frame = follow_up_list(ranked, top=0).set_index("customer_id")
    value = rfm(ranked).set_index("customer_id")
    v = {c: 1 + (value.loc[c, "f_score"] + value.loc[c, "m_score"] - 2) / 8 for c in "ABC"}
    # A: 2 negative reviews + 1 bad chat; escalated, ended badly, latest contact negative.
    assert frame.loc["A", "score"] == pytest.approx(round(v["A"] * 3 * (1 + 1 + 1 + 1), 2))
    # B: 2 negative reviews; the latest review is positive, nothing unresolved.
    assert frame.loc["B", "score"] == pytest.approx(round(v["B"] * 2 * 1, 2))
    # C: a 2-star review; a repeat contact; the latest contact (the review) is negative.
    assert frame.loc["C", "score"] == pytest.approx(round(v["C"] * 1 * (1 + 1 + 1), 2))
    assert frame.index.tolist() == ["A", "C", "B"]
    assert "E" not in frame.index and "F" not in frame.index


def test_reason_in_words_and_masked_evidence(ranked):
    top = follow_up_list(ranked, top=1).iloc[0]
    assert top["reason"] == ("2 negative reviews about 物流 in 30 days; chat ended badly on "
                             "2026-03-02; escalated 1× (投诉); latest contact still negative; "
                             "tier 金卡; RFM 重要价值客户")
    assert top["evidence"] in {"快递太慢了，一周才到", "不满意"}
    assert top["evidence_doc_id"] in {"a1", "a2"}


def test_repeat_contacts_are_derived_when_sessions_lack_the_flag(tmp_path):
    path = tmp_path / "ws.duckdb"
    d = datetime(2026, 3, 2)
    turns = [{"doc_id": f"s{i}:1", "kind": "chat", "role": "customer", "customer_id": "A",
              "session_id": f"s{i}", "created_at": d + timedelta(days=day), "text": "还是不行",
              "polarity": "negative", "sentiment": 0.1} for i, day in ((1, 0), (2, 3), (3, 20))]
    with open_workspace(path) as ws:
        ws.insert("documents", pd.DataFrame(turns))
        ws.con.execute("DROP TABLE IF EXISTS sessions").fetchall()
    profile = customer_profiles(path).set_index("customer_id").loc["A"]
    assert (profile["chats"], profile["negative_chats"], profile["repeat_contacts"]) == (3, 3, 1)


# -- CLI and files ---------------------------------------------------------------------------------

def test_cli_follow_up_excel_reads_well(corpora_ws, tmp_path):
    out = tmp_path / "跟进名单.xlsx"
    result = runner.invoke(app, ["customers", "follow-up", "-w", str(corpora_ws[0]), "--top", "20",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["排名", "客户ID", "优先分", "跟进原因"]
    assert sheet.freeze_panes == "A2"
    ids = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert len(ids) == 20 and all(isinstance(i, str) and len(i) == 6 for i in ids)
    assert any(i.startswith("0") for i in ids)
    reason_col = openpyxl.utils.get_column_letter(header.index("跟进原因") + 1)
    assert sheet.column_dimensions[reason_col].width >= 40


def test_cli_follow_up_csv_keeps_zeros(corpora_ws, tmp_path):
    out = tmp_path / "follow.csv"
    result = runner.invoke(app, ["customers", "follow-up", "-w", str(corpora_ws[0]), "-o", str(out),
                                 "--since", "2026-10-15"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 CSV with a BOM
    frame = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert set(PLANTED["follow_up_customers"]) <= set(frame["customer_id"].head(8))


def test_cli_import_json_and_show(tmp_path):
    path = tmp_path / "ws.duckdb"
    crm = write(tmp_path / "crm.csv", CRM)
    result = runner.invoke(app, ["customers", "import", str(crm), "-w", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["customers"]["stored"] == sql(path, "SELECT count(*) FROM customers")[0][0] == 5
    result = runner.invoke(app, ["customers", "show", "００７８９", "-w", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["region"] == "广州"
    missing = runner.invoke(app, ["customers", "show", "404", "-w", str(path)])
    assert missing.exit_code == 2 and "E019" in missing.output


def test_spark_folder_workspace_reads_and_imports_into_the_overlay(tmp_path):
    """A Spark output folder: documents as Parquet, customers written to the overlay file."""
    folder = tmp_path / "spark_out"
    (folder / "documents").mkdir(parents=True)
    d = datetime(2026, 3, 2)
    source = tmp_path / "src.duckdb"
    with open_workspace(source) as ws:
        ws.insert("documents", pd.DataFrame(
            [review(f"r{i}", "000123", d - timedelta(days=i), aspect="物流") for i in range(3)]))
        ws.con.execute(f"COPY documents TO '{folder / 'documents' / 'part-0.parquet'}' "
                       "(FORMAT parquet)").fetchall()
    crm = write(tmp_path / "crm.csv", "客户ID,会员等级\n000123,金卡\n")
    result = runner.invoke(app, ["customers", "import", str(crm), "-w", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert (folder / "_workspace.duckdb").exists()
    assert sql(folder / "_workspace.duckdb", "SELECT customer_id FROM customers") == [("000123",)]
    out = tmp_path / "f.csv"
    result = runner.invoke(app, ["customers", "follow-up", "-w", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out, dtype=str)["customer_id"].tolist() == ["000123"]
    result = runner.invoke(app, ["trends", "-w", str(folder), "--aspect", "物流", "--json"])
    assert result.exit_code == 0, result.output
    assert sum(r["complaints"] for r in json.loads(result.output)) == 3
