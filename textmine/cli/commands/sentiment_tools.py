"""`textmine evaluate sentiment` and `textmine train sentiment`: measure and build models."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json

EVALUATE_HELP = """Score a labeled file with a sentiment model and print accuracy, macro-F1, ROC-AUC.

Labels may be 0/1, neg/pos, negative/positive or 负面/正面; other values are skipped.
docs/s covers cleaning, segmentation and scoring.

Example:

    textmine evaluate sentiment 标注评论.csv --text-col 评论内容 --label-col 情感 --model snownlp
"""

TRAIN_HELP = """Train a sentiment model (TF-IDF word + character n-grams, logistic regression,
calibrated) from labeled rows or from star ratings, and save it as one file.

With --rating-col, stars <= --negative-max are negative, stars >= --positive-min positive and
the middle is left out. Use the saved file anywhere with --model PATH. --hidden 32 fits a
small network on the same n-grams instead of the logistic regression (more accurate on tens of
thousands of rows, a few times slower to train, a larger file); with it, --bits 22 (four times
the hashed buckets, fewer n-grams sharing one) helped on 40,000 shopping reviews.

With --self-train MODEL and no labels at all, MODEL (e.g. default) labels the file's texts and
its most confident rows of each class (--confident-share, half by default) train a model that
learns the new domain's own words; the saved model averages its score with MODEL's.

Examples:

    textmine train sentiment 评论导出.csv --text-col 评论内容 --rating-col 评分 -o 我的模型.npz
    textmine train sentiment 外卖评论.csv --text-col 评论内容 --self-train default -o 外卖.npz
"""


def register(app: typer.Typer) -> None:
    evaluate = typer.Typer(help="Measure a model on labeled data.", no_args_is_help=True)
    train = typer.Typer(help="Train a model from your own data.", no_args_is_help=True)
    app.add_typer(evaluate, name="evaluate")
    app.add_typer(train, name="train")

    @evaluate.command("sentiment", help=EVALUATE_HELP)
    @handle_errors
    def evaluate_sentiment(
        file: str = typer.Argument(..., help="Labeled file (.csv .xlsx .jsonl .parquet …)."),
        text_col: str = typer.Option(None, "--text-col", help="Column with the text (e.g. 评论内容)."),
        label_col: str = typer.Option(..., "--label-col", help="Column with 0/1 or 负面/正面 labels."),
        model: str = typer.Option(None, "--model", help="default, snownlp, lexicon or a saved model path."),
        lexicons: str = typer.Option(None, "--lexicons", help="Folder of lexicon files layered over ours."),
        json_out: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    ) -> None:
        from textmine.config import load_config
        from textmine.sentiment.evaluate import evaluate_file

        config = load_config(lexicons=lexicons)
        result = evaluate_file(file, text_col, label_col, model=model, config=config)
        if json_out:
            print_json(result)
            return
        typer.echo(f"model {result['model']} ({result['model_version']}) on {result['n']:,} rows"
                   f" ({result['skipped']:,} without a usable label and "
                   f"{result['without_text']:,} without text skipped)")
        typer.echo(f"accuracy {result['accuracy']:.4f} · macro-F1 {result['macro_f1']:.4f} · "
                   f"ROC-AUC {result['roc_auc']:.4f} · {result['docs_per_s']:,.0f} docs/s")

    def _check_hidden(hidden: int, base: str | None) -> None:
        """Before the file is read: NgramModel.fit refuses the same with a ValueError."""
        from textmine.errors import TextmineError

        if hidden < 0 or (hidden and base):
            raise TextmineError("E015", f"--hidden {hidden}" + (f" with --base {base}" if base else ""),
                                fix="Give --hidden a positive number of units, without --base.")

    def _epochs(given: str) -> int | str:
        """--epochs as "auto" or a positive count."""
        from textmine.errors import TextmineError

        if given == "auto":
            return given
        if not given.isdigit() or int(given) < 1:
            raise TextmineError("E015", f"--epochs {given!r}", fix="Give a positive whole number or auto.")
        return int(given)

    @train.command("sentiment", help=TRAIN_HELP)
    @handle_errors
    def train_sentiment(
        file: str = typer.Argument(..., help="Training file."),
        out: str = typer.Option(..., "--out", "-o", help="Model file to write (.npz)."),
        text_col: str = typer.Option(None, "--text-col", help="Column with the text (e.g. 评论内容)."),
        label_col: str = typer.Option(None, "--label-col", help="Column with 0/1 or 负面/正面 labels."),
        rating_col: str = typer.Option(None, "--rating-col", help="Star rating column (e.g. 评分)."),
        self_train: str = typer.Option(None, "--self-train", help="No labels: this model (e.g. default) labels the texts it is surest of, and a model trained on them adapts it to the file's domain."),
        confident_share: float = typer.Option(0.5, "--confident-share", help="With --self-train: share of each predicted class used for training."),
        negative_max: float = typer.Option(2.0, "--negative-max", help="With --rating-col: stars at or below are negative."),
        positive_min: float = typer.Option(4.0, "--positive-min", help="With --rating-col: stars at or above are positive."),
        base: str = typer.Option(None, "--base", help="Learn on top of this model's score (e.g. default): helps small files."),
        lexicon_blend: bool = typer.Option(True, "--lexicon/--no-lexicon", help="Blend the rules scorer's score in at calibration (negation, contrast)."),
        c: str = typer.Option(None, "--C", help="Inverse regularisation strength of the logistic regression, or auto (default: chosen on out-of-fold scores of the training file)."),
        group_col: str = typer.Option(None, "--group-col", help="Column of domains (e.g. category): calibration folds keep each one together, tuning the model for unseen domains."),
        domain_col: str = typer.Option(None, "--domain-col", help="Column of each row's domain (e.g. product category): the model also learns words per domain; scoring reads this column or product."),
        hidden: int = typer.Option(0, "--hidden", help="A hidden layer of this many units (e.g. 32) instead of the logistic regression: slower to train, more accurate on large files."),
        bits: int = typer.Option(20, "--bits", help="2**bits hashed n-gram buckets (16-24): 22 helps a hidden layer on tens of thousands of rows."),
        epochs: str = typer.Option("auto", "--epochs", help="With --hidden: passes over the file, or auto (stop when out-of-fold accuracy stops improving)."),
        cv: int = typer.Option(0, "--cv", help="Also report N-fold cross-validation (e.g. 5)."),
        lexicons: str = typer.Option(None, "--lexicons", help="Folder of lexicon files layered over ours."),
        json_out: bool = typer.Option(False, "--json", help="Print what was recorded as JSON."),
    ) -> None:
        from dataclasses import replace

        from textmine.config import load_config
        from textmine.errors import TextmineError
        from textmine.sentiment.ngram import MAX_BITS, MIN_BITS, NgramSettings
        from textmine.sentiment.train import SELF_TRAIN_C, self_train_file, train_file

        settings = replace(NgramSettings(), base=base, lexicon=lexicon_blend)
        if c is not None:
            if c != "auto":
                given = c
                try:
                    c = float(c)
                except ValueError:
                    c = float("nan")
                if not c > 0:  # also NaN
                    raise TextmineError("E015", f"--C {given!r}",
                                        fix="Give a positive number or auto.")
            settings = replace(settings, C=c)
        _check_hidden(hidden, base)
        if not MIN_BITS <= bits <= MAX_BITS:
            raise TextmineError("E015", f"--bits {bits}",
                                fix=f"Give --bits between {MIN_BITS} and {MAX_BITS} (20 by default).")
        settings = replace(settings, hidden=hidden, epochs=_epochs(epochs), bits=bits)
        config = load_config(lexicons=lexicons)
        if self_train is not None:
            _check_self_train(label_col, rating_col, base, hidden, cv, group_col, domain_col)
            if c is None:
                settings = replace(settings, C=SELF_TRAIN_C)
            result = self_train_file(file, out, text_col=text_col, start=self_train,
                                     share=confident_share, settings=settings, config=config)
            _print_training(result, json_out)
            return
        if confident_share != 0.5:
            raise TextmineError("E015", f"--confident-share {confident_share} without --self-train",
                                fix="Add --self-train MODEL, or drop --confident-share.")
        result = train_file(file, out, text_col=text_col, label_col=label_col,
                            rating_col=rating_col, negative_max=negative_max,
                            positive_min=positive_min, settings=settings, cv=cv, config=config,
                            group_col=group_col, domain_col=domain_col)
        _print_training(result, json_out)

    def _check_self_train(label_col: str | None, rating_col: str | None, base: str | None,
                          hidden: int, cv: int, group_col: str | None,
                          domain_col: str | None) -> None:
        """--self-train needs no labels, and takes none of the options that need them."""
        from textmine.errors import TextmineError

        given = [name for name, value in (("--label-col", label_col), ("--rating-col", rating_col),
                                          ("--base", base), ("--hidden", hidden), ("--cv", cv),
                                          ("--group-col", group_col),
                                          ("--domain-col", domain_col)) if value]
        if given:
            raise TextmineError("E015", f"--self-train with {', '.join(given)}",
                                fix="Self-training uses no labels: drop "
                                    f"{', '.join(given)}, or drop --self-train to train on labels.")

    def _print_training(result: dict, json_out: bool) -> None:
        if json_out:
            print_json(result)
            return
        t = result["training"]
        other = t["rows_left_out"] - t["rows_without_text"]  # the rows with text not used
        why = ("not confident" if "self_trained_from" in t
               else "between the star thresholds or unrated" if "rating_col" in t
               else "without a usable label")
        typer.echo(f"{t['rows_in_file']:,} rows in: trained on {t['n']:,} ({t['positive']:,} "
                   f"positive, {t['negative']:,} negative), left out "
                   f"{t['rows_without_text']:,} without text, {other:,} {why}")
        if "self_trained_from" in t:
            typer.echo(f"labels: the {t['confident_share']:.0%} of each class that "
                       f"{t['self_trained_from']} is surest of; scores average with it")
        for key in ("validation", "cross_validation"):
            scores = result.get(key)
            if scores:
                against = " (agreement with those labels)" if "against" in scores else ""
                typer.echo(f"{key.replace('_', '-')}{against}: accuracy {scores['accuracy']:.4f} · "
                           f"macro-F1 {scores['macro_f1']:.4f} · ROC-AUC {scores['roc_auc']:.4f}")
        typer.echo(f"wrote {result['out']}")
