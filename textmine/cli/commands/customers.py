"""`textmine customers`: import a CRM export (and orders), show a profile, write the follow-up list."""

from __future__ import annotations

import typer

from textmine.cli.common import handle_errors, print_json, resolve_workspace, workspace_option

IMPORT_HELP = """Load a CRM export (customer ID plus any attributes) and optionally orders.

IDs are kept as text (leading zeros, full-width digits and stray spaces normalised the same way
as in `analyze`). Each import replaces the previous customers (and orders, when given).
Duplicate rows, conflicts, rejected rows and IDs that match nothing on either side are counted.

Example:

    textmine customers import 会员导出.csv --orders 订单.csv --json
"""

FOLLOW_UP_HELP = """Customers to call back, best first: value × recent negativity × unresolved signals.

Each row says why in words ("3 negative reviews about 物流 in 30 days; chat ended badly on
2026-11-08; tier 金卡") and quotes the masked text. The window is the last --days days up to the
latest document, or from --since.

Example:

    textmine customers follow-up --since 2026-10-15 --top 50 -o 跟进名单.xlsx
"""

SHOW_HELP = """One customer's profile: contacts, sentiment, complaints, escalations, CRM and RFM.

Example:

    textmine customers show 004518 --json
"""


def register(app: typer.Typer) -> None:
    customers = typer.Typer(help="Customer data: CRM import, profiles and the follow-up list.",
                            no_args_is_help=True)
    app.add_typer(customers, name="customers")

    @customers.command("import", help=IMPORT_HELP)
    @handle_errors
    def import_cmd(
        file: str = typer.Argument(..., help="CRM export (.csv .xlsx .jsonl .parquet …)."),
        orders: str = typer.Option(None, "--orders", help="Orders: customer, order time, amount."),
        id_col: str = typer.Option(None, "--id-col", help="Customer ID column (e.g. 会员号)."),
        encoding: str = typer.Option(None, "--encoding", help="Force an encoding; detected by default."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    ) -> None:
        from textmine.customers import import_customers

        result = import_customers(resolve_workspace(workspace), file, orders, id_col=id_col,
                                  encoding=encoding)
        data = result.to_dict()
        if json_out:
            print_json(data)
            return
        for side in ("customers", "orders"):
            if side in data:
                c = data[side]
                line = (f"{side:<9} in {c['in']:,} · stored {c['stored']:,} · duplicates "
                        f"{c['duplicates']:,}")
                if "conflicts" in c:
                    line += f" · conflicts {c['conflicts']:,}"
                typer.echo(line + f" · rejected {c['rejected']:,}")
        for key, value in data["matching"].items():
            if isinstance(value, dict):
                sample = ", ".join(value["ids"][:5])
                more = " …" if value["count"] > 5 else ""
                typer.echo(f"{key.replace('_', ' ')}: {value['count']:,}"
                           + (f" ({sample}{more})" if sample else ""))
            else:
                typer.echo(f"{key.replace('_', ' ')}: {value:,}")

    @customers.command("follow-up", help=FOLLOW_UP_HELP)
    @handle_errors
    def follow_up_cmd(
        out: str = typer.Option(None, "--out", "-o", help="Write the list (.xlsx .csv .parquet .jsonl)."),
        since: str = typer.Option(None, "--since", help="Window start (default: --days before the latest document)."),
        until: str = typer.Option(None, "--until", help="Window end, inclusive (default: latest document)."),
        days: int = typer.Option(30, "--days", help="Window length when --since is not given."),
        top: int = typer.Option(50, "--top", help="How many customers (0 = all with a negative contact)."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the list as JSON."),
    ) -> None:
        from textmine.customers import follow_up_list, write_follow_up
        from textmine.trends import json_records

        frame = follow_up_list(resolve_workspace(workspace), since=since, until=until, days=days,
                               top=top or None)
        if out:
            write_follow_up(frame, out)
        if json_out:
            print_json(json_records(frame))
            return
        if frame.empty:
            typer.echo("no customer had a negative contact in the window")
        for row in frame.head(20).itertuples(index=False):
            typer.echo(f"{row.rank:>3}. {row.customer_id}  {row.score:>6.2f}  {row.reason}")
        if len(frame) > 20:
            typer.echo(f"… {len(frame) - 20} more")
        if out:
            typer.echo(f"wrote {len(frame):,} customers to {out}")

    @customers.command("show", help=SHOW_HELP)
    @handle_errors
    def show_cmd(
        customer_id: str = typer.Argument(..., help="Customer ID (leading zeros kept)."),
        since: str = typer.Option(None, "--since", help="Count contacts from this date."),
        workspace: str = workspace_option(),
        json_out: bool = typer.Option(False, "--json", help="Print the profile as JSON."),
    ) -> None:
        from textmine.customers import customer_profiles
        from textmine.errors import TextmineError
        from textmine.records import normalize_id
        from textmine.trends import json_records

        wanted = normalize_id(customer_id)
        frame = customer_profiles(resolve_workspace(workspace), since=since, customer_id=wanted)
        if frame.empty:
            raise TextmineError("E019", f"no customer {wanted}",
                                fix="Check the ID (leading zeros count), or import the CRM file.")
        record = json_records(frame)[0]
        if json_out:
            print_json(record)
            return
        for key, value in record.items():
            if value is None or value == [] or key.endswith("_names"):
                continue
            if isinstance(value, float):
                value = round(value, 3)
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            typer.echo(f"{key:<20} {value}")
