"""The report's Excel twin: the same tables as sheets, Chinese headers, IDs as text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from textmine.export import write_excel
from textmine.report.data import ReportData
from textmine.report.render import HEADERS, KIND_NAMES, change

SHEET_HEADERS = {
    **HEADERS,
    "metric": "指标", "current": "本期", "previous": "上期", "change": "较上期", "detail": "说明",
    "item": "项目", "value": "内容",
    "week_start": "周起始日", "docs": "客户反馈数", "complaint_share": "投诉占比",
    "aspect": "方面", "negative": "负面", "neutral": "中性", "positive": "正面",
    "mentions": "提及次数", "prev_negative": "上期负面", "negative_share": "负面占比",
    "topic_id": "主题ID", "label": "主题", "prev_complaints": "上期投诉数", "prev_share": "上期占比",
    "quote_1": "例句1", "quote_2": "例句2", "quote_3": "例句3",
    "sessions": "会话数", "median_first_response_s": "首次响应中位数(秒)",
    "source": "来源文件", "rejected": "拒收行数", "row": "行号", "doc_id": "文档ID",
    "excerpt": "内容摘录",
}


def _summary(data: ReportData) -> pd.DataFrame:
    rows = []
    for m in data.headline:
        delta = change(m) if m.available else {"arrow": "", "text": ""}
        rows.append({"metric": m.label, "current": m.current, "previous": m.previous,
                     "change": f"{delta['arrow']} {delta['text']}".strip(), "detail": m.detail})
    frame = pd.DataFrame(rows)
    frame["current"] = pd.to_numeric(frame["current"], errors="coerce")
    frame["previous"] = pd.to_numeric(frame["previous"], errors="coerce")
    return frame


def _about(data: ReportData) -> pd.DataFrame:
    w, f = data.window, data.footer
    items = [
        ("报告", data.title),
        ("统计周期", f"{w.since:%Y-%m-%d} 至 {w.until:%Y-%m-%d}"),
        ("对比上期", f"{w.prev_since:%Y-%m-%d} 至 {w.prev_until:%Y-%m-%d}"),
        ("商品筛选", w.product or "全部"),
        ("生成时间", f"{data.generated_at:%Y-%m-%d %H:%M}"),
        ("导入记录", f"{f['runs']} 次导入：读入 {f['in']} · 入库 {f['stored']} · "
                 f"重复 {f['duplicates']} · 拒收 {f['rejected']}"),
        ("情感模型", "、".join(f["sentiment_models"]) or "—"),
        ("词典摘要", "、".join(f["lexicon_digests"]) or "—"),
        ("主题模型", f["topic_model"] or "未拟合"),
        ("生成命令", data.command),
    ]
    items += [("缺少的数据", m) for m in data.missing]
    return pd.DataFrame(items, columns=["item", "value"])


def _topics(data: ReportData) -> pd.DataFrame:
    if not data.topics.available:
        return pd.DataFrame({"detail": [data.topics.missing]})
    frame = data.topics.tables["topics"].copy()
    frame["topic_id"] = frame["topic_id"].astype(str)
    for i in range(3):
        frame[f"quote_{i + 1}"] = [q[i] if len(q) > i else None for q in frame["quotes"]]
    return frame[["topic_id", "label", "complaints", "share", "prev_complaints", "prev_share",
                  "quote_1", "quote_2", "quote_3"]]


def _or_note(section_available: bool, frame: pd.DataFrame | None, note: str) -> pd.DataFrame:
    if section_available and frame is not None:
        return frame
    return pd.DataFrame({"detail": [note]})


def _rising(data: ReportData) -> pd.DataFrame:
    if not data.rising.available:
        return pd.DataFrame({"detail": [data.rising.missing]})
    frame = data.rising.tables["rising_full"].copy()
    if "kind" in frame:
        frame["kind"] = frame["kind"].map(lambda k: KIND_NAMES.get(k, k))
    return frame


def write_report_excel(data: ReportData, path: str | Path) -> Path:
    """Write the workbook; every section is a sheet, a missing one says why in one cell."""
    weekly = data.volume.tables.get("weekly")
    sheets = {
        "摘要": _summary(data),
        "报告信息": _about(data),
        "周趋势": _or_note(weekly is not None, weekly, data.volume.missing),
        "方面": _or_note(data.aspects.available, data.aspects.tables.get("aspects"),
                       data.aspects.missing),
        "主题": _topics(data),
        "上升主题与新词": _rising(data),
        "会话": _or_note(data.chats.available, data.chats.tables.get("weekly"),
                       data.chats.missing),
        "跟进名单": _or_note(data.follow_up.available, data.follow_up.tables.get("follow_up_full"),
                         data.follow_up.missing),
        "拒收": data.rejects,
        "拒收明细": data.reject_rows,
    }
    # Headers per sheet: the same English column name can mean different things on two sheets.
    renamed = {name: frame.rename(columns={**SHEET_HEADERS, **_own_headers(name)})
               for name, frame in sheets.items()}
    return write_excel(renamed, path)


def _own_headers(sheet: str) -> dict[str, str]:
    if sheet == "跟进名单":
        try:
            from textmine.customers import FOLLOW_UP_HEADERS
        except ImportError:
            return {}
        return FOLLOW_UP_HEADERS
    if sheet == "上升主题与新词":
        return {"score": "每期多出的投诉"}
    return {}
