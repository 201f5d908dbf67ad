"""`textmine demo`: the whole pipeline on the bundled corpora, with a short printed summary."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textmine.analyze import analyze
from textmine.config import Config
from textmine.errors import TextmineError
from textmine.lexicons import load_lexicons
from textmine.workspace import Workspace, open_workspace

Echo = Callable[[str], None]


def top_complaint_words(ws: Workspace, filler: frozenset[str] | set[str], n: int = 10) -> list[tuple[str, int]]:
    """Most frequent words in complaint documents, without filler/function words or single characters."""
    rows = ws.con.execute("""
        SELECT word, count(*) AS n FROM (
            SELECT unnest(tokens) AS word FROM documents
            WHERE is_complaint AND coalesce(role, 'customer') = 'customer')
        WHERE length(word) > 1 GROUP BY word ORDER BY n DESC, word LIMIT ?
    """, [n + len(filler)]).fetchall()
    return [(w, int(c)) for w, c in rows if w not in filler][:n]


def sentiment_split(ws: Workspace) -> dict[str, int]:
    rows = ws.con.execute("""
        SELECT polarity, count(*) FROM documents
        WHERE coalesce(role, 'customer') = 'customer' GROUP BY 1 ORDER BY 1
    """).fetchall()
    return {str(p): int(c) for p, c in rows}


def customers_and_trends(corpora: Path, workspace: Path, out_dir: Path, echo: Echo) -> dict[str, Any]:
    """Import the CRM export and orders, print who to call back and what is rising."""
    from textmine.customers import follow_up_list, import_customers, write_follow_up
    from textmine.trends import json_records, rising

    orders = corpora / "orders.csv"
    result = import_customers(workspace, corpora / "customers.csv",
                              orders if orders.exists() else None).to_dict()
    crm, match = result["customers"], result["matching"]
    echo(f"customers in {crm['in']} · stored {crm['stored']} · duplicates {crm['duplicates']}"
         f" · reviewers not in CRM {match['document_customers_not_in_crm']['count']}"
         f" · CRM customers never in contact {match['crm_customers_without_documents']['count']}")
    follow = follow_up_list(workspace, top=50)
    write_follow_up(follow, out_dir / "follow_up.xlsx")
    echo("follow-up (top 5 of the last 30 days):")
    for row in follow.head(5).itertuples(index=False):
        echo(f"  {row.rank}. {row.customer_id}  {row.reason}")
    found = rising(workspace, "week")
    for kind, title in (("aspect", "rising aspects"), ("topic", "rising topics"),
                        ("word", "new words")):
        items = found[found["kind"] == kind]
        if len(items):
            echo(f"{title}: " + ", ".join(
                f"{r.name} {r.share:.0%} ({r.count}/{r.n}) vs {r.baseline_share:.0%}"
                for r in items.itertuples(index=False)))
    echo(f"follow-up list: {out_dir / 'follow_up.xlsx'}  (try: textmine trends --rising -w {workspace})")
    return {"import": result, "follow_up": json_records(follow.head(10)),
            "rising": json_records(found)}


def complaint_topics(workspace: Path, echo: Echo) -> dict[str, Any]:
    """Fit complaint topics (K chosen among a few: the corpora are small) and print their labels."""
    from textmine.topics.workflow import fit_topics

    fitted = fit_topics(workspace, k="auto", k_range=(4, 5, 6), passes=5)
    echo(f"topics    K={fitted['k']} · coherence {fitted['coherence']:.2f} · "
         + fitted["selection"]["reason"].split(";")[0])
    labels = [{"topic_id": int(r.topic_id), "label": r.label, "share": round(float(r.share), 3)}
              for r in fitted["table"].itertuples()]
    for row in labels:
        echo(f"  {row['share']:6.1%}  [{row['topic_id']}] {row['label']}")
    echo(f"          (try: textmine topics show -w {workspace})")
    return {"version": int(fitted["version"]), "k": int(fitted["k"]), "topics": labels}


def run_demo(corpora: str | Path = "corpora", workspace: str | Path = "out/demo.duckdb",
             out_dir: str | Path = "out", echo: Echo = print,
             config: Config | None = None) -> dict[str, Any]:
    """Analyze the bundled corpora into a fresh workspace and print what a lead would ask first."""
    corpora, out_dir = Path(corpora), Path(out_dir)
    review_files = sorted(corpora.glob("reviews*.csv"))
    if not review_files:
        raise TextmineError("E001", "no reviews*.csv", where=str(corpora),
                            fix="Run the demo from the repository root (make demo).")
    workspace = Path(workspace)
    for stale in (workspace, Path(f"{workspace}.wal")):
        stale.unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = (config or Config()).with_overrides(workspace=str(workspace))
    summary: dict[str, Any] = {"workspace": str(workspace)}

    result = analyze(review_files, kind="review", config=config, command="demo")
    summary["reviews"] = result.to_dict()
    echo(f"reviews   {result.summary_line()}")
    for reason, count in result.rejected_by_reason.items():
        echo(f"          rejected {count}: {reason}")

    chat_files = sorted(corpora.glob("chats*.csv")) + sorted(corpora.glob("chats*.json"))
    if chat_files:
        chats = analyze(chat_files, kind="chat", config=config, command="demo")
        summary["chats"] = chats.to_dict()
        sessions = chats.extra.get("sessions", {})
        echo(f"chats     {chats.summary_line()}")
        echo(f"sessions  {sessions.get('sessions', 0)} · escalated {sessions.get('escalated', 0)}"
             f" · ended badly {sessions.get('ended_badly', 0)}"
             f" · repeat contacts {sessions.get('repeat_contacts', 0)}"
             f" · no customer turn {sessions.get('no_customer_turn', 0)}"
             f"  (try: textmine sessions list --bad -w {workspace})")

    with open_workspace(workspace, read_only=True) as ws:
        split = sentiment_split(ws)
        lex = load_lexicons(config.lexicons)
        # Negations, degree and contrast words are kept in tokens for sentiment, but they are
        # not what people complain about.
        words = top_complaint_words(ws, lex.filler | lex.negations | lex.contrast | set(lex.degree))
    summary["sentiment_split"] = split
    summary["top_complaint_words"] = words
    total = sum(split.values()) or 1
    echo("sentiment " + " · ".join(f"{p} {c} ({c / total:.0%})" for p, c in split.items()))
    echo("top complaint words: " + ", ".join(f"{w} {c}" for w, c in words))
    echo(f"workspace: {workspace}  (try: textmine sql -w {workspace} "
         "\"SELECT product, count(*) FROM documents GROUP BY 1\")")

    summary["topics"] = complaint_topics(workspace, echo)

    if (corpora / "customers.csv").exists():
        summary["customers"] = customers_and_trends(corpora, workspace, out_dir, echo)

    # Keep this last: the report shows whatever the steps above put in the workspace.
    from textmine.report import build_report

    with open_workspace(workspace, read_only=True) as ws:
        report = build_report(ws, out_dir / "report.html", xlsx_path=out_dir / "report.xlsx",
                              command=f"textmine demo --corpora {corpora} --out {out_dir}")
    summary["report"] = report.to_dict()
    echo(f"excel:  {report.xlsx}")
    echo(f"report: {report.html}")
    return summary
