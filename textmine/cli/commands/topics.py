"""`textmine topics fit|show|apply|rename`: complaint topics stored with the workspace."""

from __future__ import annotations

from typing import Any

import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

HELP = """Complaint topics: what people complain about, in words you can repeat in a meeting.

`fit` learns topics from the complaint documents (LDA tuned for short Chinese texts, K chosen
by coherence and stability), `show` prints them, `apply` assigns new documents to the same
topics without refitting, `rename` fixes a label by hand.

Example:

    textmine analyze 评论.csv && textmine topics fit --k auto && textmine topics show
"""

FIT_HELP = """Fit a topic model on the workspace's complaints and assign every complaint to a topic.

Complaints are negative or complaint-intent documents; in chats only customers' turns. The
model is stored in the workspace as a new version and becomes current: later `analyze` runs
assign new documents to its topics automatically. Topics whose words match a renamed topic
of the previous version keep its label.

Example:

    textmine topics fit --k auto --since 2026-08-01 --product 蓝牙耳机 --json
"""

SHOW_HELP = """Print the topics of the current model: label, share of complaints, words, products,
aspects and representative (masked) quotes.

Example:

    textmine topics show            # 物流、快递、太慢  24.1%  …
"""

APPLY_HELP = """Assign documents to the current model's topics without refitting (trends stay
comparable week to week). By default only documents this model has not assigned yet.

Example:

    textmine analyze 第46周评论.csv && textmine topics apply --json
"""

RENAME_HELP = """Give a topic your own label; it survives `apply` and later `analyze` runs.

Example:

    textmine topics rename 3 "耳机充电仓断连"
"""


def _parse_k(k: str) -> int | str:
    from textmine.errors import TextmineError

    if k.strip().lower() == "auto":
        return "auto"
    if k.strip().isdigit() and int(k) >= 2:
        return int(k)
    raise TextmineError("E015", f"--k {k}", fix="Use --k auto or a whole number ≥ 2, e.g. --k 10.")


def _parse_range(text: str) -> tuple[int, ...]:
    from textmine.errors import TextmineError

    try:
        values = tuple(sorted({int(v) for v in text.replace(" ", "").split(",") if v}))
    except ValueError:
        values = ()
    if not values or min(values) < 2:
        raise TextmineError("E015", f"--k-range {text}", fix="Give K values ≥ 2, e.g. 8,10,12,14.")
    return values


def _print_topics(table: Any, summary: dict[str, Any]) -> None:
    reason = summary["selection"].get("reason") or f"K={summary['k']} given"
    stability = summary.get("stability")
    typer.echo(f"topic model v{summary['version']} · {summary['engine']} · K={summary['k']} · "
               f"{summary['n_docs']:,} documents · coherence (NPMI) {summary['coherence']:.3f}"
               + (f" · stability {stability:.0%}" if stability is not None else ""))
    typer.echo(f"why this K: {reason}")
    for row in table.itertuples():
        extras = []
        if len(row.top_products):
            extras.append("products: " + ", ".join(row.top_products))
        if len(row.top_aspects):
            extras.append("aspects: " + ", ".join(row.top_aspects))
        typer.echo(f"\n[{row.topic_id}] {row.label}  {row.share:.1%} ({row.n_docs:,})")
        typer.echo("    words: " + " ".join(row.words[:8]))
        if extras:
            typer.echo("    " + " · ".join(extras))
        for quote in row.quotes:
            typer.echo(f"    “{quote}”")


def _table_json(table: Any) -> list[dict[str, Any]]:
    out = []
    for rec in table.to_dict(orient="records"):
        out.append({k: (list(v) if hasattr(v, "tolist") else v) for k, v in rec.items()})
    return out


def register(app: typer.Typer) -> None:
    topics_app = typer.Typer(help=HELP, no_args_is_help=True)
    app.add_typer(topics_app, name="topics")

    @topics_app.command("fit", help=FIT_HELP)
    @handle_errors
    def fit_cmd(
        workspace: str = workspace_option(),
        k: str = typer.Option("auto", "--k", help="Number of topics, or auto."),
        k_range: str = typer.Option("8,10,12,14,16", "--k-range",
                                    help="Candidate K values for --k auto."),
        on: str = typer.Option("complaints", "--on", help="complaints or all documents."),
        product: str = typer.Option(None, "--product", help="Only this product."),
        since: str = typer.Option(None, "--since", help="Only documents from this date on."),
        sample: int = typer.Option(None, "--sample", help="Fit on a stable random sample of N documents (large or Spark workspaces); all are assigned."),
        engine: str = typer.Option("gensim", "--engine", help="gensim (default) or tomotopy."),
        seed: int = typer.Option(0, "--seed", help="Random seed: same data + seed = same topics."),
        passes: int = typer.Option(10, "--passes", help="Passes over the documents per fit."),
        lexicons: str = typer.Option(None, "--lexicons", help="Your lexicon folder over ours."),
        json_out: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        from textmine.config import load_config
        from textmine.lexicons import load_lexicons
        from textmine.topics.workflow import fit_topics

        config = load_config(lexicons=lexicons)
        summary = fit_topics(
            resolve_workspace(workspace), k=_parse_k(k), k_range=_parse_range(k_range), on=on,
            product=product, since=since, sample=sample, engine=engine, seed=seed,
            passes=passes, lexicons=load_lexicons(config.lexicons))
        if json_out:
            print_json({**{key: v for key, v in summary.items() if key != "table"},
                        "topics": _table_json(summary["table"])})
        else:
            _print_topics(summary["table"], summary)

    @topics_app.command("show", help=SHOW_HELP)
    @handle_errors
    def show_cmd(
        workspace: str = workspace_option(),
        version: int = typer.Option(None, "--version", help="A model version (default: current)."),
        json_out: bool = typer.Option(False, "--json", help="Print the topics as JSON."),
    ) -> None:
        from textmine.topics import store
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace), read_only=True) as ws:
            summary = store.model_summary(ws, version)
            table = store.topic_table(ws, summary["version"])
        if json_out:
            print_json({**summary, "topics": _table_json(table)})
        else:
            _print_topics(table, summary)

    @topics_app.command("apply", help=APPLY_HELP)
    @handle_errors
    def apply_cmd(
        workspace: str = workspace_option(),
        everything: bool = typer.Option(False, "--all", help="Re-assign every document, not only new ones."),
        since: str = typer.Option(None, "--since", help="Only documents from this date on."),
        json_out: bool = typer.Option(False, "--json", help="Print counts as JSON."),
    ) -> None:
        from textmine.topics import store
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace)) as ws:
            result = store.apply_model(ws, everything=everything, since=since)
            store.summarise(ws, result["version"])
        if json_out:
            print_json(result)
            return
        typer.echo(f"assigned {result['assigned']:,} documents to the topics of model "
                   f"v{result['version']}")
        for label, n in result["by_topic"].items():
            typer.echo(f"  {n:>7,}  {label}")

    @topics_app.command("rename", help=RENAME_HELP)
    @handle_errors
    def rename_cmd(
        topic_id: int = typer.Argument(..., help="Topic id (see `textmine topics show`)."),
        label: str = typer.Argument(..., help="The new label."),
        workspace: str = workspace_option(),
        version: int = typer.Option(None, "--version", help="A model version (default: current)."),
    ) -> None:
        from textmine.topics import store
        from textmine.workspace import open_workspace

        with open_workspace(resolve_workspace(workspace)) as ws:
            version = store.rename_topic(ws, topic_id, label, version)
        typer.echo(f"topic {topic_id} of model v{version} is now “{label.strip()}”")
