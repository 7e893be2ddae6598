"""Reading cards for operators: filtered lists and one card's history."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from webapp.models import Artisan, AuditEvent, Card, CardStatus, utcnow
from webapp.services.cards.lifecycle import state_of

# What a verifier would answer today, as `cards list --status` filters it.
CARD_STATES = ("active", "suspended", "revoked", "expired")


@dataclass(frozen=True)
class CardRow:
    number: str
    state: str
    name_latin: str
    region_code: str
    trade_code: str
    expires_at: datetime


def _state_filter(state: str, now: datetime) -> ColumnElement[bool]:
    if state == "active":
        return (Card.status == CardStatus.ACTIVE) & (Card.expires_at > now)
    if state == "expired":
        return (Card.status == CardStatus.ACTIVE) & (Card.expires_at <= now)
    return Card.status == CardStatus(state)


def list_cards(
    session: Session,
    *,
    state: str | None = None,
    region_code: str | None = None,
    trade_code: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Iterator[CardRow]:
    """Cards, oldest first, filtered by state (active, suspended, revoked, expired), region and trade
    of the holder; streamed, so a national list does not sit in memory."""
    now = now or utcnow()
    query = select(
        Card.number,
        Card.status,
        Card.expires_at,
        Artisan.first_name_latin,
        Artisan.last_name_latin,
        Artisan.region_code,
        Artisan.trade_code,
    ).join(Card.artisan)
    if state is not None:
        query = query.where(_state_filter(state, now))
    if region_code is not None:
        query = query.where(Artisan.region_code == region_code)
    if trade_code is not None:
        query = query.where(Artisan.trade_code == trade_code.upper())
    query = query.order_by(Card.id).limit(limit).execution_options(yield_per=1_000)
    for number, status, expires_at, first, last, region, trade in session.execute(query):
        yield CardRow(number, state_of(status, expires_at, now), f"{first} {last}", region, trade, expires_at)


def card_history(session: Session, card: Card) -> Sequence[AuditEvent]:
    """The card's audit trail, oldest first."""
    return session.scalars(select(AuditEvent).where(AuditEvent.card_id == card.id).order_by(AuditEvent.seq)).all()
