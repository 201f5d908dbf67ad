"""A synthetic analysed workspace built in DuckDB (reviews, chat turns, sessions), for report tests.

Rows are made by SQL over `range(n)` with arithmetic pseudo-randomness, so a 1,000,000-document
workspace takes seconds and the same arguments always give the same rows. The last week carries
more logistics complaints than the weeks before (a planted rise the report should show).
The benchmark (benchmarks/bench_report.py) uses the same builder.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from textmine.workspace import open_workspace

END = datetime(2026, 11, 15, 23, 0, 0)
DAYS = 91
# (text, aspect, polarity, topic_id); topic_id is NULL for texts that are not complaints.
PHRASES = [
    ("快递太慢了，等了一个星期才到，物流信息也不更新", "物流", "negative", 0),
    ("一直不发货，催了几次客服都说在安排", "物流", "negative", 0),
    ("耳机充电仓断连，戴着戴着就没声音了", "连接", "negative", 1),
    ("电池续航太短，充满电半天就没了", "续航", "negative", 1),
    ("包装破损，盒子都压扁了，里面配件也少了", "包装", "negative", 2),
    ("客服态度很差，问了三遍都不理人", "服务", "negative", 3),
    ("价格比别家贵不少，感觉不值这个钱", "价格", "negative", 4),
    ("音质很好，佩戴也舒服，推荐", "音质", "positive", None),
    ("发货很快，第二天就到了，包装完好", "物流", "positive", None),
    ("性价比高，用了一周没毛病", "价格", "positive", None),
    ("还行吧，中规中矩，没有特别惊喜", "质量", "neutral", None),
]
# Tokens as the segmenter would leave them (stopwords gone), so word-level trends have work to do.
TOKENS = ["快递 太慢 星期 物流 信息 更新", "不发货 催 客服 安排", "耳机 充电仓 断连 没 声音",
          "电池 续航 太短 充满 半天", "包装 破损 盒子 压扁 配件", "客服 态度 很差 三遍 不理",
          "价格 别家 贵 不值", "音质 很好 佩戴 舒服 推荐", "发货 很快 第二天 包装 完好",
          "性价比 高 一周 没毛病", "还行 中规中矩 惊喜"]
TOPIC_LABELS = {0: "物流慢 · 不发货", 1: "充电仓断连 · 续航", 2: "包装破损", 3: "客服态度",
                4: "价格偏高"}
PRODUCTS = ["无线耳机X2", "智能手环S3", "充电宝P1", "蓝牙音箱M5"]


def _rand(expr: str, salt: int) -> str:
    # An integer bit-mixer of (row, salt) written out in SQL, as a number in [0, 1): fast,
    # uncorrelated between salts, and the same on every DuckDB version (unlike hash()).
    h = f"((({expr}) + {salt} * 40503) % 4294967296)"
    for _ in range(2):
        h = f"((xor({h}, {h} >> 16) * 73244475) % 4294967296)"
    return f"(xor({h}, {h} >> 16) / 4294967296.0)"


def build(path: str | Path, *, reviews: int = 2000, sessions: int = 200, topics: bool = True,
          aspects: bool = True, end: datetime = END, days: int = DAYS) -> Path:
    """Create a workspace at `path` with synthetic analysed rows; returns the path."""
    path = Path(path)
    with open_workspace(path) as ws:
        con = ws.con
        values = ", ".join(
            f"({i}, '{t}', '{a}', '{p}', {'NULL' if k is None else k}, '{w}')"
            for i, ((t, a, p, k), w) in enumerate(zip(PHRASES, TOKENS, strict=True)))
        con.execute(f"CREATE TEMP TABLE phrases AS SELECT * FROM (VALUES {values}) "
                    "t(p, text, aspect, polarity, topic_id, words)")
        labels = ", ".join(f"({k}, '{v}')" for k, v in TOPIC_LABELS.items())
        con.execute(f"CREATE TEMP TABLE labels AS SELECT * FROM (VALUES {labels}) t(topic_id, label)")
        products = "[" + ", ".join(f"'{p}'" for p in PRODUCTS) + "]"
        seconds = days * 86400
        last_week = f"TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}' - INTERVAL 7 DAY"
        con.execute(f"""
            CREATE TEMP TABLE base AS
            SELECT i, TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'
                      - to_seconds(CAST({_rand('i', 7)} * {seconds} AS BIGINT)) AS created_at,
                   {_rand('i', 11)} AS r1, {_rand('i', 13)} AS r2
            FROM range({reviews}) t(i)""")
        aspects_sql = ("[struct_pack(aspect := ph.aspect, polarity := ph.polarity, "
                       "score := s.sentiment, evidence := ph.text)]" if aspects else "NULL")
        topic_sql = "ph.topic_id" if topics else "NULL"
        label_sql = "lb.label" if topics else "NULL"
        prob_sql = "0.5 + s.r2 / 2" if topics else "NULL"
        con.execute(f"""
            INSERT INTO documents BY NAME
            WITH picked AS (
                SELECT *, CASE WHEN created_at >= {last_week} AND r1 < 0.3 THEN 0
                               ELSE CAST(floor(r2 * {len(PHRASES)}) AS INTEGER) END AS p
                FROM base),
            s AS (
                SELECT picked.*, ph.polarity,
                       CASE ph.polarity WHEN 'negative' THEN 0.05 + r1 * 0.3
                                        WHEN 'neutral' THEN 0.45 + r1 * 0.1
                                        ELSE 0.7 + r1 * 0.29 END AS sentiment
                FROM picked JOIN phrases ph USING (p))
            SELECT 'R' || lpad(s.i::VARCHAR, 8, '0') AS doc_id, 'review' AS kind,
                   'synthetic_reviews.csv' AS source, s.i + 1 AS source_row,
                   lpad((s.i * 7919 % 5000)::VARCHAR, 6, '0') AS customer_id,
                   {products}[1 + s.i % {len(PRODUCTS)}] AS product, '天猫' AS channel,
                   s.created_at, CASE s.polarity WHEN 'negative' THEN 1.0 + (s.i % 2)
                                                 WHEN 'neutral' THEN 3.0 ELSE 5.0 END AS rating,
                   ph.text, string_split(ph.words, ' ') AS tokens, s.sentiment, s.polarity,
                   {aspects_sql} AS aspects,
                   s.polarity = 'negative' AS is_complaint,
                   {topic_sql} AS topic_id, {label_sql} AS topic_label, {prob_sql} AS topic_prob,
                   'synthetic' AS run_id
            FROM s JOIN phrases ph USING (p) LEFT JOIN labels lb ON lb.topic_id = ph.topic_id""")
        if sessions:
            _chats(con, sessions, end, seconds)
        con.execute("""
            INSERT INTO runs BY NAME SELECT 'synthetic' AS run_id, 'analyze' AS command,
                   'ok' AS status, '0.1.0' AS textmine_version, 'abc123def456' AS lexicon_digest,
                   'default' AS sentiment_model, n + 3 AS n_in, n AS n_stored,
                   0 AS n_duplicates, 3 AS n_rejected
            FROM (SELECT count(*) AS n FROM documents)""")
        con.execute("""
            INSERT INTO rejects BY NAME SELECT 'synthetic' AS run_id,
                   'synthetic_reviews.csv' AS source, r AS row, NULL AS doc_id,
                   CASE WHEN r < 3 THEN 'empty_text' ELSE 'bad_time' END AS reason,
                   '' AS detail, NULL AS excerpt FROM range(1, 4) t(r)""")
    return path


def _chats(con, n: int, end: datetime, seconds: int) -> None:
    con.execute("""
        CREATE TABLE IF NOT EXISTS sessions (
            session_id VARCHAR, customer_id VARCHAR, started_at TIMESTAMP, ended_at TIMESTAMP,
            first_response_s DOUBLE, sentiment_start DOUBLE, sentiment_end DOUBLE,
            sentiment_min DOUBLE, escalated BOOLEAN, ended_badly BOOLEAN, risk DOUBLE)""")
    con.execute(f"""
        INSERT INTO sessions BY NAME
        SELECT 'S' || lpad(i::VARCHAR, 8, '0') AS session_id,
               lpad((i * 104729 % 5000)::VARCHAR, 6, '0') AS customer_id,
               TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'
                   - to_seconds(CAST({_rand('i', 17)} * {seconds} AS BIGINT)) AS started_at,
               started_at + INTERVAL 12 MINUTE AS ended_at,
               5 + {_rand('i', 19)} * 300 AS first_response_s,
               0.5 AS sentiment_start, {_rand('i', 23)} AS sentiment_end,
               least(0.5, sentiment_end) AS sentiment_min,
               {_rand('i', 29)} < 0.12 AS escalated, sentiment_end < 0.2 AS ended_badly,
               1 - sentiment_end AS risk
        FROM range({n}) t(i)""")
    con.execute("""
        INSERT INTO documents BY NAME
        SELECT s.session_id || ':' || t.turn AS doc_id, 'chat' AS kind,
               'synthetic_chats.csv' AS source, s.customer_id, s.session_id,
               CASE t.turn WHEN 2 THEN 'agent' ELSE 'customer' END AS role, t.turn,
               s.started_at + to_seconds(t.turn * 60) AS created_at,
               CASE t.turn WHEN 1 THEN '我的快递怎么还没到？'
                           WHEN 2 THEN '您好，这边帮您查询一下物流'
                           ELSE CASE WHEN s.ended_badly THEN '还是不行，我要投诉'
                                     ELSE '好的，谢谢' END END AS text,
               CASE WHEN t.turn = 3 THEN s.sentiment_end ELSE 0.5 END AS sentiment,
               CASE WHEN t.turn = 3 AND s.ended_badly THEN 'negative' ELSE 'neutral' END
                   AS polarity,
               t.turn = 3 AND s.ended_badly AS is_complaint, 'synthetic' AS run_id
        FROM sessions s, range(1, 4) t(turn)""")
