"""`textmine lexicons show`: what word lists are in force."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Inspect the lexicons (shipped, plus --lexicons DIR).", no_args_is_help=True)
    app.add_typer(group, name="lexicons")

    @group.command("show", help="Counts per lexicon file, the folders layered, and the digest recorded in runs.\n\nExample:\n\n    textmine lexicons show --lexicons 我们的词典/")
    @handle_errors
    def show_cmd(
        lexicons: str = typer.Option(None, "--lexicons", help="A user folder layered over ours."),
        word: str = typer.Option(None, "--word", help="Show every entry that mentions this word."),
        json_out: bool = typer.Option(False, "--json", help="Print as JSON."),
    ) -> None:
        from textmine.config import load_config
        from textmine.lexicons import load_lexicons

        lex = load_lexicons(lexicons or load_config().lexicons)
        info = lex.summary()
        if word:
            info["word"] = {
                "userdict": lex.userdict.get(word), "synonym_of": lex.synonyms.get(word),
                "stopword": word in lex.stopwords, "filler": word in lex.filler,
                "sentiment": lex.sentiment.get(word), "degree": lex.degree.get(word),
                "negation": word in lex.negations, "contrast": word in lex.contrast,
                "aspect": lex.aspect_of.get(word),
            }
        if json_out:
            print_json(info)
            return
        typer.echo("folders: " + " → ".join(info["sources"]))
        typer.echo(f"digest:  {info['digest']}")
        for name, count in info["counts"].items():
            typer.echo(f"  {name:<11} {count:>6,}")
        if word:
            typer.echo(f"{word}: " + ", ".join(f"{k}={v}" for k, v in info["word"].items()
                                                if v not in (None, False)))
