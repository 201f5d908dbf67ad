"""Render the report data as one self-contained HTML page (plotly inlined once, no external files)."""

from __future__ import annotations

import html
import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from textmine import __version__
from textmine.report.data import Metric, ReportData

FONTS = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif'
NEG, NEU, POS, INK, ACCENT = "#c0392b", "#b8bec6", "#2e8b57", "#2b2f36", "#2f6db5"
MUTED = "#9aa5b1"
TEMPLATE = "report.html.j2"

KIND_NAMES = {"aspect": "方面", "topic": "主题", "word": "新词"}
RISK_NAMES = {"negative_end": "结束时负面", "negative_overall": "整体负面", "worsening": "情绪变差",
              "unresolved": "问题未解决", "repeated_question": "重复提问",
              "unanswered": "最后一句未回复", "escalated": "要求升级或投诉"}
REJECT_NAMES = {"empty_text": "空文本", "text_too_long": "文本过长", "bad_time": "时间无法解析",
                "unreadable_row": "行无法解析", "duplicate_id_conflict": "ID 重复但内容不同",
                "bad_rating": "评分不是数字", "bad_role": "角色无法识别", "empty_id": "ID 为空"}
# Display names for the columns colleagues' tables may carry (unknown columns keep their name).
HEADERS = {
    "kind": "类型", "name": "名称", "period": "周期", "count": "次数", "share": "占比",
    "baseline_share": "基线占比", "score": "得分", "customer_id": "客户ID", "reasons": "原因",
    "reason": "原因", "rank": "排名", "evidence": "证据原文（已脱敏）", "tier": "会员等级",
    "last_negative_at": "最近负面时间", "n_complaints": "投诉数", "complaints": "投诉数", "n_reviews": "评论数",
    "n_sessions": "会话数", "last_contact": "最近联系", "last_seen": "最近联系",
    "member_level": "会员等级", "region": "地区", "total_spend": "累计消费", "risk": "风险",
    "priority": "优先级", "mean_sentiment": "平均情感", "escalations": "升级次数",
    "session_id": "会话ID", "started_at": "开始时间", "escalated": "已升级",
    "ended_badly": "不良结束", "first_response_s": "首次响应(秒)", "sentiment_end": "结束时情感",
    "repeat_contacts": "重复联系", "risk_reasons": "风险原因", "first_seen": "首次出现",
    "example": "例句", "baseline_count": "基线次数", "n": "文档数", "baseline_n": "基线文档数",
    "lift": "倍数", "excess": "每期多出", "p_value": "p 值", "q_value": "q 值",
}


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = format_count
    return env


def format_count(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{int(round(float(value))):,}"


def format_seconds(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    minutes, seconds = divmod(int(round(value)), 60)
    return f"{minutes}分{seconds:02d}秒" if minutes else f"{seconds}秒"


def format_value(value: float | None, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if kind == "share":
        return f"{value:.1%}"
    if kind == "score":
        return f"{value:.2f}"
    if kind == "seconds":
        return format_seconds(value)
    return format_count(value)


def change(metric: Metric) -> dict[str, str]:
    """Arrow, wording and colour class of a metric's change against the previous period."""
    cur, prev = metric.current, metric.previous
    if cur is None or prev is None or (isinstance(prev, float) and math.isnan(prev)):
        return {"arrow": "", "text": "上期无数据", "tone": "flat"}
    delta = float(cur) - float(prev)
    if abs(delta) < 1e-9:
        return {"arrow": "＝", "text": f"与上期持平（{format_value(prev, metric.kind)}）",
                "tone": "flat"}
    arrow = "▲" if delta > 0 else "▼"
    worse = (delta > 0) == (metric.good == "down")
    tone = "flat" if metric.good == "either" else ("bad" if worse else "good")
    if metric.kind == "share":
        text = f"{abs(delta) * 100:.1f} 个百分点"
    elif metric.kind == "score":
        text = f"{abs(delta):.2f}"
    elif metric.kind == "seconds":
        text = format_seconds(abs(delta))
    else:
        text = f"{abs(delta):,.0f}" + (f"（{delta / prev:+.0%}）" if prev else "")
    return {"arrow": arrow, "text": f"{text}，上期 {format_value(prev, metric.kind)}",
            "tone": tone}


def _label(value: Any) -> str:
    # Plotly reads a few HTML-like tags in chart text; escaping shows untrusted text literally.
    return html.escape(str(value), quote=False)


def _week(d: date) -> str:
    return f"{d.month:02d}-{d.day:02d}"


def _layout(**extra: Any) -> dict[str, Any]:
    base = {"font": {"family": FONTS, "size": 12, "color": INK},
            "margin": {"l": 48, "r": 48, "t": 24, "b": 40},
            "paper_bgcolor": "white", "plot_bgcolor": "white", "bargap": 0.25,
            "legend": {"orientation": "h", "y": -0.18, "x": 0}}
    base.update(extra)
    return base


def volume_figure(weekly: pd.DataFrame) -> go.Figure:
    weeks = [_week(d) for d in weekly["week_start"]]
    colors = [MUTED] * (len(weeks) - 1) + [NEG]
    fig = go.Figure()
    fig.add_bar(x=weeks, y=weekly["complaints"], name="投诉数（条）", marker_color=colors,
                text=weekly["complaints"], textposition="outside", cliponaxis=False,
                hovertemplate="%{x} 起一周<br>投诉 %{y} 条<extra></extra>")
    fig.add_scatter(x=weeks, y=weekly["mean_sentiment"], name="平均情感（右轴，0–1）",
                    yaxis="y2", mode="lines+markers", line={"color": ACCENT, "width": 2},
                    connectgaps=False, hovertemplate="%{x}<br>平均情感 %{y:.2f}<extra></extra>")
    fig.update_layout(_layout(
        height=320, xaxis={"title": "周（起始日）", "type": "category"},
        yaxis={"title": "投诉数", "rangemode": "tozero", "gridcolor": "#eef0f3"},
        yaxis2={"overlaying": "y", "side": "right", "range": [0, 1], "showgrid": False,
                "tickvals": [0, 0.25, 0.5, 0.75, 1], "title": "平均情感"}))
    return fig


def aspects_figure(aspects: pd.DataFrame) -> go.Figure:
    names = [_label(a) for a in aspects["aspect"]][::-1]
    fig = go.Figure()
    for col, label, color in (("negative", "负面", NEG), ("neutral", "中性", NEU),
                              ("positive", "正面", POS)):
        fig.add_bar(y=names, x=aspects[col][::-1], name=label, orientation="h",
                    marker_color=color,
                    hovertemplate="%{y}：" + label + " %{x} 次<extra></extra>")
    fig.update_layout(_layout(barmode="stack", height=max(220, 34 * len(names) + 80),
                              margin={"l": 90, "r": 24, "t": 16, "b": 40},
                              xaxis={"title": "提及次数", "gridcolor": "#eef0f3"}))
    return fig


def sparkline_figure(counts: list[int], weeks: list[str]) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=weeks, y=counts, mode="lines", line={"color": ACCENT, "width": 1.6},
                    fill="tozeroy", fillcolor="rgba(47,109,181,0.12)")
    fig.add_scatter(x=weeks[-1:], y=counts[-1:], mode="markers",
                    marker={"color": NEG, "size": 5})
    fig.update_layout(_layout(height=44, width=150, showlegend=False,
                              margin={"l": 2, "r": 2, "t": 4, "b": 4},
                              xaxis={"visible": False, "type": "category"},
                              yaxis={"visible": False, "rangemode": "tozero"}))
    return fig


def chats_figure(weekly: pd.DataFrame) -> go.Figure:
    weeks = [_week(d) for d in weekly["week_start"]]
    fig = go.Figure()
    fig.add_bar(x=weeks, y=weekly["sessions"], name="会话数", marker_color="#d5dde8",
                hovertemplate="%{x}<br>会话 %{y} 个<extra></extra>")
    for col, label, color in (("escalated", "升级", "#e67e22"), ("ended_badly", "不良结束", NEG)):
        if weekly[col].notna().any():
            fig.add_scatter(x=weeks, y=weekly[col].fillna(0), name=label, mode="lines+markers",
                            line={"color": color, "width": 2},
                            hovertemplate="%{x}<br>" + label + " %{y} 个<extra></extra>")
    fig.update_layout(_layout(height=280, xaxis={"title": "周（起始日）", "type": "category"},
                              yaxis={"title": "会话数", "rangemode": "tozero",
                                     "gridcolor": "#eef0f3"}))
    return fig


def _cell(value: Any, column: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if column == "kind":
        return KIND_NAMES.get(str(value), str(value))
    if isinstance(value, (bool, np.bool_)):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if column in ("share", "baseline_share") and isinstance(value, (int, float)):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "；".join(RISK_NAMES.get(str(v), str(v)) for v in value)
    return str(value)


def table(frame: pd.DataFrame, max_columns: int = 8) -> dict[str, list]:
    """Headers in Chinese and cells as text, for a generic table in the template."""
    cols = list(frame.columns)[:max_columns]
    return {"headers": [HEADERS.get(c, c) for c in cols],
            "rows": [[_cell(row[c], c) for c in cols] for _, row in frame.iterrows()]}


def _script_json(value: Any) -> Markup:
    # JSON inside <script>: escape <, > and & so no text can close the tag early.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return Markup(text)


def _figure_json(fig: go.Figure, static: bool = False) -> dict[str, Any]:
    spec = json.loads(fig.to_json())
    spec["config"] = {"displayModeBar": False, "responsive": not static, "staticPlot": static}
    return spec


def context(data: ReportData) -> dict[str, Any]:
    """Everything the template needs: formatted numbers, tables and figure specs."""
    figures: dict[str, Any] = {}
    if data.volume.available:
        figures["chart-volume"] = _figure_json(volume_figure(data.volume.tables["weekly"]))
    if data.aspects.available:
        figures["chart-aspects"] = _figure_json(aspects_figure(data.aspects.tables["aspects"]))
    topics = []
    if data.topics.available:
        weeks = [_week(d) for d in data.volume.tables["weekly"]["week_start"]] \
            if "weekly" in data.volume.tables else [str(i) for i in range(13)]
        for i, row in data.topics.tables["topics"].iterrows():
            spark_id = f"spark-{i}"
            figures[spark_id] = _figure_json(sparkline_figure(row["weekly"], weeks), static=True)
            prev = Metric("t", "", row["share"], row["prev_share"], "share", "down")
            topics.append({"label": row["label"], "complaints": int(row["complaints"]),
                           "prev": int(row["prev_complaints"]), "share": f"{row['share']:.1%}",
                           "change": change(prev), "quotes": row["quotes"], "spark": spark_id})
    chats: dict[str, Any] = {}
    if data.chats.available:
        figures["chart-chats"] = _figure_json(chats_figure(data.chats.tables["weekly"]))
        cur, prev = data.chats.extra["current"], data.chats.extra["previous"]
        cards = [Metric("sessions", "会话数", cur["sessions"], prev["sessions"], "count", "down"),
                 Metric("escalated", "升级", cur["escalated"], prev["escalated"], "count", "down"),
                 Metric("ended_badly", "不良结束", cur["ended_badly"], prev["ended_badly"],
                        "count", "down"),
                 Metric("frt", "首次响应（中位数）", cur["first_response_s"],
                        prev["first_response_s"], "seconds", "down",
                        f"平均 {format_seconds(cur.get('mean_first_response_s'))} · P90 "
                        f"{format_seconds(cur.get('p90_first_response_s'))}")]
        chats = {"cards": [_card(m) for m in cards],
                 "risky": table(data.chats.tables["risky"])
                 if not data.chats.tables["risky"].empty else None}
    aspects = None
    if data.aspects.available:
        frame = data.aspects.tables["aspects"]
        aspects = [{"aspect": r["aspect"], "negative": int(r["negative"]),
                    "mentions": int(r["mentions"]), "share": f"{r['negative_share']:.0%}",
                    "change": change(Metric("a", "", r["negative"], r["prev_negative"], "count",
                                            "down"))}
                   for _, r in frame.head(6).iterrows()]
    w = data.window
    footer = data.footer
    return {
        "title": data.title, "version": __version__,
        "window": f"{w.since:%Y-%m-%d} 至 {w.until:%Y-%m-%d}（{w.days} 天）",
        "previous": f"{w.prev_since:%Y-%m-%d} 至 {w.prev_until:%Y-%m-%d}",
        "product": w.product, "generated_at": f"{data.generated_at:%Y-%m-%d %H:%M}",
        "command": data.command, "missing": data.missing,
        "cards": [_card(m) for m in data.headline],
        "volume": data.volume, "aspects": data.aspects, "aspect_rows": aspects,
        "topics": data.topics, "topic_rows": topics,
        "topic_totals": data.topics.extra,
        "rising": data.rising,
        "rising_table": table(data.rising.tables["rising"]) if data.rising.available else None,
        "chats": data.chats, "chat": chats,
        "follow_up": data.follow_up,
        "follow_up_table": table(data.follow_up.tables["follow_up"])
        if data.follow_up.available else None,
        "footer": footer,
        "rejects": sorted(((REJECT_NAMES.get(r, r), int(n)) for r, n in
                           data.rejects.groupby("reason")["rejected"].sum().items()),
                          key=lambda kv: (-kv[1], kv[0])),
        "figures": _script_json(figures),
        "plotly_js": Markup(get_plotlyjs()),
        "fonts": FONTS,
    }


def _card(metric: Metric) -> dict[str, Any]:
    return {"label": metric.label, "value": format_value(metric.current, metric.kind)
            if metric.available else "—", "detail": metric.detail,
            "change": change(metric) if metric.available else
            {"arrow": "", "text": "", "tone": "flat"}, "available": metric.available}


def render_html(data: ReportData) -> str:
    """The complete HTML page."""
    return _env().get_template(TEMPLATE).render(**context(data))
