"""Trends over time: volume, complaint share and sentiment per period, and what is rising."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from textmine.errors import TextmineError
from textmine.schema import DOCUMENTS, duck_type
from textmine.workspace import Workspace, open_workspace

WorkspaceLike = Workspace | str | Path
PERIODS = ("day", "week", "month")
GROUPS = ("product", "channel", "kind", "aspect", "topic")
# Columns later stages add; a workspace without them still answers (they read as NULL).
OPTIONAL = ("rating", "sentiment", "polarity", "is_complaint", "tokens", "aspects", "topic_id",
            "topic_label", "session_id", "product", "channel", "role", "text")


@contextmanager
def reading(workspace: WorkspaceLike) -> Iterator[Workspace]:
    """Use an open workspace as is, or open a path read-only for the duration."""
    if isinstance(workspace, Workspace):
        yield workspace
        return
    with open_workspace(workspace, read_only=True) as ws:
        yield ws


def columns_of(ws: Workspace, table: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table or view (empty when it does not exist)."""
    if not ws.has_table(table):
        return {}
    described = ws.con.execute(f'DESCRIBE "{table}"').fetchall()
    return {row[0]: str(row[1]) for row in described}


def voice_sql(ws: Workspace) -> str:
    """Customer-written documents (reviews and customer chat turns) with every column we read.

    Columns a stage has not produced yet are NULL, so a query works before topics or aspects
    land and picks them up once they do.
    """
    have = columns_of(ws, "documents")
    if not have:
        raise TextmineError("E013", "documents", where=str(ws.path),
                            fix="Run `textmine analyze FILE` first.")
    select = []
    for name in ("doc_id", "kind", "customer_id", "created_at", *OPTIONAL):
        if name in have:
            select.append(f'"{name}"')
        else:
            select.append(f'CAST(NULL AS {duck_type(DOCUMENTS.field(name).type)}) AS "{name}"')
    role = "coalesce(role, 'customer') = 'customer'" if "role" in have else "TRUE"
    return (f"SELECT {', '.join(select)} FROM documents "
            f"WHERE created_at IS NOT NULL AND {role}")


@dataclass(frozen=True)
class Scope:
    """Which documents a trend reads: product, channel, kind and a date range (until inclusive)."""

    product: str | None = None
    channel: str | None = None
    kind: str | None = None
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["TRUE"], []
        for name in ("product", "channel", "kind"):
            value = getattr(self, name)
            if value:
                clauses.append(f"{name} = ?")
                params.append(value)
        if self.since is not None:
            clauses.append("created_at >= ?")
            params.append(self.since.to_pydatetime())
        if self.until is not None:
            clauses.append("created_at < ?")
            params.append(end_of_day(self.until).to_pydatetime())
        return " AND ".join(clauses), params


def end_of_day(day: pd.Timestamp) -> pd.Timestamp:
    """The exclusive bound for an inclusive `until`: a bare date covers that whole day."""
    return day + pd.Timedelta(days=1) if day == day.normalize() else day


def parse_day(value: str | pd.Timestamp | None, option: str = "--since") -> pd.Timestamp | None:
    """'2026-11-02', '2026/11/2', '2026年11月2日' -> Timestamp; a bad value is a user error."""
    if value is None or value == "":
        return None
    if isinstance(value, pd.Timestamp):
        return value
    from textmine.timeparse import parse_times

    parsed, bad = parse_times(pd.Series([str(value)]))
    if bad.iloc[0] or pd.isna(parsed.iloc[0]):
        raise TextmineError("E015", f"{option} {value}", fix="Give a date such as 2026-11-02.")
    return pd.Timestamp(parsed.iloc[0])


def _unit(by: str) -> str:
    if by not in PERIODS:
        raise TextmineError("E015", f"--by {by}", fix="Use --by day, week or month.")
    return by


def _step(by: str, n: int = 1) -> pd.DateOffset:
    return {"day": pd.DateOffset(days=n), "week": pd.DateOffset(weeks=n),
            "month": pd.DateOffset(months=n)}[by]


def _scoped(ws: Workspace, scope: Scope) -> tuple[str, list[Any]]:
    where, params = scope.where()
    return f"SELECT * FROM ({voice_sql(ws)}) WHERE {where}", params


def _periods_sql(by: str) -> str:
    # Every period from the first to the last document, so quiet periods show n = 0.
    return (f"SELECT unnest(range(date_trunc('{by}', min(created_at)), "
            f"date_trunc('{by}', max(created_at)) + INTERVAL 1 {by.upper()}, "
            f"INTERVAL 1 {by.upper()})) AS period FROM d")


def trends(workspace: WorkspaceLike, by: str = "week", *, group: str | None = None,
           aspect: str | None = None, topic: str | None = None, product: str | None = None,
           channel: str | None = None, kind: str | None = None,
           since: str | pd.Timestamp | None = None,
           until: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Volume, complaints (with their share) and mean sentiment per period (and group).

    `aspect`/`topic` (or group="aspect"/"topic") answer with `aspect_trends`/`topic_trends`.
    Every share comes with the counts it was computed from.
    """
    scope = Scope(product, channel, kind, parse_day(since), parse_day(until, "--until"))
    if aspect or group == "aspect":
        return aspect_trends(workspace, by, aspect=aspect, scope=scope)
    if topic or group == "topic":
        return topic_trends(workspace, by, topic=topic, scope=scope)
    by = _unit(by)
    if group is not None and group not in GROUPS:
        raise TextmineError("E015", f"--group {group}", fix=f"Use one of: {', '.join(GROUPS)}.")
    grp = f"coalesce(CAST({group} AS VARCHAR), '(unknown)')" if group else "'all'"
    with reading(workspace) as ws:
        docs, params = _scoped(ws, scope)
        frame = ws.query(f"""
            WITH d AS ({docs}),
            periods AS ({_periods_sql(by)}),
            groups AS (SELECT DISTINCT {grp} AS grp FROM d),
            agg AS (
                SELECT date_trunc('{by}', created_at) AS period, {grp} AS grp, count(*) AS n,
                       count(*) FILTER (WHERE is_complaint) AS complaints,
                       count(*) FILTER (WHERE polarity = 'negative') AS negative,
                       avg(sentiment) AS mean_sentiment
                FROM d GROUP BY ALL)
            SELECT p.period, g.grp AS "group", coalesce(a.n, 0) AS n,
                   coalesce(a.complaints, 0) AS complaints,
                   a.complaints / a.n AS complaint_share,
                   coalesce(a.negative, 0) AS negative,
                   a.negative / a.n AS negative_share, a.mean_sentiment
            FROM periods p CROSS JOIN groups g LEFT JOIN agg a ON a.period = p.period AND a.grp = g.grp
            ORDER BY p.period, g.grp
        """, params)
    if group is None:
        frame = frame.drop(columns=["group"])
    else:
        frame = frame.rename(columns={"group": group})
    return frame


def aspect_trends(workspace: WorkspaceLike, by: str = "week", *, aspect: str | None = None,
                  scope: Scope | None = None, **filters: Any) -> pd.DataFrame:
    """Per period and aspect: documents in the period (n), documents mentioning the aspect,
    complaints (a negative opinion on it), their share of n, and the mean aspect score."""
    by = _unit(by)
    scope = scope or _scope_from(filters)
    with reading(workspace) as ws:
        docs, params = _scoped(ws, scope)
        only = "AND m.aspect = ?" if aspect else ""
        return ws.query(f"""
            WITH d AS ({docs}),
            periods AS ({_periods_sql(by)}),
            per AS (SELECT date_trunc('{by}', created_at) AS period, count(*) AS n FROM d GROUP BY 1),
            -- one row per document and aspect: a complaint when any opinion on it is negative
            m AS (SELECT period, a.aspect AS aspect, bool_or(a.polarity = 'negative') AS negative,
                         avg(a.score) AS score
                  FROM (SELECT date_trunc('{by}', created_at) AS period, doc_id,
                               unnest(aspects) AS a FROM d WHERE len(aspects) > 0)
                  GROUP BY period, doc_id, a.aspect),
            agg AS (SELECT period, aspect, count(*) AS mentions,
                           count(*) FILTER (WHERE negative) AS complaints, avg(score) AS mean_score
                    FROM m WHERE aspect IS NOT NULL {only} GROUP BY 1, 2),
            names AS (SELECT DISTINCT aspect FROM agg)
            SELECT p.period, names.aspect, coalesce(per.n, 0) AS n,
                   coalesce(agg.mentions, 0) AS mentions, coalesce(agg.complaints, 0) AS complaints,
                   coalesce(agg.complaints, 0) / per.n AS share, agg.mean_score
            FROM periods p CROSS JOIN names LEFT JOIN per ON per.period = p.period
            LEFT JOIN agg ON agg.period = p.period AND agg.aspect = names.aspect
            ORDER BY p.period, names.aspect
        """, params + ([aspect] if aspect else []))


def topic_trends(workspace: WorkspaceLike, by: str = "week", *, topic: str | None = None,
                 scope: Scope | None = None, **filters: Any) -> pd.DataFrame:
    """Per period and complaint topic: documents in the period (n), complaints in the topic,
    their share of n, and the topic's mean sentiment. `topic` is a label or a topic ID."""
    by = _unit(by)
    scope = scope or _scope_from(filters)
    with reading(workspace) as ws:
        docs, params = _scoped(ws, scope)
        only = "AND (topic = ? OR CAST(topic_id AS VARCHAR) = ?)" if topic else ""
        return ws.query(f"""
            WITH d AS ({docs}),
            periods AS ({_periods_sql(by)}),
            per AS (SELECT date_trunc('{by}', created_at) AS period, count(*) AS n FROM d GROUP BY 1),
            t AS (SELECT date_trunc('{by}', created_at) AS period, topic_id, sentiment,
                         coalesce(topic_label, 'topic ' || topic_id) AS topic
                  FROM d WHERE is_complaint AND topic_id IS NOT NULL AND topic_id >= 0),
            agg AS (SELECT period, topic, any_value(topic_id) AS topic_id, count(*) AS complaints,
                           avg(sentiment) AS mean_sentiment
                    FROM t WHERE TRUE {only} GROUP BY 1, 2),
            names AS (SELECT topic, any_value(topic_id) AS topic_id FROM agg GROUP BY 1)
            SELECT p.period, names.topic_id, names.topic, coalesce(per.n, 0) AS n,
                   coalesce(agg.complaints, 0) AS complaints,
                   coalesce(agg.complaints, 0) / per.n AS share, agg.mean_sentiment
            FROM periods p CROSS JOIN names LEFT JOIN per ON per.period = p.period
            LEFT JOIN agg ON agg.period = p.period AND agg.topic = names.topic
            ORDER BY p.period, names.topic
        """, params + ([topic, topic] if topic else []))


def _scope_from(filters: dict[str, Any]) -> Scope:
    unknown = set(filters) - {"product", "channel", "kind", "since", "until"}
    if unknown:
        raise TypeError(f"unknown filters: {', '.join(sorted(unknown))}")
    return Scope(filters.get("product"), filters.get("channel"), filters.get("kind"),
                 parse_day(filters.get("since")), parse_day(filters.get("until"), "--until"))


# -- rising ------------------------------------------------------------------------------------

RISING_COLUMNS = ("kind", "name", "period", "count", "n", "share", "baseline_count",
                  "baseline_n", "baseline_share", "lift", "excess", "p_value", "q_value",
                  "score", "first_seen", "examples")


def fisher_greater(x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, *,
                   mid: bool = False) -> np.ndarray:
    """One-sided Fisher exact test that x1/n1 is above x0/n0 (vectorised, exact for small
    counts); `mid` gives Lancaster's mid-p (half the weight of the observed table)."""
    from scipy.stats import hypergeom

    dist = hypergeom(n0 + n1, x0 + x1, n1)
    return dist.sf(x1) + 0.5 * dist.pmf(x1) if mid else dist.sf(x1 - 1)


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values), same order as `p`."""
    p = np.asarray(p, dtype=float)
    if not len(p):
        return p
    order = np.argsort(p)
    ranked = p[order] * len(p) / np.arange(1, len(p) + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(ranked, 1.0)
    return out


@dataclass(frozen=True)
class RisingRules:
    """When a rise is reported (defaults documented in the README)."""

    baseline: int = 12  # trailing periods the latest one is compared with
    word_periods: int = 2  # new words: the latest N periods against the baseline before them
    alpha: float = 0.05  # false-alarm budget of one check: BH level for aspects and topics …
    word_alpha: float = 0.01  # … and for new words (many more candidates, signals are strong)
    mid_p: bool = False
    min_count: int = 5  # aspects/topics: complaints in the latest period
    min_word_count: int = 3  # new words: complaints in the word window
    min_lift: float = 1.5  # share at least 1.5x the baseline share
    new_word_lift: float = 4.0  # "barely before": baseline share at most a quarter of now


def judge(counts: pd.DataFrame, rules: RisingRules) -> pd.DataFrame:
    """Test each candidate (kind, name, count, n, baseline_count, baseline_n, periods[, grp])
    and keep the risers, strongest first.

    Fisher's one-sided exact test on the 2x2 table of counts; candidates whose total count is
    below the minimum support are not tested (this filter does not depend on where the counts
    fall, so it keeps the FDR guarantee); q-values by Benjamini–Hochberg within each kind (and
    group). Reported: q <= alpha, enough complaints now, and the share up by at least min_lift
    (new words: new_word_lift, i.e. barely seen before).
    """
    c = counts.copy()
    for col in ("count", "n", "baseline_count", "baseline_n"):
        c[col] = c[col].astype("int64")
    is_word = (c["kind"] == "word").to_numpy()
    minimum = np.where(is_word, rules.min_word_count, rules.min_count)
    c = c[((c["n"] > 0) & (c["baseline_n"] > 0)
           & (c["count"] + c["baseline_count"] >= minimum)).to_numpy()].copy()
    if c.empty:
        return c.assign(share=[], baseline_share=[], lift=[], excess=[], p_value=[], q_value=[])
    c["share"] = c["count"] / c["n"]
    c["baseline_share"] = c["baseline_count"] / c["baseline_n"]
    with np.errstate(divide="ignore", invalid="ignore"):
        c["lift"] = c["share"] / c["baseline_share"]
    c["p_value"] = fisher_greater(c["count"].to_numpy(), c["n"].to_numpy(),
                                  c["baseline_count"].to_numpy(), c["baseline_n"].to_numpy(),
                                  mid=rules.mid_p)
    # Aspects and topics are one family (the same question at two grains), words another.
    family = (c["kind"] == "word").astype(str) + "\x1f" + c.get("grp", "")
    q = np.empty(len(c))
    for key in family.unique():
        mask = (family == key).to_numpy()
        q[mask] = benjamini_hochberg(c["p_value"].to_numpy()[mask])
    c["q_value"] = q
    # Extra complaints per period beyond what the baseline share predicts: the effect size the
    # list is ordered by, so a big aspect that doubled outranks a rare word that quadrupled.
    c["excess"] = (c["count"] - c["n"] * c["baseline_share"]) / c["periods"]
    is_word = (c["kind"] == "word").to_numpy()
    need = np.where(is_word, rules.min_word_count, rules.min_count)
    lift_needed = np.where(is_word, rules.new_word_lift, rules.min_lift)
    level = np.where(is_word, rules.word_alpha, rules.alpha)
    keep = (c["q_value"] <= level) & (c["count"] >= need) & (c["lift"] >= lift_needed)
    return c[keep.to_numpy()].sort_values(["excess", "p_value"], ascending=[False, True])


def rising(workspace: WorkspaceLike, by: str = "week", *, rules: RisingRules | None = None,
           group: str | None = None, aspect: str | None = None, topic: str | None = None,
           product: str | None = None, channel: str | None = None, kind: str | None = None,
           since: str | pd.Timestamp | None = None, until: str | pd.Timestamp | None = None,
           words: bool = True, exclude: Iterable[str] | None = None,
           examples: int = 3) -> pd.DataFrame:
    """Aspects and topics whose complaint share in the latest period is significantly above
    their trailing baseline, and new words in complaints; strongest (most extra complaints per
    period) first. Columns: RISING_COLUMNS (plus the `group` column, e.g. `product`, when
    grouped: each group is tested on its own); `score` = `excess`."""
    by = _unit(by)
    rules = rules or RisingRules()
    if group is not None and group not in ("product", "channel"):
        raise TextmineError("E015", f"--group {group}", fix="With --rising use product or channel.")
    grp = f"coalesce(CAST({group} AS VARCHAR), '(unknown)')" if group else "''"
    scope = Scope(product, channel, kind, parse_day(since), parse_day(until, "--until"))
    if exclude is None:
        exclude = generic_words()
    columns = ([group] if group else []) + list(RISING_COLUMNS)
    with reading(workspace) as ws:
        docs, params = _scoped(ws, scope)
        docs = f"SELECT *, {grp} AS grp FROM ({docs})"
        latest = ws.con.execute(f"SELECT date_trunc('{by}', max(created_at)) FROM ({docs})",
                                params).fetchall()[0][0]
        if latest is None:
            return pd.DataFrame(columns=columns)
        latest = pd.Timestamp(latest)
        end = latest + _step(by)
        windows = {
            "aspect": (latest, latest - _step(by, rules.baseline), 1),
            "topic": (latest, latest - _step(by, rules.baseline), 1),
        }
        if words:
            w_start = latest - _step(by, rules.word_periods - 1)
            windows["word"] = (w_start, w_start - _step(by, rules.baseline), rules.word_periods)
        support = {"aspect": rules.min_count, "topic": rules.min_count,
                   "word": rules.min_word_count}
        counts = _candidate_counts(ws, docs, params, windows, end, sorted(exclude), support,
                                   aspect=aspect, topic=topic)
        found = judge(counts, rules)
        if words:
            found = _drop_word_parts(found)
        if aspect or topic:
            wanted = {("aspect", aspect), ("topic", topic)}
            asked = [(k, n) in wanted for k, n in zip(found["kind"], found["name"], strict=True)]
            found = found.loc[np.array(asked, dtype=bool)]
        found = found.copy()
        found["period"] = [_period_label(windows[k][0], end) for k in found["kind"]]
        found["score"] = found["excess"]
        found["examples"] = _examples(ws, docs, params, found, windows, end, examples)
        found["first_seen"] = _first_seen(ws, docs, params, found)
    if group:
        found[group] = found["grp"]
    return found.reindex(columns=columns).reset_index(drop=True)


@lru_cache(maxsize=4)
def generic_words(lexicons_dir: str | None = None) -> frozenset[str]:
    """Words that say how a customer feels, not what about (filler, opinion, complaint and
    escalation phrases): a surge of 投诉 is no new word, 充电仓断连 is."""
    from textmine.lexicons import load_lexicons

    lex = load_lexicons(lexicons_dir)
    phrases = [w for group in (lex.complaint, lex.escalation) for words in group.values()
               for w in words]
    return frozenset(lex.filler | set(lex.sentiment) | lex.negations | set(lex.degree)
                     | set(phrases))


def _period_label(start: pd.Timestamp, end: pd.Timestamp) -> str:
    last = end - pd.Timedelta(days=1)
    return f"{start:%Y-%m-%d}" if last <= start else f"{start:%Y-%m-%d}..{last:%Y-%m-%d}"


def _candidate_counts(ws: Workspace, docs: str, params: list[Any],
                      windows: dict[str, tuple[pd.Timestamp, pd.Timestamp, int]],
                      end: pd.Timestamp, exclude: list[str], support: dict[str, int], *,
                      aspect: str | None, topic: str | None) -> pd.DataFrame:
    """Counts per group and candidate in one SQL statement: complaints now and in the baseline,
    with the number of documents in each window (the denominators of the shares). Candidates
    with fewer than `support` complaints in both windows together are left out (see `judge`)."""
    lo = min(b for _, b, _ in windows.values())
    sources = {
        "aspect": ("SELECT DISTINCT grp, doc_id, created_at, a.aspect AS name FROM "
                   "(SELECT grp, doc_id, created_at, unnest(aspects) AS a FROM d) "
                   "WHERE a.polarity = 'negative'", []),
        "topic": ("SELECT grp, doc_id, created_at, coalesce(topic_label, 'topic ' || topic_id) "
                  "AS name FROM d WHERE is_complaint AND topic_id >= 0", []),
    }
    if "word" in windows:
        # Tokens of two or more characters, plus adjacent-token pairs that occur verbatim in
        # the text: new failure modes are often two known words jieba keeps apart (充电仓 + 断连).
        sources["word"] = ("""SELECT grp, doc_id, created_at, term AS name FROM (
            SELECT grp, doc_id, created_at, unnest(list_distinct(list_concat(
                list_filter(tokens, lambda t: length(t) >= 2),
                list_filter(list_transform(range(1, len(tokens)),
                                           lambda i: tokens[i] || tokens[i + 1]),
                            lambda b: contains(text, b))))) AS term
            FROM d WHERE is_complaint AND tokens IS NOT NULL AND created_at >= ?)
            WHERE term NOT IN (SELECT unnest(?::VARCHAR[]))
              AND NOT regexp_full_match(term, '[0-9.,:%-]+')""",
                           [windows["word"][1].to_pydatetime(), exclude])
    parts, args, totals = [], [], []
    for kind, (start, base, periods) in windows.items():
        source, source_args = sources[kind]
        parts.append(f"""
            SELECT grp, '{kind}' AS kind, name, count(*) FILTER (WHERE created_at >= ?) AS count,
                   count(*) FILTER (WHERE created_at >= ? AND created_at < ?) AS baseline_count,
                   {periods} AS periods
            FROM ({source}) WHERE name IS NOT NULL GROUP BY grp, name
            HAVING count(*) FILTER (WHERE created_at >= ?) >= ?""")
        args += [start.to_pydatetime(), base.to_pydatetime(), start.to_pydatetime(), *source_args,
                 base.to_pydatetime(), support[kind]]
        totals.append(f"SELECT grp, '{kind}' AS kind, "
                      f"count(*) FILTER (WHERE created_at >= '{start}') AS n, "
                      f"count(*) FILTER (WHERE created_at >= '{base}' AND created_at < '{start}') "
                      f"AS baseline_n FROM d GROUP BY grp")
    head = (f"WITH d AS MATERIALIZED (SELECT grp, doc_id, created_at, text, tokens, is_complaint, "
            f"aspects, topic_id, topic_label FROM ({docs}) WHERE created_at >= ? AND created_at < ?)")
    frame = ws.query(f"""{head},
        c AS ({' UNION ALL '.join(parts)}),
        t AS ({' UNION ALL '.join(totals)})
        SELECT c.*, t.n, t.baseline_n FROM c JOIN t USING (grp, kind)""",
        params + [lo.to_pydatetime(), end.to_pydatetime()] + args)
    for kind, name in (("aspect", aspect), ("topic", topic)):
        if name:
            frame = frame[(frame["kind"] != kind) | (frame["name"] == name)]
    return frame


def _drop_word_parts(found: pd.DataFrame) -> pd.DataFrame:
    """One new thing, one line: a word pair and its parts are not all listed.

    When the pair accounts for (nearly) all uses of a part, the pair names it best (充电仓断连,
    not 充电仓 and 断连); when the part is used well beyond the pair, the part is the news.
    """
    words = found[found["kind"] == "word"]
    counts = {(g, w): c for g, w, c in zip(words["grp"], words["name"], words["count"], strict=True)}
    drop = set()
    for (grp, pair), n_pair in counts.items():
        for (other, part), n_part in counts.items():
            if other == grp and part != pair and (pair.startswith(part) or pair.endswith(part)):
                drop.add((grp, part) if n_pair >= 0.8 * n_part else (grp, pair))
    keys = list(zip(found["grp"], found["name"], strict=True))
    redundant = np.array([(k == "word" and key in drop) for k, key in zip(found["kind"], keys, strict=True)],
                         dtype=bool)
    return found.loc[~redundant]


def _examples(ws: Workspace, docs: str, params: list[Any], found: pd.DataFrame,
              windows: dict[str, tuple[pd.Timestamp, pd.Timestamp, int]], end: pd.Timestamp,
              k: int) -> list[list[dict[str, Any]]]:
    """The latest k complaints (masked text) behind each reported item."""
    if found.empty or k <= 0:
        return [[] for _ in range(len(found))]
    names = {kind: sorted(set(found.loc[found["kind"] == kind, "name"])) for kind in windows}
    starts = {kind: windows[kind][0].to_pydatetime() for kind in windows}
    frame = ws.query(f"""
        WITH d AS ({docs}),
        hits AS (
            SELECT grp, 'aspect' AS kind, a.aspect AS name, doc_id, created_at,
                   a.evidence AS evidence, text
            FROM (SELECT grp, doc_id, created_at, text, unnest(aspects) AS a FROM d
                  WHERE created_at >= ?)
            WHERE a.polarity = 'negative' AND list_contains(?, a.aspect)
            UNION ALL
            SELECT grp, 'topic', coalesce(topic_label, 'topic ' || topic_id), doc_id, created_at,
                   NULL, text
            FROM d WHERE created_at >= ? AND is_complaint
                AND list_contains(?, coalesce(topic_label, 'topic ' || topic_id))
            UNION ALL
            SELECT grp, 'word', w.name, doc_id, created_at, NULL, text
            FROM d, (SELECT unnest(?::VARCHAR[]) AS name) w
            WHERE d.created_at >= ? AND is_complaint AND contains(d.text, w.name)),
        ranked AS (SELECT DISTINCT ON (grp, kind, name, doc_id) * FROM hits WHERE created_at < ?)
        SELECT grp, kind, name, doc_id, created_at, left(text, 120) AS text, evidence FROM (
            SELECT *, row_number() OVER (PARTITION BY grp, kind, name
                                         ORDER BY created_at DESC, doc_id) AS rn FROM ranked)
        WHERE rn <= ? ORDER BY grp, kind, name, created_at DESC
    """, params + [starts["aspect"], names.get("aspect", []), starts["topic"],
                   names.get("topic", []), names.get("word", []),
                   starts.get("word", starts["aspect"]), end.to_pydatetime(), k])
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in frame.itertuples(index=False):
        item = {"doc_id": row.doc_id, "created_at": pd.Timestamp(row.created_at).isoformat(sep=" "),
                "text": row.text}
        if isinstance(row.evidence, str):
            item["evidence"] = row.evidence
        grouped.setdefault((row.grp, row.kind, row.name), []).append(item)
    return [grouped.get(key, []) for key in
            zip(found["grp"], found["kind"], found["name"], strict=True)]


def _first_seen(ws: Workspace, docs: str, params: list[Any], found: pd.DataFrame) -> list[Any]:
    """For new words: the day of the first complaint that used the word (in the whole scope)."""
    words = sorted(set(found.loc[found["kind"] == "word", "name"]))
    if not words:
        return [None] * len(found)
    frame = ws.query(f"""
        SELECT d.grp, w.name, min(d.created_at) AS first_seen
        FROM ({docs}) d, (SELECT unnest(?::VARCHAR[]) AS name) w
        WHERE d.is_complaint AND contains(d.text, w.name) GROUP BY 1, 2
    """, params + [words])
    seen = {(g, n): f"{pd.Timestamp(t):%Y-%m-%d}"
            for g, n, t in zip(frame["grp"], frame["name"], frame["first_seen"], strict=True)}
    return [seen.get((g, n)) if k == "word" else None
            for g, k, n in zip(found["grp"], found["kind"], found["name"], strict=True)]


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain JSON values: no NaN/inf/NaT, timestamps as text, arrays as lists.

    This is the shape of `textmine trends --rising --json` (the contract in DESIGN.md).
    """
    return [{key: _plain(value) for key, value in rec.items()}
            for rec in frame.to_dict(orient="records")]


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    return value
