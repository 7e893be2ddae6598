"""`flask --app wsgi cards ...`: the card lifecycle, QR codes and the national roll-out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.cli.operations import cli_actor, operation
from webapp.db import get_database
from webapp.models import Card, RevocationReason
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.qr import card_qr_png, card_qr_svg
from webapp.services.cards.rollout import issue_cards_to_all
from webapp.services.cards.tokens import qr_text
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import current_settings

cards_cli = AppGroup("cards", help="Cards: issue, list, show, QR codes, suspend, reinstate, revoke, roll-out.")


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
        signer = load_keyring(session, current_settings().KEYS_DIR).require_signer()
    issued = issue_cards_to_all(
        database.session_scope,
        signer,
        cli_actor(),
        validity_years=current_settings().CARD_VALIDITY_YEARS,
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
        click.echo(qr_text(current_settings().PUBLIC_BASE_URL, card.token))


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
        data = render(current_settings().PUBLIC_BASE_URL, card.token, **options)
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
