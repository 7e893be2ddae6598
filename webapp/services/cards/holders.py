"""A card looked up by its number, for people without its QR code at hand: the verdict the register
gives it now, and, for partner staff only, the holder's photo from the register.

The number alone proves nothing (anyone can type one), so the answer says what the register holds
and no more than the card's own face shows (DESIGN decision 7); the photo is for partner staff
tying a card to the person in front of them, never for the public.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import ArtisanPhoto, Card, CardStatus
from webapp.services.cards.lifecycle import card_state, get_card
from webapp.services.verification import Verdict, status_changed_on


@dataclass(frozen=True)
class CardVerdict:
    """A card's verdict from the register (no signature involved) and what a page shows with it."""

    card: Card
    verdict: Verdict
    status_since: date | None  # the day it was revoked or suspended

    @property
    def expiry_date(self) -> date:
        return self.card.expires_at.astimezone(MOROCCO).date()


def card_verdict_by_number(session: Session, number: str, now: datetime) -> CardVerdict:
    """The register's verdict on the card with this number (typed forms accepted); CardNotFound otherwise."""
    return card_verdict(session, get_card(session, number), now)


def card_verdict(session: Session, card: Card, now: datetime) -> CardVerdict:
    """The register's verdict on a card already read (what a verifier would answer now)."""
    state = card_state(card, now)
    verdict = Verdict.VALID if state == "active" else Verdict(state)
    return CardVerdict(card, verdict, status_changed_on(session.connection(), card.number, verdict))


def holder_photo(session: Session, number: str, now: datetime) -> bytes | None:
    """The photo of the holder of a card in force (active, not expired), if the register has one."""
    statement = (
        select(ArtisanPhoto.jpeg)
        .join(Card, Card.artisan_id == ArtisanPhoto.artisan_id)
        .where(Card.number == number, Card.status == CardStatus.ACTIVE, Card.expires_at > now)
    )
    return session.scalar(statement)
