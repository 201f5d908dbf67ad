"""Customers: CRM and order imports, RFM value tiers, per-customer profiles and the follow-up list."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from textmine.errors import TextmineError
from textmine.load import ROW, open_source
from textmine.records import make_rejects, normalize_ids
from textmine.schema import TABLES, duck_type, register_table
from textmine.timeparse import parse_times
from textmine.trends import WorkspaceLike, columns_of, parse_day, reading, voice_sql
from textmine.workspace import Workspace, open_workspace

CUSTOMERS = pa.schema([
    ("customer_id", pa.string()),
    ("tier", pa.string()),
    ("region", pa.string()),
    ("channel", pa.string()),
    ("registered_at", pa.timestamp("us")),
    ("spend", pa.float64()),
    ("attributes", pa.string()),  # every column of the CRM row as JSON (nothing is dropped)
    ("source", pa.string()),
    ("source_row", pa.int64()),
    ("imported_at", pa.timestamp("us")),
])
ORDERS = pa.schema([
    ("customer_id", pa.string()),
    ("order_id", pa.string()),
    ("ordered_at", pa.timestamp("us")),
    ("amount", pa.float64()),
    ("source", pa.string()),
    ("source_row", pa.int64()),
    ("imported_at", pa.timestamp("us")),
])
register_table("customers", CUSTOMERS)
register_table("orders", ORDERS)

# Column names seen in CRM and order exports (matching ignores case, spaces, _ and -).
CRM_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": ("客户ID", "用户ID", "会员ID", "买家ID", "顾客ID", "客户编号", "会员号", "用户编号",
                    "customer_id", "user_id", "member_id", "buyer_id", "uid", "customer", "id"),
    "tier": ("会员等级", "等级", "会员级别", "客户等级", "VIP等级", "tier", "level", "member_level",
             "grade"),
    "region": ("地区", "区域", "省份", "城市", "所在地", "region", "province", "city", "area"),
    "channel": ("渠道", "注册渠道", "来源渠道", "来源", "channel", "source", "platform"),
    "registered_at": ("注册日期", "注册时间", "开卡日期", "入会日期", "registered_at",
                      "register_date", "signup_date", "join_date", "created_at"),
    "spend": ("累计消费", "累计消费金额", "消费金额", "总消费", "累计金额", "spend", "total_spend",
              "lifetime_value", "ltv"),
}
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_id": CRM_COLUMNS["customer_id"],
    "order_id": ("订单号", "订单ID", "订单编号", "order_id", "order_no", "order"),
    "ordered_at": ("下单时间", "订单时间", "支付时间", "付款时间", "成交时间", "创建时间", "时间",
                   "日期", "ordered_at", "order_time", "paid_at", "created_at", "date", "time"),
    "amount": ("金额", "订单金额", "实付金额", "实付款", "支付金额", "付款金额", "成交金额", "销售额",
               "amount", "total", "payment", "price", "gmv"),
}
_AMOUNT_JUNK = re.compile(r"[¥￥$,，元\s]")

# Classic eight RFM groups (above/below the mean of recency, frequency, monetary), as Chinese
# retail teams name them.
RFM_SEGMENTS = {
    (True, True, True): "重要价值客户", (False, True, True): "重要保持客户",
    (True, False, True): "重要发展客户", (False, False, True): "重要挽留客户",
    (True, True, False): "一般价值客户", (False, True, False): "一般保持客户",
    (True, False, False): "一般发展客户", (False, False, False): "一般挽留客户",
}


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower().lstrip("\ufeff")


def match_columns(columns: list[str], aliases: dict[str, tuple[str, ...]],
                  overrides: dict[str, str | None] | None = None, *, source: str = "",
                  required: tuple[str, ...] = ("customer_id",)) -> dict[str, str | None]:
    """Field -> input column, by the names exports use; a named column (flag) always wins."""
    by_key = {_key(c): c for c in columns}
    found: dict[str, str | None] = {}
    taken: set[str] = set()
    for name, column in (overrides or {}).items():
        if column:
            match = column if column in columns else by_key.get(_key(column))
            if match is None:
                raise TextmineError("E007", f"{name}: {column}", where=source,
                                    fix=f"Columns found: {', '.join(columns)}.")
            found[name] = match
            taken.add(match)
    for name, names in aliases.items():
        if name in found:
            continue
        found[name] = next((by_key[_key(a)] for a in names
                            if _key(a) in by_key and by_key[_key(a)] not in taken), None)
        if found[name]:
            taken.add(found[name])
    for name in required:
        if found.get(name) is None:
            raise TextmineError("E007", f"no {name} column", where=source,
                                fix=f"Columns found: {', '.join(columns)}. Name it with --id-col.")
    return found


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'¥1,299.00', '299元', '88' -> float; returns (amounts, bad)."""
    text = values.astype("string").str.replace(_AMOUNT_JUNK, "", regex=True)
    empty = text.isna() | (text == "")
    out = pd.to_numeric(text.where(~empty), errors="coerce").astype(float)
    return out, out.isna() & ~empty


def _read(path: str | Path, encoding: str | None) -> tuple[str, list[str], pd.DataFrame, pd.DataFrame]:
    """All rows of a file as strings, plus the rows the parser could not read (as rejects)."""
    source = open_source(path, encoding=encoding)
    frames, unreadable = [], []
    for frame, bad in source.batches():
        frames.append(frame)
        unreadable.extend(bad)
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*source.columns, ROW])
    rejects = make_rejects(source.name, [b.row for b in unreadable], [None] * len(unreadable),
                           "unreadable_row", pd.Series([b.detail for b in unreadable], dtype=object))
    return source.name, source.columns, raw, rejects


def _text(raw: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series([None] * len(raw), index=raw.index, dtype=object)
    values = raw[column].astype("string").str.strip()
    return values.where(values.notna() & (values != ""), None).astype(object)


@dataclass
class ImportResult:
    """What `customers import` did; every input row is stored, a duplicate, or rejected."""

    customers: dict[str, Any] = field(default_factory=dict)
    orders: dict[str, Any] | None = None
    matching: dict[str, Any] = field(default_factory=dict)
    workspace: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"customers": self.customers, "matching": self.matching, "workspace": self.workspace}
        if self.orders is not None:
            out["orders"] = self.orders
        return out


def import_customers(workspace: str | Path, crm: str | Path, orders: str | Path | None = None, *,
                     id_col: str | None = None, encoding: str | None = None,
                     timezone: str = "Asia/Shanghai") -> ImportResult:
    """Load a CRM export (and optionally orders) into the workspace, replacing earlier imports.

    IDs are normalised the same way as in `analyze` (trim, full-width to ASCII, never through
    numbers). Duplicate CRM rows are counted (identical) or reported as conflicts (same ID,
    different values: the last row wins); rows without an ID are rejected. Unmatched IDs on
    either side are counted in `matching`.
    """
    name, columns, raw, rejects = _read(crm, encoding)
    found = match_columns(columns, CRM_COLUMNS, {"customer_id": id_col}, source=name)
    staged = _stage_crm(raw, columns, found, name, timezone)
    staged_orders = order_rejects = None
    if orders is not None:
        o_name, o_columns, o_raw, order_rejects = _read(orders, encoding)
        o_found = match_columns(o_columns, ORDER_COLUMNS, {"customer_id": id_col}, source=o_name,
                                required=("customer_id", "ordered_at", "amount"))
        staged_orders, bad = _stage_orders(o_raw, o_found, o_name, timezone)
        order_rejects = pd.concat([order_rejects, bad], ignore_index=True)
    result = ImportResult(workspace=str(workspace))
    with open_workspace(workspace) as ws, ws.transaction():
        result.customers, rejects = _store_crm(ws, staged, rejects, name, found)
        if staged_orders is not None:
            result.orders, order_rejects = _store_orders(ws, staged_orders, order_rejects)
            rejects = pd.concat([rejects, order_rejects], ignore_index=True)
        result.matching = match_report(ws)
        if not ws.is_folder:  # a Spark folder's rejects and runs are its own Parquet files
            _record(ws, result, rejects)
    return result


def _stage_crm(raw: pd.DataFrame, columns: list[str], found: dict[str, str | None],
               source: str, timezone: str) -> pd.DataFrame:
    registered, _ = parse_times(_text(raw, found["registered_at"]), timezone)
    spend, _ = parse_amounts(_text(raw, found["spend"]))
    others = [c for c in columns if c != found["customer_id"]]
    attributes = (raw[others].to_json(orient="records", lines=True, force_ascii=False).splitlines()
                  if others and len(raw) else ["{}"] * len(raw))
    return pd.DataFrame({
        "customer_id": normalize_ids(raw[found["customer_id"]]),
        "tier": _text(raw, found["tier"]), "region": _text(raw, found["region"]),
        "channel": _text(raw, found["channel"]), "registered_at": registered,
        "spend": spend, "attributes": attributes, "source": source,
        "source_row": raw[ROW].astype("int64"), "raw_id": raw[found["customer_id"]],
    })


def _stage_orders(raw: pd.DataFrame, found: dict[str, str | None], source: str,
                  timezone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    ordered, bad_time = parse_times(_text(raw, found["ordered_at"]), timezone)
    amount, bad_amount = parse_amounts(_text(raw, found["amount"]))
    staged = pd.DataFrame({
        "customer_id": normalize_ids(_text(raw, found["customer_id"])),
        "order_id": normalize_ids(_text(raw, found["order_id"])),
        "ordered_at": ordered, "amount": amount, "source": source,
        "source_row": raw[ROW].astype("int64"),
    })
    checks = [("empty_id", staged["customer_id"].isna(), "customer ID is empty"),
              ("bad_time", ordered.isna() | bad_time, "order time is missing or unparseable"),
              ("bad_amount", amount.isna() | bad_amount, "amount is missing or not a number")]
    frames, rejected = [], pd.Series(False, index=staged.index)
    for reason, mask, detail in checks:
        mask = mask & ~rejected
        if mask.any():
            rows = staged[mask]
            excerpt = raw.loc[mask].drop(columns=[ROW]).astype(str).agg(",".join, axis=1)
            frames.append(make_rejects(source, rows["source_row"], rows["order_id"], reason,
                                       detail, excerpt))
        rejected |= mask
    bad = pd.concat(frames, ignore_index=True) if frames else make_rejects(source, [], [], "", "")
    return staged[~rejected].reset_index(drop=True), bad


def _run(ws: Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    # Fetch every result: DuckDB refuses register() while a result is still pending.
    return ws.con.execute(sql, params or []).fetchall()


def _ensure_table(ws: Workspace, name: str) -> None:
    # A Spark output folder's overlay is not migrated: create our tables there on first use.
    cols = ", ".join(f'"{f.name}" {duck_type(f.type)}' for f in TABLES[name])
    _run(ws, f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')


def _store_crm(ws: Workspace, staged: pd.DataFrame, rejects: pd.DataFrame, source: str,
               found: dict[str, str | None]) -> tuple[dict[str, Any], pd.DataFrame]:
    _ensure_table(ws, "customers")
    ws.con.register("_crm_staged", staged)
    try:
        # The last row of an ID wins (exports append corrections); identical repeats are
        # duplicates, differing ones conflicts, and both are counted, never silently dropped.
        _run(ws, """
            CREATE OR REPLACE TEMP TABLE _crm AS
            SELECT *, row_number() OVER w AS rn, first_value(attributes) OVER w AS kept
            FROM _crm_staged WHERE customer_id IS NOT NULL
            WINDOW w AS (PARTITION BY customer_id ORDER BY source_row DESC)""")
        empty = ws.query("SELECT source_row, raw_id FROM _crm_staged WHERE customer_id IS NULL")
    finally:
        ws.con.unregister("_crm_staged")
    counts = _run(ws, """
        SELECT count(*) FILTER (WHERE rn = 1), count(*) FILTER (WHERE rn > 1 AND attributes = kept),
               count(*) FILTER (WHERE rn > 1 AND attributes <> kept)
        FROM _crm""")[0]
    conflicts = [r[0] for r in _run(
        ws, "SELECT DISTINCT customer_id FROM _crm WHERE rn > 1 AND attributes <> kept "
        "ORDER BY 1 LIMIT 20")]
    _run(ws, "DELETE FROM customers")
    _run(ws, "INSERT INTO customers BY NAME SELECT customer_id, tier, region, channel, "
         "registered_at, spend, attributes, source, source_row, now()::TIMESTAMP AS "
                   "imported_at FROM _crm WHERE rn = 1")
    _run(ws, "DROP TABLE _crm")
    empty_rejects = make_rejects(source, empty["source_row"], [None] * len(empty), "empty_id",
                                 "customer ID is empty", empty["raw_id"])
    all_rejects = pd.concat([rejects, empty_rejects], ignore_index=True)
    stored, duplicates, conflicted = (int(v) for v in counts)
    out = {"in": stored + duplicates + conflicted + len(all_rejects), "stored": stored,
           "duplicates": duplicates, "conflicts": conflicted, "rejected": len(all_rejects),
           "rejected_by_reason": all_rejects["reason"].value_counts().to_dict(),
           "conflicting_ids": conflicts,
           "columns": {k: v for k, v in found.items() if v is not None}}
    return out, all_rejects


def _store_orders(ws: Workspace, staged: pd.DataFrame,
                  rejects: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    _ensure_table(ws, "orders")
    ws.con.register("_orders_staged", staged)
    try:
        # Same order ID twice: an identical repeat is a duplicate; different content is a
        # conflict, rejected (the first row is kept) so the amount is never counted twice.
        _run(ws, """
            CREATE OR REPLACE TEMP TABLE _ord AS
            SELECT *, CASE WHEN order_id IS NULL THEN 1 ELSE row_number() OVER w END AS rn,
                   first_value(customer_id || '|' || ordered_at || '|' || amount) OVER w AS kept,
                   customer_id || '|' || ordered_at || '|' || amount AS content
            FROM _orders_staged
            WINDOW w AS (PARTITION BY order_id ORDER BY source_row)""")
    finally:
        ws.con.unregister("_orders_staged")
    conflict = ws.query("SELECT source, source_row, order_id FROM _ord WHERE rn > 1 AND content <> kept")
    duplicates = _run(ws, "SELECT count(*) FROM _ord WHERE rn > 1 AND content = kept")[0][0]
    _run(ws, "DELETE FROM orders")
    _run(ws, "INSERT INTO orders BY NAME SELECT customer_id, order_id, ordered_at, amount, "
         "source, source_row, now()::TIMESTAMP AS imported_at FROM _ord WHERE rn = 1")
    stored = _run(ws, "SELECT count(*) FROM orders")[0][0]
    _run(ws, "DROP TABLE _ord")
    if len(conflict):
        rejects = pd.concat([rejects, make_rejects(
            conflict["source"].iloc[0], conflict["source_row"], conflict["order_id"],
            "duplicate_id_conflict", "order ID already used by a row with other values")],
            ignore_index=True)
    out = {"in": stored + int(duplicates) + len(rejects), "stored": stored,
           "duplicates": int(duplicates), "rejected": len(rejects),
           "rejected_by_reason": rejects["reason"].value_counts().to_dict()}
    return out, rejects


def match_report(ws: Workspace) -> dict[str, Any]:
    """How the customer IDs of the CRM, the documents and the orders line up (counts + samples)."""
    sides = {"crm": "SELECT customer_id FROM customers"}
    if ws.has_table("documents"):
        sides["documents"] = "SELECT DISTINCT customer_id FROM documents WHERE customer_id IS NOT NULL"
    if ws.has_table("orders"):
        sides["orders"] = "SELECT DISTINCT customer_id FROM orders"
    report: dict[str, Any] = {}

    def only(a: str, b: str) -> dict[str, Any]:
        rows = _run(ws, f"""
            SELECT customer_id FROM ({sides[a]}) EXCEPT SELECT customer_id FROM ({sides[b]})
            ORDER BY 1""")
        ids = [r[0] for r in rows]
        # IDs that differ only in leading zeros usually went through Excel as numbers.
        padded = _run(ws, f"""
            SELECT count(*) FROM (SELECT unnest(?::VARCHAR[]) AS id) x
            WHERE ltrim(id, '0') IN (SELECT ltrim(customer_id, '0') FROM ({sides[b]}))""",
            [ids])[0][0]
        return {"count": len(ids), "ids": ids[:20], "differ_only_in_leading_zeros": int(padded)}

    if "documents" in sides:
        report["crm_customers_without_documents"] = only("crm", "documents")
        report["document_customers_not_in_crm"] = only("documents", "crm")
        report["crm_customers_with_documents"] = int(_run(
            ws, f"SELECT count(*) FROM (SELECT customer_id FROM ({sides['crm']}) "
            f"INTERSECT SELECT customer_id FROM ({sides['documents']}))")[0][0])
    if "orders" in sides and _run(ws, "SELECT count(*) FROM orders")[0][0]:
        report["order_customers_not_in_crm"] = only("orders", "crm")
        report["crm_customers_without_orders"] = only("crm", "orders")
    return report


def _record(ws: Workspace, result: ImportResult, rejects: pd.DataFrame) -> None:
    from textmine import __version__

    run_id = uuid.uuid4().hex[:12]
    ws.insert("rejects", rejects.assign(run_id=run_id))
    sides = [result.customers] + ([result.orders] if result.orders else [])
    now = datetime.now()
    ws.insert("runs", pd.DataFrame([{
        "run_id": run_id, "command": "customers import", "args": "{}", "started_at": now,
        "finished_at": now, "status": "ok", "textmine_version": __version__,
        "n_in": sum(s["in"] for s in sides), "n_stored": sum(s["stored"] for s in sides),
        "n_duplicates": sum(s["duplicates"] + s.get("conflicts", 0) for s in sides),
        "n_rejected": len(rejects),
        "details": json.dumps(result.to_dict(), ensure_ascii=False, default=str)}]))


# -- value ---------------------------------------------------------------------------------------

RFM_SQL = """
    WITH o AS (
        SELECT customer_id, count(*) AS orders, sum(amount) AS monetary,
               max(ordered_at) AS last_order_at,
               date_diff('day', max(ordered_at), (SELECT max(ordered_at) FROM orders)) AS recency_days
        FROM orders WHERE customer_id IS NOT NULL GROUP BY 1)
    SELECT *,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY recency_days DESC)))::INT AS r_score,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY orders)))::INT AS f_score,
           least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY monetary)))::INT AS m_score,
           recency_days < avg(recency_days) OVER () AS r_high,
           orders > avg(orders) OVER () AS f_high,
           monetary > avg(monetary) OVER () AS m_high
    FROM o"""


def _segment_case() -> str:
    whens = " ".join(f"WHEN r_high = {r} AND f_high = {f} AND m_high = {m} THEN '{name}'"
                     for (r, f, m), name in RFM_SEGMENTS.items())
    return f"CASE {whens} END"


def rfm(workspace: WorkspaceLike) -> pd.DataFrame:
    """Recency (days before the last order in the file), frequency, monetary per customer; scores
    1–5 by percentile (ties share a score) and the classic eight segments (above/below mean)."""
    with reading(workspace) as ws:
        if not ws.has_table("orders"):
            raise TextmineError("E013", "orders", where=str(ws.path),
                                fix="Import them: textmine customers import crm.csv --orders orders.csv")
        return ws.query(f"SELECT customer_id, orders, monetary, last_order_at, recency_days, "
                        f"r_score, f_score, m_score, {_segment_case()} AS rfm_segment "
                        f"FROM ({RFM_SQL}) ORDER BY customer_id")


# -- profiles and follow-up ----------------------------------------------------------------------

# Stars win over the model: a 1–2★ review is negative; a model-negative text counts only when
# the customer did not give it 4–5★ (praise with a small gripe is not a case for a call-back).
NEGATIVE_SQL = "(rating <= 2 OR (polarity = 'negative' AND coalesce(rating, 0) <= 3))"
# The quote shown is the strongest negative contact: 1★ reviews first, then chat turns (no stars),
# then 2–3★; the sentiment score breaks ties within a level.
EVIDENCE_KEY = "coalesce(rating, 1.5) + coalesce(sentiment, 0.5)"


def _contacts_sql(ws: Workspace) -> str:
    """One row per chat session: customer, start, escalated, ended badly, repeat contact.

    Uses the `sessions` table when the chats stage made one (its flags win), else the chat
    turns; a repeat contact is a session starting within 7 days of the customer's previous one.
    """
    have = columns_of(ws, "sessions")
    lag = ("coalesce(started_at - lag(started_at) OVER (PARTITION BY customer_id "
           "ORDER BY started_at) <= INTERVAL 7 DAY, false)")
    if {"session_id", "customer_id", "started_at"} <= set(have):
        def flag(name: str) -> str:
            return f'coalesce("{name}", false)' if have.get(name) == "BOOLEAN" else "false"

        repeat = next((c for c, t in have.items() if "repeat" in c and t == "BOOLEAN"), None)
        reasons = ("escalation_reasons" if have.get("escalation_reasons") == "VARCHAR[]"
                   else "NULL::VARCHAR[]")
        return (f"SELECT customer_id, session_id, started_at, {flag('escalated')} AS escalated, "
                f"{flag('ended_badly')} AS ended_badly, "
                f"{flag(repeat) if repeat else lag} AS repeat_contact, "
                f"{reasons} AS escalation_reasons FROM sessions WHERE customer_id IS NOT NULL")
    return f"""SELECT *, {lag} AS repeat_contact FROM (
        SELECT any_value(customer_id) AS customer_id, session_id, min(created_at) AS started_at,
               false AS escalated, false AS ended_badly, NULL::VARCHAR[] AS escalation_reasons
        FROM documents WHERE kind = 'chat' AND session_id IS NOT NULL AND customer_id IS NOT NULL
        GROUP BY session_id)"""


def customer_profiles(workspace: WorkspaceLike, *, since: str | pd.Timestamp | None = None,
                      until: str | pd.Timestamp | None = None,
                      customer_id: str | None = None) -> pd.DataFrame:
    """Per customer (CRM ∪ reviewers/chatters ∪ buyers): contacts, sentiment, negative contacts,
    complaint aspects/topics with counts, escalations, bad endings, repeat contacts within
    [since, until] (default: all data), plus CRM attributes, RFM and the follow-up score."""
    with reading(workspace) as ws:
        sql, params = _profiles_sql(ws, parse_day(since), parse_day(until, "--until"), customer_id)
        return ws.query(sql, params)


def _profiles_sql(ws: Workspace, since: pd.Timestamp | None, until: pd.Timestamp | None,
                  customer_id: str | None) -> tuple[str, list[Any]]:
    from textmine.trends import end_of_day

    have_crm = ws.has_table("customers")
    have_orders = ws.has_table("orders") and _run(ws, "SELECT count(*) FROM orders")[0][0] > 0
    lo = since.to_pydatetime() if since is not None else datetime(1900, 1, 1)
    hi = end_of_day(until).to_pydatetime() if until is not None else datetime(9999, 1, 1)
    crm = ("SELECT * FROM customers" if have_crm else
           "SELECT NULL::VARCHAR AS customer_id, NULL::VARCHAR AS tier, NULL::VARCHAR AS region, "
           "NULL::VARCHAR AS channel, NULL::TIMESTAMP AS registered_at, NULL::DOUBLE AS spend "
           "WHERE FALSE")
    rfm_cte = (f"SELECT *, {_segment_case()} AS rfm_segment FROM ({RFM_SQL})" if have_orders else
               "SELECT NULL::VARCHAR AS customer_id, NULL::BIGINT AS orders, NULL::DOUBLE AS monetary, "
               "NULL::TIMESTAMP AS last_order_at, NULL::INT AS r_score, NULL::INT AS f_score, "
               "NULL::INT AS m_score, NULL::VARCHAR AS rfm_segment WHERE FALSE")
    only = "WHERE ids.customer_id = ?" if customer_id else ""
    sql = f"""
    WITH voice AS (SELECT *, {NEGATIVE_SQL} AS is_neg FROM ({voice_sql(ws)})
                   WHERE customer_id IS NOT NULL AND created_at >= ? AND created_at < ?),
    contacts AS (SELECT * FROM ({_contacts_sql(ws)}) WHERE started_at >= ? AND started_at < ?),
    crm AS ({crm}),
    rfm AS ({rfm_cte}),
    ids AS (SELECT customer_id FROM crm UNION SELECT customer_id FROM voice
            UNION SELECT customer_id FROM rfm),
    docs AS (
        SELECT customer_id,
               count(*) FILTER (WHERE kind = 'review') AS reviews,
               avg(sentiment) AS mean_sentiment,
               arg_max(sentiment, created_at) AS latest_sentiment,
               max(created_at) AS last_contact_at,
               arg_max(is_neg, created_at) AS latest_negative,
               count(*) FILTER (WHERE kind = 'review' AND is_neg) AS negative_reviews,
               max(created_at) FILTER (WHERE is_neg) AS last_negative_at,
               arg_min(text, {EVIDENCE_KEY}) FILTER (WHERE is_neg) AS evidence,
               arg_min(doc_id, {EVIDENCE_KEY}) FILTER (WHERE is_neg) AS evidence_doc_id
        FROM voice GROUP BY 1),
    neg_sessions AS (
        SELECT customer_id, session_id FROM voice WHERE kind = 'chat' AND is_neg AND session_id IS NOT NULL
        UNION SELECT customer_id, session_id FROM contacts WHERE escalated OR ended_badly),
    chats AS (
        SELECT c.customer_id, count(*) AS chats,
               count(*) FILTER (WHERE c.escalated) AS escalations,
               max(c.started_at) FILTER (WHERE c.escalated) AS last_escalation_at,
               list_sort(list_distinct(flatten(list(c.escalation_reasons)
                   FILTER (WHERE c.escalated AND c.escalation_reasons IS NOT NULL))))
                   AS escalation_reasons,
               count(*) FILTER (WHERE c.ended_badly) AS bad_endings,
               max(c.started_at) FILTER (WHERE c.ended_badly) AS last_bad_ending_at,
               count(*) FILTER (WHERE c.repeat_contact) AS repeat_contacts,
               count(n.session_id) AS negative_chats
        FROM contacts c LEFT JOIN neg_sessions n
            ON n.session_id = c.session_id AND n.customer_id = c.customer_id
        GROUP BY 1),
    asp AS (
        SELECT customer_id, string_agg(aspect || '×' || n, ', ' ORDER BY n DESC, aspect) AS complaint_aspects,
               list(aspect ORDER BY n DESC, aspect) AS aspect_names
        FROM (SELECT customer_id, a.aspect AS aspect, count(DISTINCT doc_id) AS n
              FROM (SELECT customer_id, doc_id, unnest(aspects) AS a FROM voice WHERE is_neg)
              WHERE a.polarity = 'negative' GROUP BY 1, 2)
        GROUP BY 1),
    top AS (
        SELECT customer_id, string_agg(topic || '×' || n, ', ' ORDER BY n DESC, topic) AS complaint_topics,
               list(topic ORDER BY n DESC, topic) AS topic_names
        FROM (SELECT customer_id, coalesce(topic_label, 'topic ' || topic_id) AS topic, count(*) AS n
              FROM voice WHERE is_neg AND topic_id >= 0 GROUP BY 1, 2)
        GROUP BY 1),
    spend AS (SELECT customer_id, percent_rank() OVER (ORDER BY spend) AS spend_rank
              FROM crm WHERE spend IS NOT NULL),
    value AS (
        SELECT ids.customer_id,
               coalesce(1 + (rfm.f_score + rfm.m_score - 2) / 8.0, 1 + spend.spend_rank, 1.0) AS value
        FROM ids LEFT JOIN rfm USING (customer_id) LEFT JOIN spend USING (customer_id)),
    SELECT ids.customer_id, crm.customer_id IS NOT NULL AS in_crm,
           crm.tier, crm.region, crm.channel, crm.registered_at, crm.spend,
           rfm.rfm_segment, rfm.r_score, rfm.f_score, rfm.m_score, rfm.orders, rfm.monetary,
           rfm.last_order_at, value.value,
           coalesce(docs.reviews, 0) AS reviews, coalesce(chats.chats, 0) AS chats,
           docs.mean_sentiment, docs.latest_sentiment, docs.last_contact_at,
           coalesce(docs.negative_reviews, 0) AS negative_reviews,
           coalesce(chats.negative_chats, 0) AS negative_chats,
           docs.last_negative_at, asp.complaint_aspects, top.complaint_topics,
           coalesce(asp.aspect_names, []) AS aspect_names, coalesce(top.topic_names, []) AS topic_names,
           coalesce(chats.escalations, 0) AS escalations, chats.last_escalation_at,
           chats.escalation_reasons,
           coalesce(chats.bad_endings, 0) AS bad_endings, chats.last_bad_ending_at,
           coalesce(chats.repeat_contacts, 0) AS repeat_contacts,
           coalesce(docs.latest_negative, false) AS latest_negative,
           docs.evidence, docs.evidence_doc_id,
           value.value * (coalesce(docs.negative_reviews, 0) + coalesce(chats.negative_chats, 0))
               * (1 + coalesce(chats.escalations, 0) + coalesce(chats.bad_endings, 0)
                    + coalesce(chats.repeat_contacts, 0)
                    + CASE WHEN docs.latest_negative THEN 1 ELSE 0 END) AS score
    FROM ids LEFT JOIN crm USING (customer_id) LEFT JOIN rfm USING (customer_id)
    LEFT JOIN value USING (customer_id) LEFT JOIN docs USING (customer_id)
    LEFT JOIN chats USING (customer_id) LEFT JOIN asp USING (customer_id)
    LEFT JOIN top USING (customer_id)
    {only}
    ORDER BY score DESC, docs.last_negative_at DESC NULLS LAST, ids.customer_id
    """
    params: list[Any] = [lo, hi, lo, hi]
    if customer_id:
        params.append(customer_id)
    return sql, params


FOLLOW_UP_COLUMNS = ("rank", "customer_id", "score", "reason", "evidence", "evidence_doc_id",
                     "tier", "rfm_segment", "value", "negative_reviews", "negative_chats",
                     "escalations", "bad_endings", "repeat_contacts", "last_negative_at",
                     "latest_sentiment", "complaint_aspects", "complaint_topics", "region")
FOLLOW_UP_HEADERS = {
    "rank": "排名", "customer_id": "客户ID", "score": "优先分", "reason": "跟进原因",
    "evidence": "证据原文（已脱敏）", "evidence_doc_id": "证据编号", "tier": "会员等级",
    "rfm_segment": "RFM分层", "value": "价值系数", "negative_reviews": "近期差评数",
    "negative_chats": "近期不满会话数", "escalations": "升级/投诉次数", "bad_endings": "不满结束会话数",
    "repeat_contacts": "7天内重复联系", "last_negative_at": "最近负面时间",
    "latest_sentiment": "最近情感分", "complaint_aspects": "投诉方面", "complaint_topics": "投诉主题",
    "region": "地区",
}


def follow_up_list(workspace: WorkspaceLike, *, since: str | pd.Timestamp | None = None,
                   days: int = 30, top: int | None = 50,
                   until: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Customers to call back, best first, with the reason in words and a masked evidence quote.

    Window: [since, until]; by default the `days` days up to the latest document. Ranking rule:
    score = value × negative contacts × (1 + unresolved signals), where
    value = 1 + (F + M − 2) / 8 from RFM scores (1–2; else 1 + spend percentile; else 1),
    negative contacts = negative reviews + unhappy chat sessions in the window,
    unresolved = escalations + chats that ended badly + repeat contacts within 7 days
    + 1 when the latest contact is still negative. Customers without a negative contact in the
    window are not listed.
    """
    with reading(workspace) as ws:
        end = parse_day(until, "--until")
        if end is None:
            last = _run(ws, f"SELECT max(created_at) FROM ({voice_sql(ws)})")[0][0]
            if last is None:
                return pd.DataFrame(columns=list(FOLLOW_UP_COLUMNS))
            end = pd.Timestamp(last).normalize()  # the whole latest day is in the window
        start = parse_day(since) if since is not None else end - pd.Timedelta(days=days - 1)
        frame = customer_profiles(ws, since=start, until=end)
    frame = frame[(frame["negative_reviews"] + frame["negative_chats"]) > 0].copy()
    if top:
        frame = frame.head(top)
    window = max(1, (end.normalize() - start.normalize()).days + 1)
    frame["reason"] = [reason(row, window) for row in frame.to_dict(orient="records")]
    frame["evidence"] = frame["evidence"].map(lambda t: _quote(t) if isinstance(t, str) else None)
    frame["rank"] = range(1, len(frame) + 1)
    frame["score"] = frame["score"].round(2)
    frame["value"] = frame["value"].round(2)
    frame["latest_sentiment"] = frame["latest_sentiment"].round(3)
    return frame.reindex(columns=list(FOLLOW_UP_COLUMNS)).reset_index(drop=True)


def _quote(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _day(value: Any) -> str:
    return f"{pd.Timestamp(value):%Y-%m-%d}"


def _names(value: Any) -> list[str]:
    return [] if value is None else [str(v) for v in value]


def reason(row: dict[str, Any], window_days: int) -> str:
    """'3 negative reviews about 物流 in 30 days; chat ended badly on 2026-11-08; tier 金卡'."""
    parts = []
    about = [*_names(row.get("aspect_names"))] or [*_names(row.get("topic_names"))]
    subject = f" about {'/'.join(about[:2])}" if about else ""
    if row["negative_reviews"]:
        parts.append(f"{_plural(row['negative_reviews'], 'negative review')}{subject} "
                     f"in {window_days} days")
        subject = ""
    if row["bad_endings"] == 1:
        parts.append(f"chat ended badly on {_day(row['last_bad_ending_at'])}{subject}")
    elif row["bad_endings"]:
        parts.append(f"{row['bad_endings']} chats ended badly (last "
                     f"{_day(row['last_bad_ending_at'])}){subject}")
    elif row["negative_chats"]:
        parts.append(f"{_plural(row['negative_chats'], 'unhappy chat')}{subject}")
    if row["escalations"]:
        why = _names(row.get("escalation_reasons"))
        parts.append(f"escalated {row['escalations']}×" + (f" ({', '.join(why)})" if why else ""))
    if row["repeat_contacts"]:
        parts.append("contacted again within 7 days" + (
            f" ({row['repeat_contacts']}×)" if row["repeat_contacts"] > 1 else ""))
    if row["latest_negative"]:
        parts.append("latest contact still negative")
    if isinstance(row.get("tier"), str):
        parts.append(f"tier {row['tier']}")
    if isinstance(row.get("rfm_segment"), str):
        parts.append(f"RFM {row['rfm_segment']}")
    return "; ".join(parts)


def write_follow_up(frame: pd.DataFrame, path: str | Path) -> Path:
    """Excel (Chinese headers, frozen header row, widths, IDs as text) or CSV/other by extension."""
    from textmine.export import write_excel, write_frame

    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return write_excel({"跟进名单": frame}, path, headers=FOLLOW_UP_HEADERS)
    return write_frame(frame, path)
