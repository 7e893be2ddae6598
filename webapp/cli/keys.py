"""`flask --app wsgi keys ...`: ES256 signing keys."""

from __future__ import annotations

from datetime import timedelta

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
        click.echo(f"{key.kid} {signing_keys.STATE_LABELS[key.state]}")


@keys_cli.command("list")
def keys_list() -> None:
    """One key a line: kid, state (published, signing, verify only, retired), created, cards signed."""
    with operation() as session:
        for key in signing_keys.list_keys(session):
            click.echo(
                f"{key.kid}  {key.label:<11}  {key.created_at}  {key.cards_signed} cards, {key.cards_in_force} in force"
            )


@keys_cli.command("rotate")
@click.option("--to", "to_kid", help="Activate this published key instead of generating a new one.")
def keys_rotate(to_kid: str | None) -> None:
    """Make a new (or the named) key sign new cards; the old key keeps verifying."""
    with operation() as session:
        key = signing_keys.rotate_key(session, current_settings().KEYS_DIR, cli_actor(), to_kid)
        age = signing_keys.published_for(key)
        click.echo(f"{key.kid} signing")
    # Verifiers may keep the JWKS this long (its max-age): a key younger than that may be unknown to
    # some of them, so cards it signs could read "unknown key" meanwhile.
    cache_lifetime = current_settings().TRUST_MAX_AGE_SECONDS
    if age < timedelta(seconds=cache_lifetime):
        click.echo(
            f"Warning: key {key.kid} was published {int(age.total_seconds())} s ago; verifiers may keep the JWKS "
            f"for {cache_lifetime} s and not know it yet (offline verifiers longer): publish with "
            "`keys generate`, wait, then `keys rotate --to KID`.",
            err=True,
        )


@keys_cli.command("retire")
@click.argument("kid")
@click.option("--force", is_flag=True, help="Retire even though cards in force were signed by it (compromised key).")
def keys_retire(kid: str, force: bool) -> None:
    """Withdraw a key from the JWKS (cannot be undone): its cards get the verdict unknown_key.

    Refused while cards in force were signed by it: `cards reissue --key KID` first. The private
    key moves to KEYS_DIR/retired/.
    """
    with operation() as session:
        in_force = signing_keys.cards_in_force_signed_by(session, kid)
        signing_keys.retire_key(session, kid, cli_actor(), keys_dir=current_settings().KEYS_DIR, force=force)
    click.echo(f"{kid} retired")
    if in_force:
        click.echo(f"Warning: {in_force} cards in force signed by {kid} now get the verdict unknown_key.", err=True)
