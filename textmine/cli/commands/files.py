"""File-to-file commands: `textmine segment` and `textmine sentiment` (no workspace needed)."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json

SEGMENT_HELP = """Add a `tokens` column (jieba words after stopwords and synonyms) to a file.

The text column is written back cleaned and PII-masked (use --no-mask to keep it as given).

Example:

    textmine segment 评论.csv -o 评论_分词.parquet --text-col 评论内容
"""

SENTIMENT_HELP = """Add `sentiment` (0..1, probability of positive) and `polarity` to a file.

OUT keeps every input column; the text column is written back cleaned and PII-masked
(use --no-mask to keep it as given).

Example:

    textmine sentiment 评论.xlsx -o 评论_情感.xlsx --text-col 评论内容 --model snownlp
"""


def register(app: typer.Typer) -> None:
    @app.command("segment", help=SEGMENT_HELP)
    @handle_errors
    def segment_cmd(
        file: str = typer.Argument(..., help="Input file."),
        out: str = typer.Option(..., "--out", "-o", help="Output file (.parquet .csv .xlsx .jsonl)."),
        text_col: str = typer.Option(None, "--text-col", help="Column with the text."),
        lexicons: str = typer.Option(None, "--lexicons", help="Folder of lexicon files layered over ours."),
        no_mask: bool = typer.Option(False, "--no-mask", help="Keep the original text column."),
        json_out: bool = typer.Option(False, "--json", help="Print counts as JSON."),
    ) -> None:
        from textmine.config import load_config
        from textmine.filejobs import segment_file

        config = load_config(lexicons=lexicons)
        counts = segment_file(file, out, text_col=text_col, config=config, mask=not no_mask)
        _report(counts, out, json_out)

    @app.command("sentiment", help=SENTIMENT_HELP)
    @handle_errors
    def sentiment_cmd(
        file: str = typer.Argument(..., help="Input file."),
        out: str = typer.Option(..., "--out", "-o", help="Output file (.parquet .csv .xlsx .jsonl)."),
        text_col: str = typer.Option(None, "--text-col", help="Column with the text."),
        model: str = typer.Option(None, "--model", help="default, snownlp, lexicon, or a saved model path."),
        lexicons: str = typer.Option(None, "--lexicons", help="Folder of lexicon files layered over ours."),
        no_mask: bool = typer.Option(False, "--no-mask", help="Keep the original text column."),
        json_out: bool = typer.Option(False, "--json", help="Print counts as JSON."),
    ) -> None:
        from textmine.config import load_config
        from textmine.filejobs import sentiment_file

        config = load_config(lexicons=lexicons, sentiment_model=model)
        counts = sentiment_file(file, out, text_col=text_col, config=config, mask=not no_mask)
        _report(counts, out, json_out)


def _report(counts: dict, out: str, json_out: bool) -> None:
    if json_out:
        print_json(counts)
        return
    typer.echo(f"in {counts['in']:,} · written {counts['written']:,} · "
               f"empty text {counts['empty']:,} (kept, no score)")
    typer.echo(f"wrote {out}")
