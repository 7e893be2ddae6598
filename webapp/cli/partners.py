"""`flask --app wsgi partners ...`: partner organisations and their systems' API keys."""

from __future__ import annotations

from datetime import UTC, datetime, time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from webapp.cli.operations import cli_actor, operation
from webapp.models import Organisation
from webapp.services.partners.api_keys import SCOPES, create_api_key, revoke_api_key
from webapp.services.scope import NATIONAL, RecordNotFound

partners_cli = AppGroup("partners", help="Partner organisations and their API keys.")
api_key_cli = AppGroup("api-key", help="API keys of a partner's systems.")
partners_cli.add_command(api_key_cli)


@partners_cli.command("list")
def list_partners() -> None:
    """One organisation a line: slug, kind, name."""
    with operation() as session:
        for organisation in session.scalars(select(Organisation).order_by(Organisation.slug)):
            state = "" if organisation.is_enabled else "  (disabled)"
            click.echo(f"{organisation.slug:<24} {organisation.kind_code:<18} {organisation.name}{state}")


@api_key_cli.command("create")
@click.argument("slug")
@click.option(
    "--scope",
    "scopes",
    default=",".join(sorted(SCOPES)),
    show_default=True,
    help="What the key may do, comma-separated: verify (POST /api/v1/verify, GET /api/v1/bundle and "
    "GET /offers/<id>/eligibility, the signed lists a verifier reads offline), redeem (POST /api/v1/redemptions), "
    "eligibility (GET /api/v1/eligibility, one card's answer with the failed conditions).",
)
@click.option("--label", default="", help="Which system holds the key (default: the organisation's slug).")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day the key works (UTC).")
def create_key(slug: str, scopes: str, label: str, expires: datetime | None) -> None:
    """Create a key for an organisation's system; the key is printed once, alone on the last line."""
    with operation() as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == slug.strip()))
        if organisation is None:
            raise RecordNotFound()
        expires_at = datetime.combine(expires.date(), time(23, 59, 59), UTC) if expires else None
        new_key = create_api_key(
            session,
            organisation,
            label or f"{organisation.slug} system",
            cli_actor(),
            scopes=scopes,
            expires_at=expires_at,
        )
        click.echo(f"API key {new_key.api_key.prefix} for {organisation.name} (scopes: {new_key.api_key.scopes})")
        click.echo("Shown once: store it in the partner system's secrets now.")
        click.echo(new_key.plaintext)


@api_key_cli.command("revoke")
@click.argument("prefix")
def revoke_key(prefix: str) -> None:
    """Revoke a key at once by its prefix (a leaked key, a retired system)."""
    with operation() as session:
        revoke_api_key(session, prefix.strip(), cli_actor(), NATIONAL)
        click.echo(f"API key {prefix.strip()} revoked")
