"""Chats: every input layout becomes ordered turns; sessions are built from customer turns only."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import CORPORA, shared_path
from textmine.analyze import analyze
from textmine.chats import chat_patterns, escalation_categories, split_transcript
from textmine.cli import app
from textmine.config import Config
from textmine.lexicons import load_lexicons

PLANTED = json.loads((CORPORA / "planted.json").read_text(encoding="utf-8"))["chats"]
LEXICONS = load_lexicons()


def run(workspace: Path, *paths: Path, **columns: str):
    config = Config(workspace=str(workspace), workers=1)
    result = analyze(list(paths), kind="chats", config=config, columns=columns)
    assert result.n_in == result.stored + result.duplicates + result.rejected
    return result


def sql(workspace: Path, query: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(workspace), read_only=True) as con:
        return con.execute(query, params or []).fetchall()


def session(workspace: Path, session_id: str) -> dict:
    with duckdb.connect(str(workspace), read_only=True) as con:
        frame = con.execute("SELECT * FROM sessions WHERE session_id = ?", [session_id]).df()
    assert len(frame) == 1, session_id
    return frame.iloc[0].to_dict()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    return path


# -- input layouts -----------------------------------------------------------------------------

def test_long_format_roles_are_normalised_and_turns_keep_file_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "long.csv", [
        ["会话ID", "客户ID", "发送方", "内容", "时间"],
        ["A1", "0012", "机器人", "您好，请问有什么可以帮您", "2026-03-01 10:00:00"],
        ["A1", "0012", "买家", "我的快递到哪了", "2026-03-01 10:00:05"],
        ["B2", "0345", "顾客", "衣服尺码偏小", "2026-03-01 11:00:00"],
        ["A1", "0012", "小二", "亲，已经在派送了", "2026-03-01 10:01:05"],
        ["A1", "0012", "系统", "会话已结束", "2026-03-01 10:05:00"],
        ["B2", "0345", "Seller", "可以换大一码", "2026-03-01 11:02:30"],
    ])
    ws = tmp_path / "ws.duckdb"
    result = run(ws, path)
    assert (result.stored, result.rejected) == (6, 0)
    turns = sql(ws, "SELECT session_id, turn, role FROM documents ORDER BY session_id, turn")
    assert turns == [("A1", 1, "bot"), ("A1", 2, "customer"), ("A1", 3, "agent"),
                     ("A1", 4, "system"), ("B2", 1, "customer"), ("B2", 2, "agent")]
    a1 = session(ws, "A1")
    assert a1["customer_id"] == "0012"
    assert (a1["n_turns"], a1["n_customer_turns"], a1["n_agent_turns"], a1["n_bot_turns"]) == (4, 1, 1, 1)
    assert a1["first_response_s"] == 60.0  # customer 10:00:05 -> agent 10:01:05 (the bot is not counted)
    assert a1["started_at"] == pd.Timestamp("2026-03-01 10:00:00")
    assert a1["ended_at"] == pd.Timestamp("2026-03-01 10:05:00")
    assert session(ws, "B2")["first_response_s"] == 150.0


def test_a_turn_column_orders_turns_whatever_the_file_order(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "turns.csv", [
        ["session_id", "turn", "role", "text"],
        ["S", "3", "customer", "第三句还是不行"],
        ["S", "1", "customer", "第一句你好"],
        ["S", "2", "agent", "第二句您好"],
    ])
    ws = tmp_path / "ws.duckdb"
    run(ws, path)
    assert sql(ws, "SELECT turn, role FROM documents ORDER BY turn") == [
        (1, "customer"), (2, "agent"), (3, "customer")]
    s = session(ws, "S")
    assert s["last_role"] == "customer"
    assert s["unresolved_at_end"]


def test_unknown_speaker_is_rejected_not_guessed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad_role.csv", [
        ["会话ID", "角色", "内容"], ["S", "客户", "你好"], ["S", "路人甲", "插一句"]])
    ws = tmp_path / "ws.duckdb"
    result = run(ws, path)
    assert result.rejected_by_reason == {"bad_role": 1}
    assert sql(ws, "SELECT detail FROM rejects")[0][0].startswith("role '路人甲'")


def test_split_transcript_lines_speakers_and_continuations() -> None:
    role_of = LEXICONS.role_of
    cell = ("机器人：您好，请问有什么可以帮您？\n客户: 我的快递怎么还没到\n订单号：123456\n"
            "客服小林：亲，帮您查一下\n[10:05:42] 买家tb_01：好的谢谢")
    assert split_transcript(cell, role_of) == [
        ("机器人", "您好，请问有什么可以帮您？", None),
        ("客户", "我的快递怎么还没到\n订单号：123456", None),
        ("客服", "亲，帮您查一下", None),
        ("买家", "好的谢谢", "10:05:42"),
    ]


def test_transcript_rows_become_turns_with_the_session_time_on_the_first(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "transcript.csv", [
        ["会话ID", "客户ID", "开始时间", "对话记录"],
        ["T1", "007", "2026-08-19 10:05:00", "客户：我的快递怎么还没到\n客服：亲，今天发出\n客户：好的"],
        ["T2", "008", "2026-08-20 09:00:00", "客户：在吗\n[09:03:30] 客服：在的亲"],
        ["T3", "009", "2026-08-21 09:00:00", ""],
    ])
    ws = tmp_path / "ws.duckdb"
    result = run(ws, path)
    assert result.n_in == 6  # 5 turns + 1 empty session
    assert result.rejected_by_reason == {"empty_text": 1}
    turns = sql(ws, "SELECT session_id, turn, role, customer_id, created_at, text FROM documents "
                    "ORDER BY session_id, turn")
    assert [(t[0], t[1], t[2], t[3]) for t in turns] == [
        ("T1", 1, "customer", "007"), ("T1", 2, "agent", "007"), ("T1", 3, "customer", "007"),
        ("T2", 1, "customer", "008"), ("T2", 2, "agent", "008")]
    assert turns[0][4] == pd.Timestamp("2026-08-19 10:05:00")
    assert turns[1][4] is None  # unknown, not copied from the session start
    assert turns[4][4] == pd.Timestamp("2026-08-20 09:03:30")
    assert session(ws, "T2")["first_response_s"] == 210.0
    assert sql(ws, "SELECT row FROM rejects") == [(3,)]  # points at the session's row


def test_nested_json_dialogues_one_row_per_turn(tmp_path: Path) -> None:
    dialogues = [
        {"id": "9001", "customer_id": "042", "turns": [
            {"sender": "customer", "utterances": ["你好", "耳机没声音了"]},
            {"sender": "helpdesk", "utterances": ["", ""]},
            {"sender": "helpdesk", "utterances": ["亲，麻烦重置一下"]},
            {"sender": "customer", "utterances": ["好了，谢谢"]}]},
        {"id": "9002", "turns": []},
        {"id": "9003", "turns": "not a list"},
    ]
    path = tmp_path / "dialogues.json"
    path.write_text(json.dumps(dialogues, ensure_ascii=False), encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    result = run(ws, path)
    # in counts turns (4), an empty dialogue (1) and an unreadable one (1)
    assert (result.n_in, result.stored) == (6, 3)
    assert result.rejected_by_reason == {"empty_text": 2, "unreadable_row": 1}
    assert sql(ws, "SELECT doc_id, role, text FROM documents ORDER BY turn") == [
        ("9001:1", "customer", "你好 耳机没声音了"),  # utterances joined; line breaks become spaces
        ("9001:3", "agent", "亲,麻烦重置一下"),
        ("9001:4", "customer", "好了,谢谢")]
    s = session(ws, "9001")
    assert (s["customer_id"], s["n_turns"], s["n_customer_turns"]) == ("042", 3, 2)


def test_json_lines_dialogues(tmp_path: Path) -> None:
    path = tmp_path / "dialogues.jsonl"
    lines = [{"dialog_id": "D1", "messages": [{"role": "用户", "text": "怎么退货"},
                                              {"role": "客服", "text": "亲，在订单页申请"}]},
             {"dialog_id": "D2", "messages": [{"role": "小蜜", "text": "您好"}]}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    ws = tmp_path / "ws.duckdb"
    run(ws, path)
    assert sql(ws, "SELECT session_id, turn, role FROM documents ORDER BY 1, 2") == [
        ("D1", 1, "customer"), ("D1", 2, "agent"), ("D2", 1, "bot")]


def test_corpora_in_three_layouts_keep_every_turn(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    result = run(ws, CORPORA / "chats.csv", CORPORA / "chats_transcript.csv", CORPORA / "chats.json")
    assert [s["rows"] for s in result.sources][0::2] == [544, 38]
    assert result.rejected == 0
    assert result.extra["sessions"]["sessions"] == PLANTED["sessions"] + 10 + 10
    escalated = {r[0] for r in sql(ws, "SELECT session_id FROM sessions WHERE escalated")}
    assert set(PLANTED["escalation"]) <= escalated
    repeats = {(r[0], r[1], r[2]) for r in sql(
        ws, "SELECT customer_id, previous_session_id, session_id FROM sessions WHERE repeat_contact")}
    assert repeats == {tuple(r) for r in PLANTED["repeat_contacts_within_7_days"]}
    bot_only = session(ws, PLANTED["bot_only"][0])
    assert bot_only["no_customer_turn"] and not bot_only["ended_badly"]
    assert pd.isna(bot_only["risk"]) and pd.isna(bot_only["sentiment_end"])
    unanswered = {r[0] for r in sql(ws, "SELECT session_id FROM sessions WHERE unanswered")}
    # the planted unanswered messages that are questions or escalations are found
    assert {"S20261017001", "S20261108001", "S20261108002"} <= unanswered
    assert "S20260810001" not in unanswered  # ends with the customer's 谢谢: a normal ending


# -- speaker-aware sentiment ---------------------------------------------------------------------

def test_only_customer_turns_carry_sentiment_and_complaints(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    run(ws, CORPORA / "chats.csv")
    by_role = dict((r[0], r[1:]) for r in sql(ws, """
        SELECT role, count(sentiment), count(polarity), count(is_complaint), count(*)
        FROM documents GROUP BY role"""))
    for role in ("agent", "bot", "system"):
        assert by_role[role][:3] == (0, 0, 0), role
    assert by_role["customer"][0] == by_role["customer"][3]


def test_an_agent_who_is_negative_does_not_move_customer_sentiment(tmp_path: Path) -> None:
    customer = [["C", "customer", "你好，我想问下这个耳机怎么配对"],
                ["C", "customer", "好的，连上了，谢谢"]]
    angry_agent = [["C", "agent", "非常抱歉给您带来不便，真的太糟糕了，我们很失望，质量太差了"],
                   ["C", "agent", "垃圾系统又出故障，非常抱歉，太差劲了，实在糟糕"]]
    header = [["session_id", "role", "text"]]
    alone, mixed = tmp_path / "alone.duckdb", tmp_path / "mixed.duckdb"
    run(alone, write_csv(tmp_path / "alone.csv", header + customer))
    run(mixed, write_csv(tmp_path / "mixed.csv",
                         header + [customer[0], angry_agent[0], angry_agent[1], customer[1]]))
    cols = ["sentiment_start", "sentiment_end", "sentiment_min", "sentiment_mean",
            "sentiment_trend", "escalated", "unresolved_turns"]
    a, m = session(alone, "C"), session(mixed, "C")
    assert [a[c] for c in cols] == pytest.approx([m[c] for c in cols])
    assert m["n_agent_turns"] == 2
    assert sql(mixed, "SELECT count(*) FROM documents WHERE role = 'agent' AND sentiment IS NULL") == [(2,)]


def test_a_bot_only_session_is_kept_and_flagged(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bot.csv", [
        ["会话ID", "角色", "内容"], ["B", "机器人", "您好，请问有什么可以帮您"],
        ["B", "机器人", "由于您长时间未回复，会话已结束"]])
    ws = tmp_path / "ws.duckdb"
    run(ws, path)
    s = session(ws, "B")
    assert s["no_customer_turn"] and s["n_customer_turns"] == 0 and s["n_bot_turns"] == 2
    assert pd.isna(s["risk"]) and not s["ended_badly"] and not s["unanswered"]


# -- escalation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("再不处理我就打12315投诉你们", ["投诉"]),
    ("转人工", ["转人工"]),
    ("我要给差评，还要发微博曝光", ["差评", "曝光"]),
    ("叫你们经理出来", ["找领导"]),
    ("退款不给办，我找律师", ["退款纠纷", "法律"]),
    ("不解决就投诉", ["投诉"]),
    ("我不会给你们差评的，放心", None),
    ("不用转人工了，已经好了", None),
    ("订单号598697258123159876", None),  # 12315 inside a longer number is not the hotline
    ("物流很快，谢谢", None),
])
def test_escalation_phrases(text: str, expected: list[str] | None) -> None:
    assert escalation_categories(text, chat_patterns(LEXICONS)) == expected


def test_a_bare_request_for_a_human_is_a_handoff_and_agent_turns_never_escalate(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "handoff.csv", [
        ["会话ID", "角色", "内容"], ["H", "客户", "快递五天没动了"], ["H", "机器人", "请耐心等待"],
        ["H", "客户", "人工！"], ["H", "客服", "抱歉，如需投诉可拨打12315"]])
    ws = tmp_path / "ws.duckdb"
    run(ws, path)
    assert sql(ws, "SELECT turn, escalation FROM documents WHERE escalation IS NOT NULL") == [
        (3, ["转人工"])]
    s = session(ws, "H")
    assert s["escalated"] and list(s["escalation_reasons"]) == ["转人工"]


# -- repeat contacts and re-runs --------------------------------------------------------------------

def test_repeat_contact_needs_same_customer_same_subject_within_seven_days(tmp_path: Path) -> None:
    rows = [["会话ID", "客户ID", "角色", "内容", "时间"]]
    for sid, customer, text, when in [
        ("R1", "001", "快递一直没送到", "2026-05-01 10:00:00"),
        ("R2", "001", "快递还是没到，物流不动", "2026-05-05 10:00:00"),   # 4 days, 物流 again
        ("R3", "001", "快递又慢了", "2026-05-20 10:00:00"),             # 15 days later
        ("R4", "002", "耳机没声音", "2026-05-01 10:00:00"),
        ("R5", "002", "衣服尺码偏小", "2026-05-03 10:00:00"),            # other subject
    ]:
        rows.append([sid, customer, "客户", text, when])
        rows.append([sid, customer, "客服", "亲，马上为您处理", when.replace(":00:00", ":01:00")])
    ws = tmp_path / "ws.duckdb"
    run(ws, write_csv(tmp_path / "repeat.csv", rows))
    marked = sql(ws, "SELECT session_id, previous_session_id, round(days_since_previous, 1) "
                     "FROM sessions WHERE repeat_contact")
    assert marked == [("R2", "R1", 4.0)]
    assert "物流" in session(ws, "R2")["aspects"]


def test_a_later_run_that_adds_turns_updates_the_session_and_earlier_repeats(tmp_path: Path) -> None:
    first = write_csv(tmp_path / "first.csv", [
        ["会话ID", "客户ID", "角色", "内容", "时间"],
        ["L2", "005", "客户", "耳机右耳没声音", "2026-06-05 09:00:00"],
        ["L2", "005", "客服", "亲，麻烦寄回检测", "2026-06-05 09:02:00"]])
    earlier = write_csv(tmp_path / "earlier.csv", [
        ["会话ID", "客户ID", "角色", "内容", "时间"],
        ["L1", "005", "客户", "耳机没声音了", "2026-06-01 09:00:00"],
        ["L1", "005", "客服", "亲，试试重置", "2026-06-01 09:01:00"]])
    ws = tmp_path / "ws.duckdb"
    run(ws, first)
    assert not session(ws, "L2")["repeat_contact"]
    second = run(ws, earlier, first)  # the earlier session arrives later; first.csv repeats
    assert second.duplicates == 2 and second.extra["sessions"]["sessions"] == 1
    l2 = session(ws, "L2")
    assert l2["repeat_contact"] and l2["previous_session_id"] == "L1"
    assert sql(ws, "SELECT count(*) FROM sessions") == [(2,)]


# -- real data ---------------------------------------------------------------------------------------

def test_stc3_helpdesk_dialogues_every_turn_accounted(tmp_path: Path) -> None:
    path = shared_path("stc3_helpdesk_unlabeled", "test_data_cn.json")
    dialogues = json.loads(path.read_text(encoding="utf-8"))
    n_turns = sum(len(d["turns"]) for d in dialogues)
    empty_turns = sum(1 for d in dialogues for t in d["turns"]
                      if not any(u.strip() for u in t["utterances"]))
    ws = tmp_path / "ws.duckdb"
    result = run(ws, path)
    assert result.n_in == n_turns
    assert result.rejected_by_reason == {"empty_text": empty_turns}
    assert result.stored == n_turns - empty_turns
    assert result.extra["sessions"]["sessions"] == len(dialogues)
    assert sql(ws, "SELECT count(*) FROM documents WHERE role = 'agent' AND sentiment IS NOT NULL") == [(0,)]
    assert sql(ws, "SELECT count(*) FROM sessions WHERE risk IS NULL OR risk < 0 OR risk > 1") == [(0,)]


# -- CLI ----------------------------------------------------------------------------------------------

def test_sessions_cli_lists_the_worst_first(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    run(ws, CORPORA / "chats.csv")
    runner = CliRunner()
    result = runner.invoke(app, ["sessions", "list", "-w", str(ws), "--bad", "--top", "5", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert 0 < len(listed) <= 5
    risks = [r["risk"] for r in listed]
    assert risks == sorted(risks, reverse=True) and all(r["ended_badly"] for r in listed)
    shown = runner.invoke(app, ["sessions", "show", listed[0]["session_id"], "-w", str(ws), "--json"])
    assert shown.exit_code == 0
    turns = json.loads(shown.stdout)
    assert [t["turn"] for t in turns] == sorted(t["turn"] for t in turns)
    # customer turns show how they were read (closing, opinion …); other turns have no act
    assert all((t["turn_act"] is None) == (t["role"] != "customer") for t in turns)
    printed = runner.invoke(app, ["sessions", "show", listed[0]["session_id"], "-w", str(ws)])
    first_customer = next(t for t in turns if t["role"] == "customer")
    assert f"customer [{first_customer['sentiment']:.2f}] {first_customer['turn_act']}" \
        in printed.stdout
    missing = runner.invoke(app, ["sessions", "show", "NOPE", "-w", str(ws)])
    assert missing.exit_code == 2 and "E019" in missing.output


def test_sessions_from_turns_per_customer_group_match_the_workspace(tmp_path: Path) -> None:
    """What Spark runs per group of customers gives the sessions the local engine stores."""
    from textmine.chats import sessions_from_turns

    ws = tmp_path / "ws.duckdb"
    run(ws, CORPORA / "chats.csv")
    with duckdb.connect(str(ws), read_only=True) as con:
        turns = con.execute("SELECT * FROM documents").df()
        stored = con.execute("SELECT * FROM sessions ORDER BY session_id").df()
    # three groups, each holding every turn of its customers (as Spark's hash grouping does)
    bucket = turns["customer_id"].fillna("").map(lambda c: sum(map(ord, c)) % 3)
    groups = [sessions_from_turns(group, LEXICONS) for _, group in turns.groupby(bucket)]
    rebuilt = pd.concat(groups).sort_values("session_id").reset_index(drop=True)
    cols = ["session_id", "n_turns", "escalated", "unanswered", "ended_badly",
            "repeat_contact", "previous_session_id"]
    pd.testing.assert_frame_equal(rebuilt[cols], stored[cols])
    assert rebuilt["risk"].to_numpy() == pytest.approx(stored["risk"].to_numpy(), nan_ok=True)


def test_opinion_stages_only_score_customer_turns() -> None:
    """The sentiment model never sees an agent's message (it is not scored, not just hidden)."""
    from textmine.pipeline import Resources, default_stages, run_stages

    seen: list[str] = []

    class Spy:
        name, version = "spy", "1"

        def predict_proba(self, batch: pd.DataFrame):
            seen.extend(batch["text"])
            return np.full(len(batch), 0.9)

    resources = Resources(Config())
    resources.__dict__["sentiment_model"] = Spy()  # a cached_property: set it on the instance
    batch = pd.DataFrame({"text_raw": ["耳机音质太差了", "非常抱歉给您带来不便", "您好", "好的谢谢"],
                          "role": ["customer", "agent", "bot", "customer"],
                          "kind": "chat"})
    out = run_stages(batch, default_stages("chat"), resources)
    assert seen == ["耳机音质太差了", "好的谢谢"]
    assert out["sentiment"].tolist()[0] == 0.9 and pd.isna(out["sentiment"].tolist()[1])
    assert out["polarity"].tolist() == ["positive", None, None, "positive"]
