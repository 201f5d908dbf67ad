"""What the complaint report shows: DuckDB aggregates over the workspace, plus a few sample quotes."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from textmine.errors import TextmineError
from textmine.mask import mask_text
from textmine.workspace import Workspace

WEEKS = 13  # a quarter of weekly history behind the charts and sparklines
TOP_TOPICS = 8
TOP_ASPECTS = 12
QUOTES_PER_TOPIC = 3
QUOTE_CHARS = 120
TOP_FOLLOW_UP = 10
TOP_RISING = 10
TOP_RISKY = 5
REJECT_ROWS = 1000
# Reviews and the customer's own chat turns are "the customer's voice"; agent, bot and system
# turns are not, so they never count as complaints or pull the mean sentiment.
VOICE = "(kind = 'review' OR coalesce(role, 'customer') = 'customer')"


@dataclass(frozen=True)
class Window:
    """The reporting period (inclusive dates) and the period of equal length just before it."""

    since: date
    until: date
    product: str | None = None

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def prev_since(self) -> date:
        return self.since - timedelta(days=self.days)

    @property
    def prev_until(self) -> date:
        return self.since - timedelta(days=1)

    @property
    def history_since(self) -> date:
        return self.until - timedelta(days=7 * WEEKS - 1)


@dataclass
class Metric:
    """One headline number for the period and the previous one; `good` says which way is better."""

    key: str
    label: str
    current: float | None
    previous: float | None
    kind: str  # "count", "share", "score" or "seconds": how to print it
    good: str  # "up", "down" or "either" (more is neither better nor worse)
    detail: str = ""
    available: bool = True


@dataclass
class Section:
    """A block of the report: its tables, and a plain sentence when its data is missing."""

    available: bool
    missing: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportData:
    title: str
    window: Window
    generated_at: datetime
    command: str
    headline: list[Metric]
    volume: Section
    aspects: Section
    topics: Section
    rising: Section
    chats: Section
    follow_up: Section
    footer: dict[str, Any]
    rejects: pd.DataFrame
    reject_rows: pd.DataFrame

    @property
    def missing(self) -> list[str]:
        """Every sentence saying what is not in this report, in reading order."""
        sections = (self.volume, self.aspects, self.topics, self.rising, self.chats,
                    self.follow_up)
        return [s.missing for s in sections if s.missing]


def columns(ws: Workspace, table: str) -> set[str]:
    """Columns of a table or view (empty when it does not exist)."""
    rows = ws.con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()
    return {r[0] for r in rows}


def default_window(ws: Workspace, since: date | None = None, until: date | None = None,
                   product: str | None = None) -> Window:
    """The last 7 days up to the newest document (or session) unless dates are given."""
    if until is None:
        newest = []
        if "created_at" in columns(ws, "documents"):
            newest.append(ws.con.execute("SELECT max(created_at) FROM documents").fetchone()[0])
        if "started_at" in columns(ws, "sessions"):
            newest.append(ws.con.execute("SELECT max(started_at) FROM sessions").fetchone()[0])
        newest = [n for n in newest if n is not None]
        until = max(newest).date() if newest else date.today()
    if since is None:
        since = until - timedelta(days=6)
    return Window(since=since, until=until, product=product)


class _Query:
    """SQL snippets for the window and product filter, with their parameters."""

    def __init__(self, ws: Workspace, window: Window) -> None:
        self.ws = ws
        self.window = window
        self.doc_cols = columns(ws, "documents")
        self.session_cols = columns(ws, "sessions")

    def docs_where(self, since: date, until: date, complaint: bool = False) -> tuple[str, list]:
        sql = f"created_at >= ? AND created_at < ? AND {VOICE}"
        params: list[Any] = [since, until + timedelta(days=1)]
        if self.window.product:
            sql += " AND product = ?"
            params.append(self.window.product)
        if complaint:
            sql += " AND coalesce(is_complaint, false)"
        return sql, params

    def sessions_where(self, since: date, until: date) -> tuple[str, list]:
        sql = "started_at >= ? AND started_at < ?"
        params: list[Any] = [since, until + timedelta(days=1)]
        if self.window.product:
            # A session is in when it, or any of its turns, names the product.
            own = "product = ? OR " if "product" in self.session_cols else ""
            sql += (f" AND ({own}session_id IN (SELECT session_id FROM documents "
                    "WHERE product = ? AND session_id IS NOT NULL))")
            params += [self.window.product] * (2 if own else 1)
        return sql, params

    def df(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.ws.con.execute(sql, params or []).df()

    def one(self, sql: str, params: list | None = None) -> tuple:
        return self.ws.con.execute(sql, params or []).fetchone()


def _volume_counts(q: _Query, since: date, until: date) -> dict[str, Any]:
    where, params = q.docs_where(since, until)
    row = q.one(f"""
        SELECT count(*), count(*) FILTER (WHERE kind = 'review'),
               count(*) FILTER (WHERE kind = 'chat'),
               count(*) FILTER (WHERE coalesce(is_complaint, false)), avg(sentiment)
        FROM documents WHERE {where}""", params)
    return {"docs": int(row[0]), "reviews": int(row[1]), "chat_turns": int(row[2]),
            "complaints": int(row[3]), "sentiment": None if row[4] is None else float(row[4])}


def _session_counts(q: _Query, since: date, until: date, cols: set[str]) -> dict[str, Any]:
    where, params = q.sessions_where(since, until)
    esc = "count(*) FILTER (WHERE escalated)" if "escalated" in cols else "NULL"
    bad = "count(*) FILTER (WHERE ended_badly)" if "ended_badly" in cols else "NULL"
    frt = "median(first_response_s)" if "first_response_s" in cols else "NULL"
    row = q.one(f"SELECT count(*), {esc}, {bad}, {frt} FROM sessions WHERE {where}", params)
    return {"sessions": int(row[0]), "escalated": row[1], "ended_badly": row[2],
            "first_response_s": None if row[3] is None else float(row[3])}


def _share(part: float | None, whole: float | None) -> float | None:
    return None if part is None or not whole else part / whole


def _headline(q: _Query, has_sessions: bool, session_cols: set[str]) -> list[Metric]:
    w = q.window
    cur = _volume_counts(q, w.since, w.until)
    prev = _volume_counts(q, w.prev_since, w.prev_until)
    metrics = [
        Metric("volume", "客户反馈", cur["docs"], prev["docs"], "count", "either",
               f"评论 {cur['reviews']:,} · 会话消息 {cur['chat_turns']:,}"),
        Metric("complaint_share", "投诉占比", _share(cur["complaints"], cur["docs"]),
               _share(prev["complaints"], prev["docs"]), "share", "down",
               f"投诉 {cur['complaints']:,} / {cur['docs']:,} 条（上期 {prev['complaints']:,}）"),
        Metric("sentiment", "平均情感", cur["sentiment"], prev["sentiment"], "score", "up",
               "0 = 负面，1 = 正面"),
    ]
    if has_sessions:
        cs = _session_counts(q, w.since, w.until, session_cols)
        ps = _session_counts(q, w.prev_since, w.prev_until, session_cols)
        for key, label in (("escalated", "升级会话"), ("ended_badly", "不良结束")):
            ok = cs[key] is not None
            metrics.append(Metric(
                key, label, cs[key], ps[key], "count", "down",
                f"占会话 {cs[key] / cs['sessions']:.0%}（共 {cs['sessions']:,} 个会话）"
                if ok and cs["sessions"] else f"共 {cs['sessions']:,} 个会话",
                available=ok))
    else:
        for key, label in (("escalated", "升级会话"), ("ended_badly", "不良结束")):
            metrics.append(Metric(key, label, None, None, "count", "down",
                                  "工作区中没有会话数据", available=False))
    return metrics


def _weekly(q: _Query) -> pd.DataFrame:
    """Complaints and mean sentiment per 7-day bin ending on the report's last day."""
    w = q.window
    where, params = q.docs_where(w.history_since, w.until)
    frame = q.df(f"""
        WITH bins AS (
            SELECT range AS bin FROM range({WEEKS})),
        agg AS (
            SELECT date_diff('day', created_at::DATE, ?::DATE) // 7 AS bin, count(*) AS docs,
                   count(*) FILTER (WHERE coalesce(is_complaint, false)) AS complaints,
                   avg(sentiment) AS mean_sentiment
            FROM documents WHERE {where} GROUP BY 1)
        SELECT (?::DATE - INTERVAL (bins.bin * 7 + 6) DAY)::DATE AS week_start,
               coalesce(agg.docs, 0) AS docs, coalesce(agg.complaints, 0) AS complaints,
               agg.mean_sentiment
        FROM bins LEFT JOIN agg USING (bin) ORDER BY week_start""",
                 [w.until, *params, w.until])
    frame["docs"] = frame["docs"].astype(int)
    frame["complaints"] = frame["complaints"].astype(int)
    frame["complaint_share"] = (frame["complaints"] / frame["docs"].where(frame["docs"] > 0))
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    return frame


def _volume(q: _Query) -> Section:
    if not {"created_at", "kind", "is_complaint"} <= q.doc_cols:
        return Section(False, "工作区中没有文档：请先运行 textmine analyze。")
    if not q.one("SELECT count(*) FROM documents")[0]:
        return Section(False, "工作区中还没有文档：请先运行 textmine analyze 导入评论或聊天记录。")
    product = q.window.product
    if product and not q.one("SELECT count(*) FROM documents WHERE product = ?", [product])[0]:
        known = [r[0] for r in q.ws.con.execute(
            "SELECT product FROM documents WHERE product IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 10").fetchall()]
        return Section(False, f"工作区中没有商品“{product}”的记录；已有商品："
                              f"{'、'.join(known) or '无'}。")
    weekly = _weekly(q)
    if int(weekly["docs"].sum()) == 0:
        return Section(False, "所选时间段及之前 13 周没有客户反馈。", {"weekly": weekly})
    reviews = q.one("SELECT count(*) FROM documents WHERE kind = 'review'")[0]
    note = "" if reviews else "工作区中没有评论，只有客服聊天：反馈和投诉只来自客户在聊天中的发言。"
    return Section(True, note, tables={"weekly": weekly})


def _aspects(q: _Query) -> Section:
    if "aspects" not in q.doc_cols:
        return Section(False, "没有方面（aspect）数据：工作区还没有 aspects 列。")
    w = q.window
    where, params = q.docs_where(w.since, w.until)
    pwhere, pparams = q.docs_where(w.prev_since, w.prev_until)
    frame = q.df(f"""
        WITH cur AS (
            SELECT a.aspect AS aspect, a.polarity AS polarity
            FROM (SELECT unnest(aspects) AS a FROM documents WHERE {where} AND len(aspects) > 0)),
        prev AS (
            SELECT a.aspect AS aspect, count(*) AS prev_negative
            FROM (SELECT unnest(aspects) AS a FROM documents WHERE {pwhere} AND len(aspects) > 0)
            WHERE a.polarity = 'negative' GROUP BY 1)
        SELECT cur.aspect,
               count(*) FILTER (WHERE polarity = 'negative') AS negative,
               count(*) FILTER (WHERE polarity = 'neutral') AS neutral,
               count(*) FILTER (WHERE polarity = 'positive') AS positive,
               count(*) AS mentions,
               coalesce(any_value(prev.prev_negative), 0) AS prev_negative
        FROM cur LEFT JOIN prev USING (aspect)
        WHERE cur.aspect IS NOT NULL
        GROUP BY cur.aspect ORDER BY negative DESC, mentions DESC, cur.aspect LIMIT ?""",
                 [*params, *pparams, TOP_ASPECTS])
    if frame.empty:
        any_aspects = q.one("SELECT count(*) FROM documents WHERE len(aspects) > 0")[0]
        why = ("本期没有识别到方面评价。" if any_aspects
               else "没有方面（aspect）数据：工作区的文档还没有方面评价。")
        return Section(False, why)
    for col in ("negative", "neutral", "positive", "mentions", "prev_negative"):
        frame[col] = frame[col].astype(int)
    frame["negative_share"] = frame["negative"] / frame["mentions"]
    return Section(True, tables={"aspects": frame})


def _topic_names(ws: Workspace) -> tuple[str, list]:
    """SQL for topic_id -> name of the current model; a name set by hand wins over the fitted one."""
    cols = columns(ws, "topics")
    model = _current_topic_model(ws)
    if model is None or not {"version", "topic_id", "label"} <= cols:
        return "SELECT NULL::INTEGER AS topic_id, NULL::VARCHAR AS name WHERE false", []
    name = "coalesce(custom_label, label)" if "custom_label" in cols else "label"
    return f"SELECT topic_id, {name} AS name FROM topics WHERE version = ?", [model["version"]]


def _quote(text: str) -> str:
    # Stored text is masked already; masking again is idempotent and guards older workspaces.
    text = mask_text(" ".join(str(text).split()))
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 1] + "…"


def _topics(q: _Query) -> Section:
    if not {"topic_id", "topic_label"} <= q.doc_cols:
        return Section(False, "没有投诉主题：工作区还没有主题列。")
    fitted = q.one("SELECT count(*) FROM documents WHERE topic_id IS NOT NULL")[0]
    if not fitted:
        return Section(False, "尚未拟合投诉主题（没有文档带 topic_id）：运行 textmine topics fit 后再生成报告。")
    w = q.window
    where, params = q.docs_where(w.since, w.until, complaint=True)
    pwhere, pparams = q.docs_where(w.prev_since, w.prev_until, complaint=True)
    total = q.one(f"SELECT count(*) FROM documents WHERE {where}", params)[0]
    prev_total = q.one(f"SELECT count(*) FROM documents WHERE {pwhere}", pparams)[0]
    names, name_params = _topic_names(q.ws)
    top = q.df(f"""
        WITH names AS ({names}),
        cur AS (
            SELECT topic_id, coalesce(any_value(names.name), any_value(topic_label),
                                      '主题 ' || topic_id::VARCHAR) AS label,
                   count(*) AS complaints
            FROM documents LEFT JOIN names USING (topic_id)
            WHERE {where} AND topic_id IS NOT NULL AND topic_id >= 0
            GROUP BY topic_id),
        prev AS (
            SELECT topic_id, count(*) AS prev_complaints
            FROM documents WHERE {pwhere} AND topic_id IS NOT NULL GROUP BY topic_id)
        SELECT cur.*, coalesce(prev.prev_complaints, 0) AS prev_complaints
        FROM cur LEFT JOIN prev USING (topic_id)
        ORDER BY complaints DESC, topic_id LIMIT ?""",
                 [*name_params, *params, *pparams, TOP_TOPICS])
    if top.empty:
        return Section(False, "本期的投诉没有归入任何主题。")
    top["complaints"] = top["complaints"].astype(int)
    top["prev_complaints"] = top["prev_complaints"].astype(int)
    top["share"] = top["complaints"] / total if total else 0.0
    top["prev_share"] = top["prev_complaints"] / prev_total if prev_total else 0.0
    ids = [int(t) for t in top["topic_id"]]
    marks = ", ".join("?" for _ in ids)
    hwhere, hparams = q.docs_where(w.history_since, w.until, complaint=True)
    spark = q.df(f"""
        SELECT topic_id, date_diff('day', created_at::DATE, ?::DATE) // 7 AS bin, count(*) AS n
        FROM documents WHERE {hwhere} AND topic_id IN ({marks}) GROUP BY ALL""",
                 [w.until, *hparams, *ids])
    series = {}
    for tid in ids:
        counts = dict(zip(spark.loc[spark["topic_id"] == tid, "bin"].astype(int),
                          spark.loc[spark["topic_id"] == tid, "n"].astype(int), strict=True))
        series[tid] = [counts.get(b, 0) for b in range(WEEKS - 1, -1, -1)]
    # Distinct texts only (the same complaint pasted twice is one quote); negative ones first,
    # since a complaint flagged by intent alone can read as praise out of context.
    quotes = q.df(f"""
        SELECT topic_id, text FROM (
            SELECT topic_id, text, row_number() OVER (
                PARTITION BY topic_id
                ORDER BY negative DESC, (length(text) BETWEEN 8 AND {QUOTE_CHARS}) DESC,
                         prob DESC NULLS LAST, first_id) AS r
            FROM (SELECT topic_id, text, max(topic_prob) AS prob, min(doc_id) AS first_id,
                         bool_or(coalesce(polarity = 'negative', false)) AS negative
                  FROM documents WHERE {where} AND topic_id IN ({marks}) GROUP BY topic_id, text))
        WHERE r <= {QUOTES_PER_TOPIC} ORDER BY topic_id, r""", [*params, *ids])
    by_topic = {tid: [_quote(t) for t in quotes.loc[quotes["topic_id"] == tid, "text"]]
                for tid in ids}
    top["quotes"] = [by_topic[t] for t in ids]
    top["weekly"] = [series[t] for t in ids]
    return Section(True, tables={"topics": top},
                   extra={"complaints": int(total), "prev_complaints": int(prev_total)})


def _library(module: str, names: tuple[str, ...]) -> Any:
    """A colleague's library function when its module exists, else None."""
    if importlib.util.find_spec(module) is None:
        return None
    mod = importlib.import_module(module)
    for name in names:
        func = getattr(mod, name, None)
        if callable(func):
            return func
    return None


class SectionFailed(Exception):
    """A colleague's library function failed; its section says so instead of the report dying."""


def _call(func: Any, ws: Workspace, **options: Any) -> Any:
    """Call with the options its signature accepts (the colleagues' APIs are still growing)."""
    params = inspect.signature(func).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    try:
        return func(ws, **{k: v for k, v in options.items()
                           if v is not None and (takes_any or k in params)})
    except Exception as exc:  # one broken section must not cost the lead the whole report
        raise SectionFailed(f"{func.__module__}.{func.__name__}: {exc}"[:200]) from exc


def _frame(result: Any) -> pd.DataFrame:
    if isinstance(result, pd.DataFrame):
        return result
    return pd.DataFrame(list(result or []))


def _rising(q: _Query) -> Section:
    func = _library("textmine.trends", ("rising",))
    if func is None:
        return Section(False, "没有上升主题和新词数据：趋势模块（textmine.trends）尚未安装。")
    # Only the end of the window: the trailing baseline the rise is judged against lies before
    # the report's period, so `since` must not cut it off.
    try:
        frame = _frame(_call(func, q.ws, by="week", until=q.window.until.isoformat(),
                             product=q.window.product))
    except SectionFailed as exc:
        return Section(False, f"上升主题和新词计算失败（{exc}）。")
    if frame.empty:
        return Section(False, "本期没有明显上升的方面、主题或新词。")
    frame = frame.head(TOP_RISING).reset_index(drop=True)
    if "examples" in frame:
        frame["example"] = [_quote(ex[0]["text"]) if _has_items(ex) else None
                            for ex in frame["examples"]]
        frame = frame.drop(columns=["examples"])
    shown = [c for c in ("kind", "name", "period", "count", "share", "baseline_share",
                         "first_seen", "example") if c in frame]
    return Section(True, tables={"rising": frame[shown], "rising_full": frame})


def _has_items(value: Any) -> bool:
    return value is not None and not isinstance(value, float) and len(value) > 0


def _chats(q: _Query) -> Section:
    cols = columns(q.ws, "sessions")
    if not {"session_id", "started_at"} <= cols:
        n_turns = (q.one("SELECT count(*) FROM documents WHERE kind = 'chat'")[0]
                   if "kind" in q.doc_cols else 0)
        why = ("有客服聊天记录，但还没有会话汇总表（sessions）。" if n_turns
               else "工作区中没有客服会话数据。")
        return Section(False, why)
    w = q.window
    where, params = q.sessions_where(w.history_since, w.until)
    agg = [f"count(*) FILTER (WHERE {c}) AS {c}" if c in cols else f"NULL AS {c}"
           for c in ("escalated", "ended_badly")]
    agg.append("median(first_response_s) AS median_first_response_s"
               if "first_response_s" in cols else "NULL AS median_first_response_s")
    weekly = q.df(f"""
        WITH bins AS (SELECT range AS bin FROM range({WEEKS})),
        agg AS (
            SELECT date_diff('day', started_at::DATE, ?::DATE) // 7 AS bin,
                   count(*) AS sessions, {", ".join(agg)}
            FROM sessions WHERE {where} GROUP BY 1)
        SELECT (?::DATE - INTERVAL (bins.bin * 7 + 6) DAY)::DATE AS week_start,
               coalesce(agg.sessions, 0) AS sessions, agg.escalated, agg.ended_badly,
               agg.median_first_response_s
        FROM bins LEFT JOIN agg USING (bin) ORDER BY week_start""",
                  [w.until, *params, w.until])
    weekly["week_start"] = pd.to_datetime(weekly["week_start"]).dt.date
    cur = _session_counts(q, w.since, w.until, cols)
    prev = _session_counts(q, w.prev_since, w.prev_until, cols)
    if "first_response_s" in cols:
        cwhere, cparams = q.sessions_where(w.since, w.until)
        row = q.one(f"SELECT avg(first_response_s), quantile_cont(first_response_s, 0.9) "
                    f"FROM sessions WHERE {cwhere}", cparams)
        cur["mean_first_response_s"], cur["p90_first_response_s"] = row
    risky = pd.DataFrame()
    if "risk" in cols:
        cwhere, cparams = q.sessions_where(w.since, w.until)
        shown = [c for c in ("session_id", "customer_id", "started_at", "risk", "risk_reasons",
                             "escalated", "ended_badly", "first_response_s") if c in cols]
        risky = q.df(f"SELECT {', '.join(shown)} FROM sessions WHERE {cwhere} AND risk IS NOT NULL "
                     f"ORDER BY risk DESC, session_id LIMIT {TOP_RISKY}", cparams)
    missing = "" if cur["sessions"] else "本期没有客服会话。"
    return Section(bool(cur["sessions"]) or int(weekly["sessions"].sum()) > 0, missing,
                   tables={"weekly": weekly, "risky": risky},
                   extra={"current": cur, "previous": prev})


def _follow_up(q: _Query) -> Section:
    func = _library("textmine.customers", ("follow_up_list",))
    if func is None:
        return Section(False, "没有跟进名单：客户模块（textmine.customers）尚未安装。")
    # Its own look-back (30 days by default) up to the report's last day: a customer who has
    # complained for weeks belongs on the list even in a quiet week.
    try:
        frame = _frame(_call(func, q.ws, until=q.window.until.isoformat(), top=TOP_FOLLOW_UP))
    except SectionFailed as exc:
        return Section(False, f"跟进名单计算失败（{exc}）。")
    if frame.empty:
        return Section(False, "跟进名单为空：近期没有需要回访的客户。")
    frame = frame.head(TOP_FOLLOW_UP).reset_index(drop=True)
    if "evidence" in frame:
        frame["evidence"] = frame["evidence"].map(lambda t: _quote(t) if isinstance(t, str) else t)
    shown = [c for c in ("rank", "customer_id", "score", "reason", "evidence", "tier",
                         "last_negative_at") if c in frame]
    return Section(True, tables={"follow_up": frame[shown] if shown else frame,
                                 "follow_up_full": frame})


def _footer(ws: Workspace) -> dict[str, Any]:
    info: dict[str, Any] = {"runs": 0, "in": None, "stored": None, "duplicates": None,
                            "rejected": None, "sentiment_models": [], "lexicon_digests": [],
                            "topic_model": None, "documents": ws.count("documents")}
    run_cols = columns(ws, "runs")
    if {"n_in", "n_stored", "n_rejected"} <= run_cols:
        row = ws.con.execute("""
            SELECT count(*), sum(n_in), sum(n_stored), sum(n_duplicates), sum(n_rejected)
            FROM runs WHERE n_in IS NOT NULL""").fetchone()
        info.update(runs=int(row[0]), **{k: None if v is None else int(v) for k, v in zip(
            ("in", "stored", "duplicates", "rejected"), row[1:], strict=True)})
        for key, col in (("sentiment_models", "sentiment_model"),
                         ("lexicon_digests", "lexicon_digest")):
            if col in run_cols:
                info[key] = [r[0] for r in ws.con.execute(
                    f"SELECT DISTINCT {col} FROM runs WHERE {col} IS NOT NULL ORDER BY 1")
                    .fetchall()]
    elif ws.has_table("spark_run"):
        run = ws.query("SELECT * FROM spark_run").iloc[0].to_dict()
        info.update(runs=1, **{k: run.get(k) for k in ("in", "stored", "duplicates", "rejected")})
    info["topic_model"] = _topic_model_version(ws)
    return info


def _current_topic_model(ws: Workspace) -> dict[str, Any] | None:
    """The topic model in force (`topic_models`, flagged is_current, else the newest)."""
    cols = columns(ws, "topic_models")
    if "version" not in cols:
        return None
    shown = ["version", *(c for c in ("engine", "k") if c in cols)]
    order = ", ".join([*(["is_current DESC NULLS LAST"] if "is_current" in cols else []),
                       "created_at DESC" if "created_at" in cols else "version DESC"])
    row = ws.con.execute(f"SELECT {', '.join(shown)} FROM topic_models ORDER BY {order} LIMIT 1"
                         ).fetchone()
    return None if row is None else dict(zip(shown, row, strict=True))


def _topic_model_version(ws: Workspace) -> str | None:
    model = _current_topic_model(ws)
    if model is None:
        return None
    details = [str(model[c]) if c == "engine" else f"k={model[c]}"
               for c in ("engine", "k") if model.get(c) is not None]
    return f"v{model['version']}" + (f"（{', '.join(details)}）" if details else "")


def _rejects(ws: Workspace) -> pd.DataFrame:
    cols = columns(ws, "rejects")
    if not {"reason", "source"} <= cols:
        return pd.DataFrame(columns=["source", "reason", "rejected"])
    frame = ws.query("SELECT source, reason, count(*) AS rejected FROM rejects "
                     "GROUP BY ALL ORDER BY rejected DESC, source, reason")
    frame["rejected"] = frame["rejected"].astype(int)
    return frame


def reject_rows(ws: Workspace, limit: int = REJECT_ROWS) -> pd.DataFrame:
    """The first rejected rows (masked excerpts), for whoever fixes the source files."""
    cols = [c for c in ("source", "row", "doc_id", "reason", "detail", "excerpt")
            if c in columns(ws, "rejects")]
    if "reason" not in cols:
        return pd.DataFrame(columns=cols)
    order = ", ".join(c for c in ("source", "row") if c in cols) or "reason"
    frame = ws.query(f"SELECT {', '.join(cols)} FROM rejects ORDER BY {order} LIMIT ?", [limit])
    if "excerpt" in frame:
        frame["excerpt"] = frame["excerpt"].map(lambda t: None if t is None else mask_text(t))
    return frame


def collect(ws: Workspace, window: Window, *, title: str = "投诉周报",
            command: str = "textmine report", generated_at: datetime | None = None
            ) -> ReportData:
    """Everything the HTML page and the Excel twin show, for one window of one workspace."""
    q = _Query(ws, window)
    session_cols = columns(ws, "sessions")
    has_sessions = {"session_id", "started_at"} <= session_cols
    if not {"created_at", "kind", "role", "is_complaint"} <= q.doc_cols:
        raise TextmineError("E013", "documents", where=str(ws.path),
                            fix="Run `textmine analyze FILE` into this workspace first.")
    return ReportData(
        title=title, window=window, generated_at=generated_at or datetime.now(),
        command=command,
        headline=_headline(q, has_sessions, session_cols),
        volume=_volume(q), aspects=_aspects(q), topics=_topics(q), rising=_rising(q),
        chats=_chats(q), follow_up=_follow_up(q), footer=_footer(ws), rejects=_rejects(ws),
        reject_rows=reject_rows(ws))
