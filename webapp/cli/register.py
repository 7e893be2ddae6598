"""`flask --app wsgi register ...`: bulk import of the register from CSV/XLSX, its template, exports."""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from webapp.cli.operations import cli_actor, operation, refusals_in_one_line
from webapp.db import get_database
from webapp.services.register.artisans import CARD_FILTERS, ArtisanQuery, artisan_ids
from webapp.services.register.exports import write_export
from webapp.services.register.imports import (
    ImportMode,
    ImportReport,
    ImportRequest,
    RowProblem,
    import_register,
    template_rows,
)
from webapp.services.register.reference_data import set_chamber
from webapp.services.scope import NATIONAL
from webapp.services.spreadsheets import csv_chunks, write_xlsx
from webapp.settings import current_settings

register_cli = AppGroup("register", help="The register: bulk import (CSV, XLSX), the import template, exports.")

FORMATS = ("csv", "xlsx")


class _ProgressBar:
    """click's progress bar, opened at the first report (when the import knows the file's size)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total or done, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if total and total > self.bar.length:
            self.bar.length = total  # the estimate grows when the file had more rows than lines counted
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@register_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and say what would change; write nothing.")
@click.option("--strict", is_flag=True, help="Write nothing at all if any row is refused.")
def register_import(file: Path, dry_run: bool, strict: bool) -> None:
    """Import artisans from FILE (CSV or XLSX, the columns of `register template`).

    A row updates the artisan with its RNA number, else the one with its CIN, or registers a new
    artisan. Refused rows are listed (line, column, why); the exit status is 1 when any was.
    """
    mode = ImportMode.DRY_RUN if dry_run else ImportMode.STRICT if strict else ImportMode.IMPORT
    request = ImportRequest(
        path=file,
        file_name=file.name,
        actor=cli_actor(),
        scope=NATIONAL,
        mode=mode,
        max_bytes=current_settings().REGISTER_IMPORT_MAX_BYTES,
    )
    bar = _ProgressBar("checking" if mode == ImportMode.DRY_RUN else "importing")
    # Every problem goes to a temporary file as it is found (a file may have a problem per row):
    # the list is printed after the progress bar, in flat memory.
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool, refusals_in_one_line():
        writer = csv.writer(spool)

        def keep(problem: RowProblem) -> None:
            writer.writerow([problem.line, problem.column or "", problem.text()])

        try:
            report = import_register(get_database().session_scope, request, progress=bar, on_problem=keep)
        finally:
            bar.close()
        spool.seek(0)
        for line, column, message in csv.reader(spool):
            click.echo(f"line {line}{', ' + column if column else ''}: {message}")
    click.echo(_summary(report))
    if report.refused or report.stopped_at is not None:
        sys.exit(1)


def _summary(report: ImportReport) -> str:
    counts = f"{report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    line = f"{report.rows} rows: {counts}, {report.refused} refused"
    if report.mode == ImportMode.DRY_RUN:
        return f"dry run, nothing written. {report.rows} rows would give: {counts}; {report.refused} refused"
    if report.mode == ImportMode.STRICT and not report.written and (report.refused or report.stopped_at):
        return f"strict: nothing written, {report.refused} rows refused (of {report.rows})"
    return line


@register_cli.command("template")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "file_format", type=click.Choice(FORMATS), help="Default: from the file name, else csv.")
def register_template(output: Path, file_format: str | None) -> None:
    """Write the import template to OUTPUT: the header row (the register's columns) and an example row."""
    file_format = file_format or ("xlsx" if output.suffix.lower() == ".xlsx" else "csv")
    header, rows = template_rows()
    if file_format == "xlsx":
        with output.open("wb") as target:
            write_xlsx(header, rows, "register", target)
    else:
        with output.open("w", encoding="utf-8", newline="") as target:
            target.writelines(csv_chunks(header, rows))
    click.echo(f"template written to {output} ({', '.join(header)})")


@register_cli.command("export")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--region", "region_code", metavar="CODE", help="Only artisans of this region (e.g. 03).")
@click.option("--trade", "trade_code", metavar="CODE", help="Only artisans of this trade (e.g. ZEL).")
@click.option(
    "--card-status",
    "card_state",
    type=click.Choice(CARD_FILTERS),
    help="Only artisans whose card in force is so (revoked: none in force; none: never had one).",
)
def register_export(output: Path, region_code: str | None, trade_code: str | None, card_state: str | None) -> None:
    """Write the register (or the chosen part) to OUTPUT.csv or OUTPUT.xlsx, streamed."""
    if output.suffix.lower() not in (".csv", ".xlsx"):
        raise click.BadParameter("the file name must end in .csv or .xlsx", param_hint="OUTPUT")
    query = ArtisanQuery(
        region_code=region_code, trade_code=trade_code.upper() if trade_code else None, card_status=card_state
    )
    with operation() as session:
        count = write_export(session, artisan_ids(NATIONAL, query), output)
    click.echo(f"{count} artisans written to {output}")


@register_cli.command("chamber")
@click.argument("region_code")
@click.option("--name-fr", help="The chamber's name in French.")
@click.option("--name-ar", help="The chamber's name in Arabic.")
@click.option("--address-fr", help='Postal address in French, lines separated by ", ".')
@click.option("--address-ar", help='Postal address in Arabic, lines separated by "، " or ", ".')
def register_chamber(
    region_code: str, name_fr: str | None, name_ar: str | None, address_fr: str | None, address_ar: str | None
) -> None:
    """Show or change a regional chamber's name and postal address (printed on cards and letters)."""
    with operation() as session:
        region = set_chamber(
            session,
            region_code,
            cli_actor(),
            chamber_name_fr=name_fr,
            chamber_name_ar=name_ar,
            chamber_address_fr=address_fr,
            chamber_address_ar=address_ar,
        )
        click.echo(f"{region.code} {region.chamber_name_fr} | {region.chamber_address_fr}")
        click.echo(f"{region.code} {region.chamber_name_ar} | {region.chamber_address_ar}")
