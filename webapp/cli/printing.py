"""`flask --app wsgi print ...`: print batches for the postal printer (issue 16, part 3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
from flask.cli import AppGroup

from webapp.cli.jobs import follow
from webapp.cli.operations import cli_actor, operation, refusals_in_one_line
from webapp.jobs import get_storage
from webapp.models import PrintBatchState
from webapp.services.printing import batches
from webapp.services.scope import NATIONAL, Scope
from webapp.settings import current_settings

print_cli = AppGroup("print", help="Print batches for the postal printer: batch, batches, mark, purge-files.")

FILES = (("cards", "cards.pdf"), ("letters", "letters.pdf"), ("manifest", "manifest.csv"))


@print_cli.command("batch")
@click.option("--region", "region_code", metavar="CODE", help="Only this region's cards (e.g. 03); else every region.")
@click.option(
    "--selection",
    type=click.Choice([kind.value for kind in batches.SelectionKind]),
    default=None,
    help="new: issued, never printed (default); replacements; region: every card in force (reprints); "
    "numbers: those of --numbers.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many cards.")
@click.option(
    "--numbers", "numbers_file", type=click.File("r", encoding="utf-8"), help="A file of card numbers, one a line."
)
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Copy the cards PDF, the letters PDF and the manifest here when ready.",
)
@click.option("--in-process", is_flag=True, help="Render here, without a job worker.")
@click.option("--no-wait", is_flag=True, help="Submit the batch's job and return at once (its id is printed).")
def print_batch(
    region_code: str | None,
    selection: str | None,
    limit: int | None,
    numbers_file: click.utils.LazyFile | None,
    output: Path | None,
    in_process: bool,
    no_wait: bool,
) -> None:
    """Prepare a batch of cards and render its files (one PDF, the letters, the manifest)."""
    if output is None and not no_wait:
        raise click.UsageError("--output DIR is required (or --no-wait)")
    kind = batches.SelectionKind(selection or ("numbers" if numbers_file else "new"))
    numbers: tuple[str, ...] = ()
    if numbers_file is not None:
        with refusals_in_one_line():
            numbers = batches.parse_numbers(numbers_file.read())
    request = batches.BatchRequest(kind=kind, region_code=region_code, numbers=numbers, limit=limit)
    with operation() as session:
        batch, plan = batches.prepare_batch(session, request, NATIONAL, cli_actor())
        job = batches.start_rendering(session, batch, cli_actor())
        batch_id, job_id = batch.id, job.id
    for refused in plan.refused:
        click.echo(f"left out: {refused.number} ({refused.reason.replace('_', ' ')})", err=True)
    click.echo(f"batch {batch_id}: {len(plan.card_ids)} cards ({len(plan.reprint_ids)} reprints), job {job_id}")
    if no_wait:
        return
    follow(job_id, in_process=in_process)
    assert output is not None
    _copy_files(batch_id, output)


def _copy_files(batch_id: int, output: Path) -> None:
    settings = current_settings()
    storage = get_storage()
    output.mkdir(parents=True, exist_ok=True)
    with operation() as session:
        batch = batches.get_batch(session, batch_id, NATIONAL)
        for which, name in FILES:
            key = batches.batch_file(batch, which, settings.PRINT_BATCH_RETENTION_DAYS)
            target = output / f"batch-{batch_id}-{name}"
            shutil.copyfile(storage.local_path(key), target)
            click.echo(f"{target}")


@print_cli.command("batches")
@click.option("--region", "region_code", metavar="CODE", help="Only this region's batches.")
@click.option("--limit", type=click.IntRange(min=1), default=50, help="At most this many (newest first).")
def print_batches(region_code: str | None, limit: int) -> None:
    """One batch a line, newest first: id, state, region, cards, prepared on, files."""
    scope = Scope(region_code=region_code) if region_code else NATIONAL
    with operation() as session:
        for batch in batches.list_batches(session, scope, limit=limit):
            files = "deleted" if batch.files_deleted_at else ("ready" if batch.rendered_at else "rendering")
            click.echo(
                f"{batch.id:>6}  {batch.state.value:<15}  {batch.region_code or '--'}  {batch.card_count:>6} cards  "
                f"{batch.prepared_at.date().isoformat()}  files {files}"
            )


@print_cli.command("mark")
@click.argument("batch_id", type=int)
@click.argument("state", type=click.Choice([state.value for state in PrintBatchState if state != "prepared"]))
def print_mark(batch_id: int, state: str) -> None:
    """Move a batch to its next state: sent_to_printer, printed, delivered or returned."""
    with operation() as session:
        batch = batches.get_batch(session, batch_id, NATIONAL)
        batches.mark_batch(session, batch, PrintBatchState(state), cli_actor())
        click.echo(f"batch {batch_id}: {state}")


@print_cli.command("purge-files")
def print_purge_files() -> None:
    """Delete the files of batches kept past PRINT_BATCH_RETENTION_DAYS (the batches stay)."""
    with operation() as session:
        count = batches.purge_batch_files(session, get_storage())
    click.echo(f"files deleted for {count} batches")
