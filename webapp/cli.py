"""Operator commands: `flask --app wsgi setup | db | keys | cards | demo ...`.

Commands open their own session (commit on success, roll back on error) and print a one-line
reason on a refused operation, with exit status 1, instead of a traceback.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db import get_database
from webapp.keyring import invalidate_keyring
from webapp.migrations import upgrade_database
from webapp.models import Artisan, Card, RevocationReason, SigningKey
from webapp.services import cards as card_service
from webapp.services import demo, signing_keys
from webapp.services.audit import Actor
from webapp.services.card_tokens import qr_text
from webapp.services.qr_codes import card_qr_png, card_qr_svg
from webapp.services.signing_keys import SigningKeyError, load_keyring

keys_cli = AppGroup("keys", help="ES256 signing keys: generate, list, rotate, retire.")
cards_cli = AppGroup("cards", help="Cards: list, QR text, revoke, suspend, reinstate.")
demo_cli = AppGroup("demo", help="Demo data for development and trials.")
db_cli = AppGroup("db", help="Database schema.")


def cli_actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}")


@contextmanager
def operation() -> Iterator[Session]:
    """A committed session; a refused operation prints its reason and exits with status 1."""
    try:
        with get_database().session_scope() as session:
            yield session
    except (SigningKeyError, card_service.CardError) as refusal:
        raise click.ClickException(str(refusal)) from None
    finally:
        invalidate_keyring()


# -- database -----------------------------------------------------------------------------------


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations and refresh the reference tables."""
    upgrade_database(current_app.config["DATABASE_URL"])
    with operation() as session:
        demo.prepare_reference_data(session)
    click.echo("database is at the latest revision")


# -- keys -----------------------------------------------------------------------------------------


@keys_cli.command("generate")
def keys_generate() -> None:
    """Create a key: it signs at once if none does, otherwise it is published and waits for rotate."""
    with operation() as session:
        key = signing_keys.generate_key(session, current_app.config["KEYS_DIR"], cli_actor())
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
        key = signing_keys.rotate_key(session, current_app.config["KEYS_DIR"], cli_actor(), to_kid)
        click.echo(f"{key.kid} active")


@keys_cli.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Withdraw a key from the JWKS: its cards get the verdict unknown_key."""
    with operation() as session:
        signing_keys.retire_key(session, kid, cli_actor())
        click.echo(f"{kid} retired")


# -- cards ----------------------------------------------------------------------------------------


@cards_cli.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many cards.")
def cards_list(limit: int | None) -> None:
    """One card number a line, oldest first."""
    with operation() as session:
        for number in session.scalars(select(Card.number).order_by(Card.id).limit(limit)):
            click.echo(number)


@cards_cli.command("issue-all")
@click.option("--chunk-size", type=click.IntRange(100, 100_000), default=20_000, show_default=True)
def cards_issue_all(chunk_size: int) -> None:
    """Issue a card to every registered artisan who has none in force (national roll-out)."""
    database = get_database()
    with operation() as session:
        signer = load_keyring(session, current_app.config["KEYS_DIR"]).require_signer()
    issued = card_service.issue_cards_to_all(
        database.session_scope,
        signer,
        cli_actor(),
        validity_years=current_app.config["CARD_VALIDITY_YEARS"],
        chunk_size=chunk_size,
        progress=lambda count: click.echo(f"{count} cards issued", err=True),
    )
    click.echo(f"{issued} cards issued")


@cards_cli.command("qr-text")
@click.argument("card_number")
def cards_qr_text(card_number: str) -> None:
    """Print exactly the text of the card's QR code."""
    with operation() as session:
        card = card_service.get_card(session, card_number)
        click.echo(qr_text(current_app.config["PUBLIC_BASE_URL"], card.token))


@cards_cli.command("qr-image")
@click.argument("card_number")
@click.option("--format", "image_format", type=click.Choice(["svg", "png"]), default="svg", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, writable=True), required=True, help="File to write.")
@click.option("--scale", type=click.IntRange(1, 40), default=None, help="Pixels (PNG) or units (SVG) per module.")
def cards_qr_image(card_number: str, image_format: str, output: str, scale: int | None) -> None:
    """Write the card's QR code as SVG or PNG (ECC M, 4-module quiet zone) for printing."""
    with operation() as session:
        card = card_service.get_card(session, card_number)
        render = card_qr_svg if image_format == "svg" else card_qr_png
        options = {"scale": scale} if scale else {}
        data = render(current_app.config["PUBLIC_BASE_URL"], card.token, **options)
    with open(output, "wb") as handle:
        handle.write(data)
    click.echo(f"{card.number} {image_format} {len(data)} bytes -> {output}")


def _status_command(name: str, change: Callable[[Session, Card, str], Any], help_text: str) -> None:
    @cards_cli.command(name, help=help_text)
    @click.argument("card_number")
    @click.option("--reason", required=True, help="Why (kept in the audit trail).")
    def command(card_number: str, reason: str) -> None:
        with operation() as session:
            card = change(session, card_service.get_card(session, card_number), reason)
            click.echo(f"{card.number} {card.status.value}")


# "replaced" is set by a replacement, never typed by an operator.
OPERATOR_REVOCATION_REASONS = {r.value: r for r in RevocationReason if r != RevocationReason.REPLACED}


def _revoke(session: Session, card: Card, reason: str) -> Card:
    code = OPERATOR_REVOCATION_REASONS.get(reason.strip().lower())
    if code is None:
        raise click.BadParameter(f"--reason must be one of {', '.join(OPERATOR_REVOCATION_REASONS)}")
    return card_service.revoke_card(session, card, code, cli_actor())


_status_command("revoke", _revoke, "Revoke a card (reason: lost, stolen, deceased, fraud, left_trade).")
_status_command("suspend", lambda s, c, r: card_service.suspend_card(s, c, r, cli_actor()), "Suspend a card for now.")
_status_command(
    "reinstate", lambda s, c, r: card_service.reinstate_card(s, c, cli_actor(), r), "Lift a card's suspension."
)


# -- demo and setup -------------------------------------------------------------------------------


@demo_cli.command("seed")
@click.option("--artisans", type=click.IntRange(min=1, max=1_000_000), default=300, show_default=True)
def demo_seed(artisans: int) -> None:
    """Register demo artisans in all 12 regions, issue their cards, and create demo logins."""
    seed_demo(artisans)


def seed_demo(artisans: int) -> None:
    with operation() as session:
        keyring = load_keyring(session, current_app.config["KEYS_DIR"])
        summary = demo.seed(
            session,
            keyring.require_signer(),
            artisan_count=artisans,
            validity_years=current_app.config["CARD_VALIDITY_YEARS"],
        )
    for line in summary.lines(current_app.config["PUBLIC_BASE_URL"]):
        click.echo(line)


@click.command("setup")
@with_appcontext
@click.option("--demo/--no-demo", "with_demo", default=True, help="Seed demo data on first setup.")
def setup(with_demo: bool) -> None:
    """Development set-up, safe to repeat: migrate, create keys if none, seed demo data once."""
    upgrade_database(current_app.config["DATABASE_URL"])
    with operation() as session:
        demo.prepare_reference_data(session)
        if session.scalar(select(SigningKey.kid).limit(1)) is None:
            key = signing_keys.generate_key(session, current_app.config["KEYS_DIR"], cli_actor())
            click.echo(f"created signing key {key.kid} in {current_app.config['KEYS_DIR']}")
    with operation() as session:
        seeded = session.scalar(select(Artisan.id).limit(1)) is not None
    if with_demo and not seeded:
        seed_demo(artisans=300)
    elif with_demo:
        with operation() as session:
            for line in demo.summary_of_existing(session).lines(current_app.config["PUBLIC_BASE_URL"]):
                click.echo(line)


def init_app(app: Flask) -> None:
    for group in (keys_cli, cards_cli, demo_cli, db_cli):
        app.cli.add_command(group)
    app.cli.add_command(setup)
