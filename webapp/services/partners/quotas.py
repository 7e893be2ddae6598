"""Quotas of offers: N redemptions per card per day, month or year, counted by the calendar in
Morocco. A card's use of a period is one row, taken a unit at a time with one conditional UPDATE
(`used < quota`): atomic on SQLite and PostgreSQL alike, so concurrent requests never exceed it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import Card, Offer, QuotaPeriod, QuotaUsage
from webapp.services.upserts import insert_if_absent

_PERIOD_FORMATS = {QuotaPeriod.DAY: "%Y-%m-%d", QuotaPeriod.MONTH: "%Y-%m", QuotaPeriod.YEAR: "%Y"}


def quota_period_key(period: QuotaPeriod, moment: datetime) -> str:
    """The period a moment counts in, by the calendar in Morocco ("2026-12-02", "2026-12", "2026")."""
    return moment.astimezone(MOROCCO).strftime(_PERIOD_FORMATS[period])


def used_in_period(session: Session, offer: Offer, card: Card, now: datetime) -> int:
    if offer.quota_period is None:
        return 0
    key = quota_period_key(offer.quota_period, now)
    used = session.scalar(
        select(QuotaUsage.used).where(
            QuotaUsage.offer_id == offer.id, QuotaUsage.card_id == card.id, QuotaUsage.period == key
        )
    )
    return used or 0


def remaining_quota(session: Session, offer: Offer, card: Card, now: datetime) -> int | None:
    """Redemptions left to this card in the current period; None for an offer without a quota."""
    if offer.quota_count is None:
        return None
    return max(0, offer.quota_count - used_in_period(session, offer, card, now))


def take_quota_unit(session: Session, offer: Offer, card: Card, period: str) -> bool:
    """One unit of the card's quota for the period, atomically; False when it is spent."""
    insert_if_absent(
        session,
        QuotaUsage,
        {"offer_id": offer.id, "card_id": card.id, "period": period, "used": 0},
        ["offer_id", "card_id", "period"],
    )
    taken = session.execute(
        update(QuotaUsage)
        .where(
            QuotaUsage.offer_id == offer.id,
            QuotaUsage.card_id == card.id,
            QuotaUsage.period == period,
            QuotaUsage.used < offer.quota_count,
        )
        .values(used=QuotaUsage.used + 1)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1
