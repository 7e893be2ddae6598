"""`flask --app wsgi audit checkpoint | verify`: the audit trail's signed checkpoints and its check."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import Connection, Engine

from webapp.cli.operations import operation
from webapp.db import get_database
from webapp.services.audit import checkpoints
from webapp.services.audit.verify import verify_trail
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import current_settings

audit_cli = AppGroup("audit", help="The audit trail: sign a checkpoint, verify the whole trail.")


@audit_cli.command("checkpoint")
@click.option(
    "--if-older-than",
    "older_than",
    type=click.IntRange(min=0),
    help="Minutes: sign only when the latest checkpoint is at least this old (for a frequent timer).",
)
def audit_checkpoint(older_than: int | None) -> None:
    """Check the trail since the last checkpoint, then sign a checkpoint of its head."""
    settings = current_settings()
    with operation() as session:
        if older_than is not None and not checkpoints.is_due(session, timedelta(minutes=older_than)):
            click.echo("a recent checkpoint exists: none signed")
            return
        signer = load_keyring(session, settings.KEYS_DIR).require_signer()
        keys = checkpoints.checkpoint_keys(session, settings.KEYS_DIR)
        checkpoint = checkpoints.sign_checkpoint(session, signer, keys, issuer=f"{settings.PUBLIC_BASE_URL}/audit")
        click.echo(
            f"checkpoint #{checkpoint.id}: {checkpoint.size} events, head {checkpoint.head_hash}, "
            f"signed by {checkpoint.kid}"
        )


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection that sees one state of the database from start to end."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
        else:
            # Python's sqlite3 opens no transaction for reads: open one, so that every read of
            # the run sees the same snapshot (WAL keeps it while writers go on).
            connection.exec_driver_sql("BEGIN")
            try:
                yield connection
            finally:
                connection.exec_driver_sql("ROLLBACK")


@audit_cli.command("verify")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=lambda: min(2, os.cpu_count() or 1),
    show_default="2, or 1 on one core",
    help="Processes that check ranges of a large trail side by side.",
)
def audit_verify(jobs: int) -> None:
    """Recompute the whole chain and check every checkpoint; exit 1 naming the first problem."""
    settings = current_settings()
    started = time.perf_counter()
    database = get_database()
    with operation() as session:
        keys = checkpoints.checkpoint_keys(session, settings.KEYS_DIR)
    with _snapshot(database.engine) as connection:
        report = verify_trail(connection, keys, jobs=jobs, database_url=settings.DATABASE_URL)
    elapsed = time.perf_counter() - started
    if not report.intact:
        click.echo(f"audit trail NOT intact: {report.problem}", err=True)
        raise click.exceptions.Exit(1)
    latest = report.checkpoints[-1] if report.checkpoints else None
    signed = (
        f"latest #{latest.number} covers {latest.size} events, "
        f"signed {latest.signed_at:%Y-%m-%d %H:%M} UTC by {latest.kid}"
        if latest
        else "none signed yet: run `audit checkpoint`"
    )
    click.echo(
        f"audit trail intact: {report.events} events chained, {len(report.checkpoints)} signed checkpoints "
        f"({signed}); {elapsed:.1f} s"
    )
