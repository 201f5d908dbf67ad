"""Find the canonical columns (text, IDs, time, rating …) in an input file's header."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textmine.errors import TextmineError

# Canonical field -> names seen in real exports, most specific first. Matching ignores case,
# spaces, underscores and hyphens, so "Customer ID", "customer_id" and "CustomerId" all match.
ALIASES: dict[str, tuple[str, ...]] = {
    "text": ("评论内容", "评价内容", "评论", "评价", "内容", "正文", "文本", "留言", "消息内容",
             "消息", "对话内容", "对话记录", "聊天记录", "review", "content", "text", "comment",
             "message", "body", "utterance", "utterances"),
    "doc_id": ("评论ID", "评价ID", "评论编号", "消息ID", "记录ID", "编号", "序号ID", "review_id",
               "comment_id", "message_id", "doc_id", "id"),
    "customer_id": ("用户ID", "客户ID", "买家ID", "会员ID", "顾客ID", "客户编号", "会员号", "用户编号",
                    "customer_id", "user_id", "buyer_id", "member_id", "uid", "customer", "user"),
    "created_at": ("评论时间", "评价时间", "发送时间", "消息时间", "创建时间", "时间", "日期",
                   "开始时间", "created_at", "create_time", "comment_time", "timestamp",
                   "datetime", "time", "date"),
    "rating": ("评分", "星级", "打分", "分数", "评星", "rating", "stars", "star", "score"),
    "product": ("商品名称", "商品名", "商品", "产品名称", "产品", "宝贝", "品类", "类目", "sku",
                "product", "product_name", "item", "category", "cat"),
    "channel": ("渠道", "平台", "来源", "店铺", "channel", "platform", "source", "shop"),
    "order_id": ("订单号", "订单ID", "订单编号", "order_id", "order_no", "order"),
    "session_id": ("会话ID", "会话编号", "会话", "session_id", "conversation_id", "dialogue_id",
                   "dialog_id", "session"),
    "role": ("角色", "发言人", "发送方", "发送者", "身份", "role", "speaker", "sender", "from"),
    "turn": ("轮次", "消息序号", "turn", "turn_id", "seq"),
}
FIELDS = tuple(ALIASES)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower().lstrip("\ufeff")


@dataclass(frozen=True)
class ColumnMap:
    """Canonical field -> the input column that holds it (None when the input lacks it)."""

    mapping: dict[str, str | None]

    def __getitem__(self, field: str) -> str | None:
        return self.mapping.get(field)

    def found(self) -> dict[str, str]:
        return {k: v for k, v in self.mapping.items() if v is not None}


def resolve_columns(columns: list[str], overrides: dict[str, str | None] | None = None, *,
                    source: str = "", required: tuple[str, ...] = ("text",)) -> ColumnMap:
    """Map canonical fields to input columns by name; flags (`overrides`) always win."""
    overrides = {k: v for k, v in (overrides or {}).items() if v}
    by_key = {_key(c): c for c in columns}
    mapping: dict[str, str | None] = {}
    taken: set[str] = set()
    for field, name in overrides.items():
        if name not in columns:
            match = by_key.get(_key(name))
            if match is None:
                raise TextmineError(
                    "E007", f"--{field.replace('_', '-').replace('created-at', 'time')}"
                    f"{'' if field.endswith('id') else '-col'} {name}",
                    where=source, fix=f"Columns found: {', '.join(map(str, columns))}.")
            name = match
        mapping[field] = name
        taken.add(name)
    for field, aliases in ALIASES.items():
        if field in mapping:
            continue
        mapping[field] = None
        for alias in aliases:
            col = by_key.get(_key(alias))
            if col is not None and col not in taken:
                mapping[field] = col
                taken.add(col)
                break
    for field in required:
        if mapping.get(field) is None:
            flag = "--text-col" if field == "text" else f"--{field.replace('_', '-')}-col"
            raise TextmineError("E006" if field == "text" else "E007",
                                f"columns: {', '.join(map(str, columns))}" if field == "text"
                                else f"no {field} column", where=source,
                                fix=f"Use {flag} to name it.")
    return ColumnMap(mapping)
