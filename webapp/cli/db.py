"""`flask --app wsgi db upgrade`: the schema and the reference tables."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.cli.operations import operation
from webapp.migrations import upgrade_database
from webapp.services.register.reference_data import prepare_reference_data
from webapp.settings import current_settings

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations and refresh the reference tables."""
    upgrade_database(current_settings().DATABASE_URL)
    with operation() as session:
        prepare_reference_data(session)
    click.echo("database is at the latest revision")
