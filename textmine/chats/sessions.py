"""The `sessions` table: one row per chat session, computed in SQL over the stored turns."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

from textmine.chats.risk import BAD_ENDING, session_risk
from textmine.chats.signals import QUESTION_RE2
from textmine.errors import TextmineError
from textmine.lexicons import Lexicons
from textmine.schema import register_table
from textmine.workspace import Workspace

REPEAT_DAYS = 7  # a customer back within this many days about the same subject is a repeat contact
REPEAT_SIMILARITY = 0.6  # token overlap (Jaccard) at which a customer message repeats an earlier one
SHARED_KEYWORDS = 2  # without a shared aspect/topic/order/product, this many shared keywords
# A last customer message "needs an answer" when it is negative (sentiment below this), a
# question, unresolved or an escalation; a closing 好的谢谢 left unanswered is a normal ending.
NEEDS_ANSWER_BELOW = 0.4

SESSIONS = pa.schema([
    ("session_id", pa.string()),
    ("customer_id", pa.string()),
    ("channel", pa.string()),
    ("product", pa.string()),
    ("n_turns", pa.int32()),
    ("n_customer_turns", pa.int32()),
    ("n_agent_turns", pa.int32()),
    ("n_bot_turns", pa.int32()),
    ("started_at", pa.timestamp("us")),
    ("ended_at", pa.timestamp("us")),
    ("first_response_s", pa.float64()),
    ("sentiment_start", pa.float64()),
    ("sentiment_end", pa.float64()),
    ("sentiment_min", pa.float64()),
    ("sentiment_mean", pa.float64()),
    ("sentiment_trend", pa.float64()),
    ("closed", pa.bool_()),
    ("escalated", pa.bool_()),
    ("escalation_reasons", pa.list_(pa.string())),
    ("unresolved_turns", pa.int32()),
    ("unresolved_at_end", pa.bool_()),
    ("repeated_questions", pa.int32()),
    ("unanswered", pa.bool_()),
    ("last_role", pa.string()),
    ("no_customer_turn", pa.bool_()),
    ("aspects", pa.list_(pa.string())),
    ("subjects", pa.list_(pa.string())),
    ("keywords", pa.list_(pa.string())),
    ("risk", pa.float64()),
    ("risk_reasons", pa.list_(pa.string())),
    ("ended_badly", pa.bool_()),
    ("repeat_contact", pa.bool_()),
    ("previous_session_id", pa.string()),
    ("days_since_previous", pa.float64()),
    ("run_id", pa.string()),
    ("updated_at", pa.timestamp("us")),
])
register_table("sessions", SESSIONS)

# Turns of the sessions listed in _touched, in conversation order (`pos`), without the wide
# columns (tokens, text): copying them costs more than all the aggregates. A turn without a
# role (a file with no speaker column) is the customer's, as in the speaker stage.
_TURNS_SQL = """
CREATE OR REPLACE TEMP TABLE _turns AS
SELECT session_id, customer_id, channel, product, order_id, role, created_at, sentiment,
       escalation, unresolved, turn_act, topic_id, is_customer,
       -- the speaker stage's flag; turns stored before it existed are read here
       CASE WHEN is_customer THEN coalesce(question, regexp_matches(coalesce(text, ''), ?))
            ELSE false END AS question,
       row_number() OVER (PARTITION BY session_id ORDER BY turn NULLS LAST, created_at, doc_id)
           AS pos
FROM (SELECT *, coalesce(role, 'customer') NOT IN ('agent', 'bot', 'system') AS is_customer
      FROM documents
      WHERE kind = 'chat' AND session_id IN (SELECT session_id FROM _touched))
"""

# The words of customer messages, one row each (turn keeps the message apart).
_WORDS_SQL = """
CREATE OR REPLACE TEMP TABLE _words AS
SELECT session_id, turn, unnest(tokens) AS word
FROM documents
WHERE kind = 'chat' AND session_id IN (SELECT session_id FROM _touched)
  AND coalesce(role, 'customer') NOT IN ('agent', 'bot', 'system')
"""

# first(x ORDER BY k) / last(x ORDER BY k) are written arg_min/arg_max({'v': x}, k).v: the same
# value (NULL included, which a bare arg_max skips) without sorting every group.
_SESSIONS_SQL = """
WITH replies AS (
    SELECT session_id, min(pos) FILTER (WHERE role IN ('agent', 'bot')) AS first_reply_pos
    FROM _turns GROUP BY session_id
), cust AS (
    SELECT t.*, r.first_reply_pos,
           row_number() OVER (PARTITION BY t.session_id ORDER BY t.pos) AS k
    FROM _turns t JOIN replies r USING (session_id) WHERE t.is_customer
), base AS (
    SELECT session_id,
           any_value(customer_id) AS customer_id, any_value(channel) AS channel,
           any_value(product) AS product,
           count(*) AS n_turns,
           count(*) FILTER (WHERE is_customer) AS n_customer_turns,
           count(*) FILTER (WHERE role = 'agent') AS n_agent_turns,
           count(*) FILTER (WHERE role = 'bot') AS n_bot_turns,
           min(created_at) AS started_at,
           arg_max({'v': created_at}, pos).v AS ended_at,
           arg_max({'v': role}, pos).v AS last_role,
           max(pos) FILTER (WHERE is_customer) AS last_customer_pos,
           max(pos) FILTER (WHERE role IN ('agent', 'bot')) AS last_reply_pos
    FROM _turns GROUP BY session_id
), mood AS (
    SELECT session_id,
           (arg_min({'v': sentiment}, k) FILTER (WHERE sentiment IS NOT NULL)).v AS sentiment_start,
           -- the last mood the customer expressed: a closing 是的 or an order number says none
           coalesce((arg_max({'v': sentiment}, k)
                     FILTER (WHERE turn_act IN ('opinion', 'closing', 'resigned', 'ack')
                             AND sentiment IS NOT NULL)).v,
                    (arg_max({'v': sentiment}, k) FILTER (WHERE sentiment IS NOT NULL)).v)
               AS sentiment_end,
           coalesce(arg_max({'v': turn_act}, k).v = 'closing', false) AS closed,
           min(sentiment) AS sentiment_min, avg(sentiment) AS sentiment_mean,
           CASE WHEN count(sentiment) > 1 THEN regr_slope(sentiment, k) END AS sentiment_trend,
           count(*) FILTER (WHERE unresolved) AS unresolved_turns,
           coalesce(arg_max({'v': unresolved}, k).v, false) AS unresolved_at_end,
           coalesce(arg_max({'v': turn_act}, k).v, '') NOT IN ('closing', 'ack') AND (
               coalesce(arg_max({'v': sentiment}, k).v < ?, false)
               OR coalesce(arg_max({'v': question}, k).v, false)
               OR coalesce(arg_max({'v': unresolved}, k).v, false)
               OR arg_max({'v': escalation}, k).v IS NOT NULL) AS needs_answer,
           list_distinct(flatten(list(escalation) FILTER (WHERE escalation IS NOT NULL)))
               AS escalation_reasons,
           list_distinct(flatten(list(escalation) FILTER (WHERE escalation IS NOT NULL
                                                          AND pos > first_reply_pos)))
               AS late_escalation_reasons
    FROM cust GROUP BY session_id
), first_reply AS (
    SELECT c.session_id,
           epoch(arg_min({'v': t.created_at}, t.pos).v) - epoch(c.t0) AS first_response_s
    FROM (SELECT session_id, min(pos) AS p0, arg_min({'v': created_at}, pos).v AS t0
          FROM cust GROUP BY session_id) c
    JOIN _turns t ON t.session_id = c.session_id AND t.role = 'agent' AND t.pos > c.p0
    GROUP BY c.session_id, c.t0
), tok AS (
    -- distinct words of each customer message, as integers (hash joins on integers are much
    -- cheaper than list functions or string joins; a 64-bit collision only blurs one count)
    SELECT DISTINCT hash(session_id) AS sid, turn AS k, hash(word) AS h FROM _words
), tok_n AS (
    SELECT sid, k, count(*) AS n FROM tok GROUP BY sid, k HAVING count(*) >= 2
), shared AS (
    SELECT a.sid, a.k AS ak, b.k AS bk, count(*) AS n
    FROM tok a JOIN tok b ON a.sid = b.sid AND a.h = b.h AND a.k < b.k
    GROUP BY a.sid, a.k, b.k
), repeats AS (
    -- a later message whose words overlap an earlier one's (Jaccard) at least REPEAT_SIMILARITY
    SELECT c.session_id, count(DISTINCT s.bk) AS repeated_questions
    FROM shared s
    JOIN tok_n na ON na.sid = s.sid AND na.k = s.ak
    JOIN tok_n nb ON nb.sid = s.sid AND nb.k = s.bk
    JOIN (SELECT session_id, hash(session_id) AS sid FROM _touched) c ON c.sid = s.sid
    WHERE s.n >= ? * (na.n + nb.n - s.n)
    GROUP BY c.session_id
), subject AS (
    SELECT session_id,
           list_sort(list_distinct(list(aspect) FILTER (WHERE aspect IS NOT NULL))) AS aspects
    FROM (SELECT session_id, unnest([x.aspect FOR x IN aspects]) AS aspect
          FROM documents
          WHERE kind = 'chat' AND session_id IN (SELECT session_id FROM _touched)
            AND coalesce(role, 'customer') NOT IN ('agent', 'bot', 'system')
          UNION ALL
          SELECT session_id, aspect FROM _words JOIN _aspect_words USING (word))
    GROUP BY session_id
), words AS (
    SELECT session_id, list_sort(list_distinct(list(word))) AS keywords
    FROM _words
    WHERE length(word) >= 2 AND NOT regexp_matches(word, '^[0-9A-Za-z_<>.:-]+$')
      AND word NOT IN (SELECT word FROM _common_words)
      -- keywords only serve repeat contacts, which need a customer ID
      AND session_id IN (SELECT session_id FROM base WHERE customer_id IS NOT NULL)
    GROUP BY session_id
), marks AS (
    SELECT session_id, list_distinct(list(mark)) AS marks
    FROM (SELECT session_id, 'topic:' || topic_id AS mark FROM cust WHERE topic_id >= 0
          UNION ALL SELECT session_id, 'order:' || order_id FROM _turns WHERE order_id IS NOT NULL
          UNION ALL SELECT session_id, 'product:' || product FROM _turns WHERE product IS NOT NULL)
    GROUP BY session_id
)
SELECT b.session_id, b.customer_id, b.channel, b.product, b.n_turns, b.n_customer_turns,
       b.n_agent_turns, b.n_bot_turns, b.started_at, b.ended_at, f.first_response_s,
       m.sentiment_start, m.sentiment_end, m.sentiment_min, m.sentiment_mean,
       m.sentiment_trend, coalesce(m.closed, false) AS closed,
       coalesce(len(m.escalation_reasons) > 0, false) AS escalated,
       m.escalation_reasons, m.late_escalation_reasons,
       coalesce(m.unresolved_turns, 0) AS unresolved_turns,
       coalesce(m.unresolved_at_end, false) AS unresolved_at_end,
       coalesce(r.repeated_questions, 0) AS repeated_questions,
       coalesce(b.last_customer_pos > coalesce(b.last_reply_pos, 0) AND m.needs_answer, false)
           AS unanswered,
       b.last_role, b.n_customer_turns = 0 AS no_customer_turn,
       coalesce(s.aspects, []) AS aspects,
       list_concat(['aspect:' || a FOR a IN coalesce(s.aspects, [])],
                   coalesce(k.marks, [])) AS subjects,
       coalesce(w.keywords, []) AS keywords
FROM base b
LEFT JOIN mood m USING (session_id)
LEFT JOIN first_reply f USING (session_id)
LEFT JOIN repeats r USING (session_id)
LEFT JOIN subject s USING (session_id)
LEFT JOIN words w USING (session_id)
LEFT JOIN marks k USING (session_id)
ORDER BY b.session_id
"""

# The latest earlier session of the same customer within N days sharing a subject (an aspect,
# topic, order or product) or enough keywords; customers listed in _repeat_customers only.
_REPEAT_SQL = """
WITH pairs AS (
    SELECT s.session_id, p.session_id AS previous_session_id,
           (epoch(s.started_at) - epoch(p.started_at)) / 86400.0 AS days,
           row_number() OVER (PARTITION BY s.session_id
                              ORDER BY p.started_at DESC, p.session_id DESC) AS nth
    FROM sessions s JOIN sessions p
      ON p.customer_id = s.customer_id AND p.session_id <> s.session_id
     AND (p.started_at < s.started_at
          OR (p.started_at = s.started_at AND p.session_id < s.session_id))
     AND s.started_at - p.started_at <= to_days(CAST(? AS INTEGER))
    WHERE s.customer_id IN (SELECT customer_id FROM _repeat_customers)
      AND (len(list_intersect(s.subjects, p.subjects)) > 0
           OR len(list_intersect(s.keywords, p.keywords)) >= ?)
)
SELECT session_id, previous_session_id, days FROM pairs WHERE nth = 1
"""


def _lexicon_tables(ws: Workspace, lexicons: Lexicons) -> None:
    aspect_words = pd.DataFrame(list(lexicons.aspect_of.items()), columns=["word", "aspect"])
    # Opinion and filler words say how, not what: they never make two sessions "the same subject".
    common = sorted(set(lexicons.filler) | set(lexicons.sentiment) | set(lexicons.degree)
                    | set(lexicons.negations) | set(lexicons.unresolved))
    ws.con.register("_aspect_words_df", aspect_words)
    ws.con.execute("CREATE OR REPLACE TEMP TABLE _aspect_words AS SELECT * FROM _aspect_words_df")
    ws.con.unregister("_aspect_words_df")
    ws.con.register("_common_df", pd.DataFrame({"word": common}, dtype=object))
    ws.con.execute("CREATE OR REPLACE TEMP TABLE _common_words AS SELECT * FROM _common_df")
    ws.con.unregister("_common_df")


RISK_INPUTS = ("session_id", "sentiment_end", "sentiment_mean", "sentiment_min",
               "sentiment_trend", "closed", "n_customer_turns", "unresolved_turns", "unresolved_at_end",
               "repeated_questions", "unanswered", "escalation_reasons", "late_escalation_reasons")


def _build_sessions(ws: Workspace, session_ids: list[str] | None, lexicons: Lexicons,
                    threshold: float) -> None:
    """TEMP TABLE _new_sessions: complete session rows for `session_ids` (None: all).

    Only the risk inputs travel to pandas; the wide list columns stay in DuckDB.
    """
    if session_ids is None:
        ws.con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT session_id "
                       "FROM documents WHERE kind = 'chat' AND session_id IS NOT NULL")
    else:
        ws.con.register("_touched_df", pd.DataFrame({"session_id": session_ids}, dtype=object))
        ws.con.execute("CREATE OR REPLACE TEMP TABLE _touched AS SELECT DISTINCT session_id "
                       "FROM _touched_df")
        ws.con.unregister("_touched_df")
    _lexicon_tables(ws, lexicons)
    ws.con.execute(_TURNS_SQL, [QUESTION_RE2])
    ws.con.execute(_WORDS_SQL)
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE _computed AS {_SESSIONS_SQL}",
                   [NEEDS_ANSWER_BELOW, REPEAT_SIMILARITY])
    inputs = ws.con.execute(f"SELECT {', '.join(RISK_INPUTS)} FROM _computed").df()
    scored = session_risk(inputs)
    risk = pd.DataFrame({"session_id": inputs["session_id"], "risk": scored["risk"],
                         "risk_reasons": scored["risk_reasons"],
                         # NaN (no customer turn) is not a bad ending
                         "ended_badly": scored["risk"].ge(threshold)})
    ws.con.register("_risk_df", risk)
    ws.con.execute("""
        CREATE OR REPLACE TEMP TABLE _new_sessions AS
        SELECT c.* EXCLUDE (late_escalation_reasons),
               CAST(r.risk AS DOUBLE) AS risk, CAST(r.risk_reasons AS VARCHAR[]) AS risk_reasons,
               r.ended_badly
        FROM _computed c JOIN _risk_df r USING (session_id)
    """)
    ws.con.unregister("_risk_df")
    for table in ("_turns", "_words", "_touched", "_aspect_words", "_common_words", "_computed"):
        ws.con.execute(f"DROP TABLE IF EXISTS {table}")


def compute_sessions(ws: Workspace, session_ids: list[str] | None, lexicons: Lexicons,
                     threshold: float = BAD_ENDING) -> pd.DataFrame:
    """Session rows (contract columns + flags + risk) for `session_ids` (None: every session)."""
    _build_sessions(ws, session_ids, lexicons, threshold)
    frame = ws.query("SELECT * FROM _new_sessions ORDER BY session_id")
    ws.con.execute("DROP TABLE _new_sessions")
    return frame


def mark_repeat_contacts(ws: Workspace, customer_ids: list[str] | None = None,
                         days: int = REPEAT_DAYS) -> int:
    """Set repeat_contact / previous_session_id for these customers' sessions; return the count."""
    if customer_ids is None:
        ws.con.execute("CREATE OR REPLACE TEMP TABLE _repeat_customers AS "
                       "SELECT DISTINCT customer_id FROM sessions WHERE customer_id IS NOT NULL")
    else:
        ws.con.register("_rc_df", pd.DataFrame({"customer_id": customer_ids}, dtype=object))
        ws.con.execute("CREATE OR REPLACE TEMP TABLE _repeat_customers AS "
                       "SELECT DISTINCT customer_id FROM _rc_df")
        ws.con.unregister("_rc_df")
    ws.con.execute(f"CREATE OR REPLACE TEMP TABLE _repeats AS {_REPEAT_SQL}",
                   [days, SHARED_KEYWORDS])
    ws.con.execute("""
        UPDATE sessions SET repeat_contact = false, previous_session_id = NULL,
                            days_since_previous = NULL
        WHERE customer_id IN (SELECT customer_id FROM _repeat_customers)
    """)
    ws.con.execute("""
        UPDATE sessions SET repeat_contact = true, previous_session_id = r.previous_session_id,
                            days_since_previous = r.days
        FROM _repeats r WHERE sessions.session_id = r.session_id
    """)
    n = int(ws.con.execute("SELECT count(*) FROM _repeats").fetchone()[0])
    ws.con.execute("DROP TABLE _repeats")
    ws.con.execute("DROP TABLE _repeat_customers")
    return n


def refresh_sessions(ws: Workspace, session_ids: list[str] | None, lexicons: Lexicons,
                     run_id: str | None = None, threshold: float = BAD_ENDING,
                     repeat_days: int = REPEAT_DAYS) -> dict[str, Any]:
    """(Re)compute these sessions (None: all), store them, re-mark repeat contacts; figures."""
    _build_sessions(ws, session_ids, lexicons, threshold)
    if session_ids is None:
        ws.con.execute("DELETE FROM sessions")
    else:
        ws.con.execute("DELETE FROM sessions WHERE session_id IN "
                       "(SELECT session_id FROM _new_sessions)")
    ws.con.execute("""
        INSERT INTO sessions BY NAME
        SELECT *, false AS repeat_contact, ? AS run_id, current_localtimestamp() AS updated_at
        FROM _new_sessions
    """, [run_id])
    customers = None if session_ids is None else [r[0] for r in ws.con.execute(
        "SELECT DISTINCT customer_id FROM _new_sessions WHERE customer_id IS NOT NULL").fetchall()]
    mark_repeat_contacts(ws, customers, repeat_days)
    stored = ws.con.execute("""
        SELECT count(*), count(*) FILTER (WHERE escalated), count(*) FILTER (WHERE ended_badly),
               count(*) FILTER (WHERE repeat_contact), count(*) FILTER (WHERE no_customer_turn)
        FROM sessions WHERE session_id IN (SELECT session_id FROM _new_sessions)
    """).fetchone()
    ws.con.execute("DROP TABLE _new_sessions")
    return {"sessions": int(stored[0]), "escalated": int(stored[1]),
            "ended_badly": int(stored[2]), "repeat_contacts": int(stored[3]),
            "no_customer_turn": int(stored[4])}


LIST_COLUMNS = ("session_id", "customer_id", "started_at", "n_turns", "n_customer_turns",
                "sentiment_start", "sentiment_end", "sentiment_min", "escalated",
                "escalation_reasons", "unanswered", "repeat_contact", "risk", "ended_badly",
                "risk_reasons")


def _require_sessions(ws: Workspace) -> None:
    if not ws.has_table("sessions"):
        raise TextmineError("E013", "sessions", where=str(ws.path),
                            fix="Analyze chats first: textmine analyze FILE --kind chats.")


def list_sessions(ws: Workspace, limit: int = 20, *, bad_only: bool = False,
                  escalated_only: bool = False, repeat_only: bool = False,
                  customer_id: str | None = None) -> pd.DataFrame:
    """Sessions, riskiest first (sessions without a customer turn last)."""
    _require_sessions(ws)
    where = ["true"]
    params: list[Any] = []
    if bad_only:
        where.append("ended_badly")
    if escalated_only:
        where.append("escalated")
    if repeat_only:
        where.append("repeat_contact")
    if customer_id is not None:
        where.append("customer_id = ?")
        params.append(customer_id)
    cols = ", ".join(LIST_COLUMNS)
    sql = (f"SELECT {cols} FROM sessions WHERE {' AND '.join(where)} "
           "ORDER BY risk DESC NULLS LAST, session_id")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return ws.query(sql, params)


def session_turns(ws: Workspace, session_id: str) -> pd.DataFrame:
    """One session's turns in order, with the customer-only signals."""
    frame = ws.query("""
        SELECT turn, role, created_at, text, sentiment, turn_act, escalation, unresolved
        FROM documents WHERE kind = 'chat' AND session_id = ?
        ORDER BY turn NULLS LAST, created_at, doc_id
    """, [session_id])
    if frame.empty:
        raise TextmineError("E019", f"no chat session {session_id!r}", where=str(ws.path),
                            fix="List sessions with: textmine sessions list.")
    return frame


def sessions_from_turns(turns: pd.DataFrame, lexicons: Lexicons, run_id: str | None = None,
                        threshold: float = BAD_ENDING,
                        repeat_days: int = REPEAT_DAYS) -> pd.DataFrame:
    """The sessions table for a frame of stored chat turns (`documents` rows), no workspace needed.

    The same SQL in an in-memory DuckDB: what Spark runs per group of customers
    (`groupBy("customer_id").applyInPandas`), so repeat contacts are found within each group.
    """
    from textmine.workspace import open_workspace

    with open_workspace(":memory:") as ws:
        ws.insert("documents", turns)
        refresh_sessions(ws, None, lexicons, run_id, threshold, repeat_days)
        return ws.query("SELECT * FROM sessions ORDER BY session_id")
