"""`textmine trends`: volume, complaint share and sentiment per period; `--rising` for what moved."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

TRENDS_HELP = """Volume, complaints (share with its n) and mean sentiment per day, week or month.

--group splits by product, channel, kind, aspect or topic; --aspect/--topic follow one of them
(complaints about it as a share of all documents in the period). --rising lists aspects and
topics whose complaint share in the latest period is significantly above the trailing baseline
(Fisher exact test, Benjamini–Hochberg), and new words in complaints, strongest first.

Examples:

    textmine trends --by week --aspect 物流

    textmine trends --rising --json

    textmine trends --by month --group channel --product 无线耳机 --format csv
"""


def _percent(share: object, count: object, n: object) -> str:
    if n is None or n != n or not n:
        return "–"
    return f"{share:.1%} ({int(count)}/{int(n)})"


def _print_table(frame, columns: list[str]) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    with pd.option_context("display.max_columns", 50, "display.width", 200,
                           "display.max_colwidth", 60, "display.unicode.east_asian_width", True):
        typer.echo(frame[columns].to_string(index=False))


def register(app: typer.Typer) -> None:
    @app.command("trends", help=TRENDS_HELP)
    @handle_errors
    def trends_cmd(
        by: str = typer.Option("week", "--by", help="day, week or month."),
        group: str = typer.Option(None, "--group", help="product, channel, kind, aspect or topic."),
        topic: str = typer.Option(None, "--topic", help="One complaint topic (label or ID)."),
        aspect: str = typer.Option(None, "--aspect", help="One aspect (e.g. 物流)."),
        product: str = typer.Option(None, "--product", help="Only this product."),
        channel: str = typer.Option(None, "--channel", help="Only this channel (e.g. 天猫)."),
        kind: str = typer.Option(None, "--kind", help="Only review or chat."),
        since: str = typer.Option(None, "--since", help="From this date (e.g. 2026-09-01)."),
        until: str = typer.Option(None, "--until", help="Up to and including this date."),
        rising: bool = typer.Option(False, "--rising", help="List what rose in the latest period."),
        baseline: int = typer.Option(12, "--baseline", help="--rising: trailing periods compared with."),
        alpha: float = typer.Option(0.05, "--alpha", help="--rising: false discovery rate for aspects and topics."),
        min_count: int = typer.Option(5, "--min-count", help="--rising: complaints needed in the latest period."),
        no_words: bool = typer.Option(False, "--no-words", help="--rising: skip new words."),
        fmt: str = typer.Option("table", "--format", "-f", help="table, csv or json."),
        json_out: bool = typer.Option(False, "--json", help="Same as --format json."),
        out: str = typer.Option(None, "--out", "-o", help="Also write the result (.csv .xlsx .parquet .jsonl)."),
        workspace: str = workspace_option(),
    ) -> None:
        from textmine.errors import TextmineError
        from textmine.trends import RisingRules, json_records

        if fmt not in ("table", "csv", "json"):
            raise TextmineError("E015", f"--format {fmt}", fix="Use table, csv or json.")
        fmt = "json" if json_out else fmt
        ws = resolve_workspace(workspace)
        if rising:
            from textmine.trends import rising as find_rising

            frame = find_rising(ws, by, rules=RisingRules(baseline=baseline, alpha=alpha,
                                                          min_count=min_count),
                                group=group, aspect=aspect, topic=topic, product=product, channel=channel,
                                kind=kind, since=since, until=until, words=not no_words)
        else:
            from textmine.trends import trends

            frame = trends(ws, by, group=group, aspect=aspect, topic=topic, product=product,
                           channel=channel, kind=kind, since=since, until=until)
            frame["period"] = frame["period"].dt.strftime("%Y-%m-%d")
        if out:
            from textmine.export import write_frame

            write_frame(frame, out, sheet="trends")
        if fmt == "json":
            print_json(json_records(frame))
        elif fmt == "csv":
            from textmine.export import flatten

            typer.echo(flatten(frame).to_csv(index=False), nl=False)
        elif rising:
            _print_rising(frame)
        else:
            _print_trends(frame)

    def _print_rising(frame) -> None:  # type: ignore[no-untyped-def]
        if frame.empty:
            typer.echo("nothing rose significantly in the latest period")
            return
        shown = frame.copy()
        shown["now"] = [_percent(s, c, n) for s, c, n in
                        zip(shown["share"], shown["count"], shown["n"], strict=True)]
        shown["before"] = [_percent(s, c, n) for s, c, n in
                           zip(shown["baseline_share"], shown["baseline_count"],
                               shown["baseline_n"], strict=True)]
        shown["lift"] = shown["lift"].map(lambda v: "new" if v == float("inf") else f"×{v:.1f}")
        shown["+/period"] = shown["excess"].map(lambda v: f"+{v:.1f}")
        shown["q"] = shown["q_value"].map(lambda v: f"{v:.2g}")
        shown["example"] = shown["examples"].map(
            lambda ex: (ex[0]["text"][:40] if ex else ""))
        grouped = [c for c in ("product", "channel") if c in shown.columns]
        _print_table(shown, [*grouped, "kind", "name", "period", "now", "before", "lift",
                             "+/period", "q", "example"])

    def _print_trends(frame) -> None:  # type: ignore[no-untyped-def]
        if frame.empty:
            typer.echo("no documents match (check --since/--until and the filters)")
            return
        shown = frame.copy()
        for share, count in (("complaint_share", "complaints"), ("negative_share", "negative"),
                             ("share", "complaints")):
            if share in shown:
                shown[share] = [_percent(s, c, n) for s, c, n in
                                zip(shown[share], shown[count], shown["n"], strict=True)]
        for col in ("mean_sentiment", "mean_score"):
            if col in shown:
                shown[col] = shown[col].map(lambda v: "–" if v != v else f"{v:.2f}")
        _print_table(shown, list(shown.columns))
