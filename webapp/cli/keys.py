"""`flask --app wsgi keys ...`: ES256 signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from webapp.cli.operations import cli_actor, operation
from webapp.services.trust import signing_keys
from webapp.settings import current_settings

keys_cli = AppGroup("keys", help="ES256 signing keys: generate, list, rotate, retire.")


@keys_cli.command("generate")
def keys_generate() -> None:
    """Create a key: it signs at once if none does, otherwise it is published and waits for rotate."""
    with operation() as session:
        key = signing_keys.generate_key(session, current_settings().KEYS_DIR, cli_actor())
        click.echo(f"{key.kid} {key.state.value}")


@keys_cli.command("list")
def keys_list() -> None:
    """One key a line: kid, state, created, cards signed."""
    with operation() as session:
        for key in signing_keys.list_keys(session):
            click.echo(f"{key.kid}  {key.state.value:<11}  {key.created_at}  {key.cards_signed} cards")


@keys_cli.command("rotate")
@click.option("--to", "to_kid", help="Activate this published key instead of generating a new one.")
def keys_rotate(to_kid: str | None) -> None:
    """Make a new (or the named) key sign new cards; the old key keeps verifying."""
    with operation() as session:
        key = signing_keys.rotate_key(session, current_settings().KEYS_DIR, cli_actor(), to_kid)
        click.echo(f"{key.kid} active")


@keys_cli.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a key from the JWKS: its cards get the verdict unknown_key."""
    with operation() as session:
        signing_keys.retire_key(session, kid, cli_actor())
        click.echo(f"{kid} retired")
