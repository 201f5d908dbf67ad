"""`textmine analyze`: files into the workspace, every row counted."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json, progress_bar, resolve_workspace

ANALYZE_HELP = """Load review or chat exports, clean and mask them, segment, score sentiment and
store the results in the workspace. Every input row is stored, counted as a duplicate, or
rejected with a reason (in = stored + duplicates + rejected).

Example:

    textmine analyze 评论导出.csv --text-col 评论内容 --customer-col 用户ID --json
"""


def register(app: typer.Typer) -> None:
    @app.command("analyze", help=ANALYZE_HELP)
    @handle_errors
    def analyze_cmd(
        files: list[str] = typer.Argument(..., help="Files, globs or folders (.csv .tsv .txt .xlsx .json .jsonl .parquet); with --engine spark also table:db.name and Parquet URIs (hdfs://, s3a://)."),
        kind: str = typer.Option("reviews", "--kind", "-k", help="reviews or chats."),
        workspace: str = typer.Option(None, "--workspace", "-w", help="DuckDB workspace file (default ./textmine.duckdb)."),
        text_col: str = typer.Option(None, "--text-col", help="Column with the text (e.g. 评论内容)."),
        id_col: str = typer.Option(None, "--id-col", help="Column with a document ID (e.g. 评论ID)."),
        customer_col: str = typer.Option(None, "--customer-col", help="Customer ID column (e.g. 用户ID)."),
        time_col: str = typer.Option(None, "--time-col", help="Time column (e.g. 评论时间)."),
        rating_col: str = typer.Option(None, "--rating-col", help="Star rating column (e.g. 评分)."),
        product_col: str = typer.Option(None, "--product-col", help="Product/SKU column (e.g. 商品)."),
        channel_col: str = typer.Option(None, "--channel-col", help="Channel column (e.g. 渠道)."),
        order_col: str = typer.Option(None, "--order-col", help="Order ID column (e.g. 订单号)."),
        session_col: str = typer.Option(None, "--session-col", help="Chat session column (e.g. 会话ID)."),
        role_col: str = typer.Option(None, "--role-col", help="Chat speaker column (e.g. 角色)."),
        lexicons: str = typer.Option(None, "--lexicons", help="Folder of lexicon files layered over ours."),
        model: str = typer.Option(None, "--model", help="Sentiment model: default, snownlp, lexicon or a saved model path."),
        encoding: str = typer.Option(None, "--encoding", help="Force an encoding (utf-8, gb18030 …); detected by default."),
        rejects: str = typer.Option(None, "--rejects", help="Also write this run's rejects to a file (.csv .xlsx .jsonl .parquet)."),
        batch_size: int = typer.Option(None, "--batch-size", help="Rows per batch (default 5000)."),
        workers: int = typer.Option(None, "--workers", help="Worker processes (default 2, one per core)."),
        max_chars: int = typer.Option(None, "--max-chars", help="Reject texts longer than this (default 20000)."),
        engine: str = typer.Option("local", "--engine", help="local (default) or spark."),
        master: str = typer.Option("local[*]", "--master", help="Spark master (with --engine spark)."),
        output: str = typer.Option(None, "--output", help="Output folder (with --engine spark)."),
        json_out: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        from textmine.analyze import analyze, expand_paths
        from textmine.config import load_config

        columns = {"text": text_col, "doc_id": id_col, "customer_id": customer_col,
                   "created_at": time_col, "rating": rating_col, "product": product_col,
                   "channel": channel_col, "order_id": order_col, "session_id": session_col,
                   "role": role_col}
        config = load_config(workspace=resolve_workspace(workspace), lexicons=lexicons,
                             sentiment_model=model, batch_size=batch_size, workers=workers,
                             max_chars=max_chars)
        if engine == "spark":
            from textmine.errors import TextmineError

            try:
                from textmine.spark import analyze_spark
            except ModuleNotFoundError as exc:
                raise TextmineError("E020", "the Spark engine is not installed",
                                    fix="pip install 'textmine[spark]'") from exc
            if not output:
                raise TextmineError("E015", "--engine spark needs --output DIR",
                                    fix="Add --output DIR for the Parquet results.")
            result = analyze_spark(files, kind=kind, config=config, columns=columns,
                                   master=master, output=output, encoding=encoding,
                                   rejects_path=rejects)
        elif engine != "local":
            from textmine.errors import TextmineError

            raise TextmineError("E015", f"--engine {engine}", fix="Use --engine local or spark.")
        else:
            with progress_bar(not quiet and not json_out) as progress:
                result = analyze(expand_paths(files), kind=kind, config=config, columns=columns,
                                 encoding=encoding, rejects_path=rejects, progress=progress,
                                 args={"files": files, "kind": kind})
        if json_out:
            print_json(result.to_dict())
            return
        typer.echo(result.summary_line())
        for reason, count in result.rejected_by_reason.items():
            typer.echo(f"  rejected {count:,}: {reason}")
        where = output if engine == "spark" else config.workspace
        typer.echo(f"workspace: {where} (run {result.run_id}, {result.seconds:.1f}s)")
        if rejects:
            typer.echo(f"rejects written to {rejects}")
