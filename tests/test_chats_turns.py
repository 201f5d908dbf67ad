"""Chat turns read as chat turns: acts (closing, resigned, question), neutral sentiment, endings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tests.conftest import CORPORA
from textmine.analyze import analyze
from textmine.chats import chat_patterns
from textmine.chats.signals import (
    ACK_SENTIMENT,
    CLOSING_FLOOR,
    RESIGNED_CEILING,
    chat_sentiment,
    turn_acts,
)
from textmine.config import Config
from textmine.lexicons import load_lexicons

PATTERNS = chat_patterns(load_lexicons())


def act(text: str, opinion: bool = False) -> str:
    return str(turn_acts(pd.Series([text]), np.array([opinion]), PATTERNS)[0])


@pytest.mark.parametrize("text, expected", [
    ("好的，谢谢", "closing"),
    ("好的", "ack"),  # noted, not yet satisfied
    ("好的，我再试试", "ack"),
    ("重新配对了，现在可以了，谢谢", "closing"),
    ("还是老样子啊\n装了两遍\n谢了 已经成功安装", "closing"),  # the message ends resolved
    ("thank you!", "closing"),
    ("好的，但是还是不行", "other"),  # a contrast and an unresolved phrase after the 好的
    ("IMEI已私信，请尽快处理，谢谢", "other"),  # thanks in a request is politeness
    ("问题没解决了", "other"),  # a negated resolution
    ("谢谢，请问还有别的办法吗？", "question"),
    ("在吗", "question"),
    ("好吧", "resigned"),
    ("呵呵", "resigned"),
    ("呵呵 谢谢 换了耳机现在好了", "closing"),  # thanks after the 呵呵
    ("恩恩，应该要检修的\n差价还是没退", "opinion"),  # a later line reopens the complaint
])
def test_turn_acts(text: str, expected: str) -> None:
    assert act(text, opinion=expected == "opinion") == expected


def test_messages_without_opinion_move_toward_neutral_closings_and_give_ups_are_bounded() -> None:
    acts = np.array(["question", "other", "opinion", "closing", "resigned", "ack"])
    review_model = np.array([0.05, 0.1, 0.05, 0.2, 0.97, 1.0])
    s = chat_sentiment(review_model, acts)
    assert 0.25 < s[0] < 0.5 and 0.25 < s[1] < 0.5  # 在吗 / 是的 are no complaint
    assert s[2] == 0.05  # an opinion keeps the model's reading
    assert s[3] == CLOSING_FLOOR and s[4] == RESIGNED_CEILING
    assert s[5] == ACK_SENTIMENT < CLOSING_FLOOR  # 好的 is noted, not a thank-you


def _sessions(tmp_path: Path, rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    path = tmp_path / "chats.csv"
    pd.DataFrame(rows, columns=["会话ID", "轮次", "角色", "内容"]).to_csv(path, index=False)
    workspace = tmp_path / "ws.duckdb"
    analyze([path], kind="chats", config=Config(workspace=str(workspace), workers=1))
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute("SELECT * FROM sessions").df().set_index("session_id")


def test_how_a_session_ends_decides_its_risk(tmp_path: Path) -> None:
    opening = [(1, "客户", "快递一个星期了还没到，太慢了"), (2, "客服", "非常抱歉，已帮您催促，今天派送")]
    endings = {"thanks": "收到了，谢谢", "gave_up": "好吧", "still_open": "还是没收到",
               "yes": "是的", "ok": "好的"}
    rows = [(sid, *turn) for sid in endings for turn in opening]
    rows += [(sid, 3, "客户", text) for sid, text in endings.items()]
    s = _sessions(tmp_path, rows)
    assert s.loc["thanks", "closed"] and not s.loc["gave_up", "closed"]
    assert not s.loc["thanks", "ended_badly"] and s.loc["gave_up", "ended_badly"]
    assert s.loc["thanks", "risk"] < s.loc["yes", "risk"] < s.loc["still_open", "risk"]
    assert s.loc["thanks", "risk"] < s.loc["ok", "risk"] < s.loc["yes", "risk"]
    assert not s.loc["ok", "closed"] and not s.loc["ok", "unanswered"]
    # 是的 says nothing about the mood: the end is the last mood expressed (the complaint)
    assert s.loc["yes", "sentiment_end"] == pytest.approx(s.loc["yes", "sentiment_start"])


def test_risk_ranks_our_own_labeled_sessions(tmp_path: Path) -> None:
    """corpora/chat_outcomes.csv: 32 sessions written by the team with a known good/bad ending
    (a sanity check of the ranking; not the hidden bar on real rated dialogues)."""
    workspace = tmp_path / "ws.duckdb"
    analyze([CORPORA / "chat_outcomes.csv"], kind="chats",
            config=Config(workspace=str(workspace), workers=1))
    with duckdb.connect(str(workspace), read_only=True) as con:
        s = con.execute("SELECT session_id, risk FROM sessions ORDER BY session_id").df()
    labels = pd.read_csv(CORPORA / "chat_outcomes.csv").groupby("会话ID")["结果"].first()
    bad = s["session_id"].map(labels).eq("bad")
    assert bad.sum() == 16 and roc_auc_score(bad, s["risk"]) >= 0.9
