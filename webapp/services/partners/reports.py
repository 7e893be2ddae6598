"""What a partner sees of its redemptions: filtered lists (keyset pages), counts per week and per
region for the portal's charts, and rows for CSV/XLSX export.

Everything is restricted to the caller's scope (its organisation) and, for a counter agent, to the
redemptions they recorded themselves. Dates are calendar days in Morocco.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from webapp.clock import MOROCCO, export_moment
from webapp.models import Artisan, Card, Offer, Redemption
from webapp.services.partners.offer_fields import readable_values
from webapp.services.register.reference_data import region_name
from webapp.services.scope import Scope
from webapp.services.spreadsheets import neutralised

PAGE_SIZE = 50
CHART_WEEKS = 12


@dataclass(frozen=True)
class RedemptionFilter:
    offer_id: int | None = None
    region_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    over_quota: bool | None = None
    recorded_by_user_id: int | None = None  # a counter agent sees only their own


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, MOROCCO).astimezone(UTC)


def _filtered(statement: Select[Any], scope: Scope, chosen: RedemptionFilter) -> Select[Any]:
    statement = statement.join(Offer, Offer.id == Redemption.offer_id)
    statement = scope.filter_organisation(statement, Offer.organisation_id)
    if chosen.offer_id is not None:
        statement = statement.where(Redemption.offer_id == chosen.offer_id)
    if chosen.region_code:
        statement = statement.where(Artisan.region_code == chosen.region_code)
    if chosen.date_from is not None:
        statement = statement.where(Redemption.made_at >= _start_of(chosen.date_from))
    if chosen.date_to is not None:
        statement = statement.where(Redemption.made_at < _start_of(chosen.date_to + timedelta(days=1)))
    if chosen.over_quota is not None:
        statement = statement.where(Redemption.over_quota.is_(chosen.over_quota))
    if chosen.recorded_by_user_id is not None:
        statement = statement.where(Redemption.recorded_by_user_id == chosen.recorded_by_user_id)
    return statement


def _with_holder(statement: Select[Any]) -> Select[Any]:
    return statement.join(Card, Card.id == Redemption.card_id).join(Artisan, Artisan.id == Card.artisan_id)


def list_redemptions(
    session: Session, scope: Scope, chosen: RedemptionFilter, *, before_id: int | None = None, limit: int = PAGE_SIZE
) -> list[Redemption]:
    """The newest redemptions first, `limit` at a time (keyset: pass the last id as `before_id`)."""
    statement = _filtered(_with_holder(select(Redemption)), scope, chosen)
    if before_id is not None:
        statement = statement.where(Redemption.id < before_id)
    statement = statement.options(
        joinedload(Redemption.offer),
        joinedload(Redemption.card).joinedload(Card.artisan),
        joinedload(Redemption.api_key),
        joinedload(Redemption.recorded_by),
    )
    return list(session.scalars(statement.order_by(Redemption.id.desc()).limit(limit)).unique())


def _counted(statement: Select[Any]) -> Select[Any]:
    """Voided redemptions are listed (struck) but never counted."""
    return statement.where(Redemption.voided_at.is_(None))


def count_redemptions(session: Session, scope: Scope, chosen: RedemptionFilter) -> int:
    statement = _counted(_filtered(_with_holder(select(func.count(Redemption.id))), scope, chosen))
    return session.scalar(statement) or 0


def per_region(session: Session, scope: Scope, chosen: RedemptionFilter) -> list[tuple[str, int]]:
    """(region code, redemptions) for the regions that have any, most first."""
    statement = _counted(_filtered(_with_holder(select(Artisan.region_code, func.count(Redemption.id))), scope, chosen))
    rows = session.execute(statement.group_by(Artisan.region_code)).all()
    return sorted(((code, count) for code, count in rows), key=lambda row: (-row[1], row[0]))


def per_week(
    session: Session, scope: Scope, chosen: RedemptionFilter, today: date, weeks: int = CHART_WEEKS
) -> list[tuple[date, int]]:
    """(Monday of the week, redemptions) for the last `weeks` weeks up to `today`, empty weeks included."""
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    recent = replace(chosen, date_from=max(first_monday, chosen.date_from or first_monday))
    statement = _counted(_filtered(_with_holder(select(Redemption.made_at)), scope, recent))
    counts: Counter[date] = Counter()
    for (made_at,) in session.execute(statement):
        day = made_at.astimezone(MOROCCO).date()
        counts[day - timedelta(days=day.weekday())] += 1
    return [
        (first_monday + timedelta(weeks=week), counts[first_monday + timedelta(weeks=week)]) for week in range(weeks)
    ]


EXPORT_COLUMNS = (
    "id",
    "made_at",
    "recorded_at",
    "offer",
    "card",
    "holder",
    "region",
    "region_code",
    "fields",
    "over_quota",
    "offline",
    "recorded_by",
    "voided_at",
    "void_reason",
)


def export_rows(session: Session, scope: Scope, chosen: RedemptionFilter, language: str) -> Iterator[list[Any]]:
    """Every filtered redemption as a row of EXPORT_COLUMNS (cells neutralised), streamed by pages.

    People read these files: the region by its name and the details by their labels; the region's
    code stays in a column of its own for spreadsheets that join on it."""
    before_id: int | None = None
    while True:
        page = list_redemptions(session, scope, chosen, before_id=before_id, limit=1000)
        if not page:
            return
        for redemption in page:
            yield [neutralised(value) for value in _export_row(redemption, language)]
        before_id = page[-1].id


def recorded_by_name(redemption: Redemption) -> str:
    """Who recorded it: the staff member's name, or the API key's name for a partner system."""
    if redemption.api_key is not None:
        return redemption.api_key.label
    if redemption.recorded_by is not None:
        return redemption.recorded_by.display_name
    return ""


def _local(moment: datetime | None) -> str:
    return export_moment(moment) if moment is not None else ""


def _export_row(redemption: Redemption, language: str) -> list[Any]:
    artisan = redemption.card.artisan
    details = readable_values(redemption.offer.fields, redemption.fields, language)
    return [
        redemption.id,
        export_moment(redemption.made_at),
        export_moment(redemption.recorded_at),
        redemption.offer.name(language),
        redemption.card.number,
        artisan.name_latin,
        region_name(artisan.region_code, language) or artisan.region_code,
        artisan.region_code,
        "; ".join(f"{label}: {value}" for label, value in details),
        redemption.over_quota,
        redemption.made_offline,
        recorded_by_name(redemption),
        _local(redemption.voided_at),
        redemption.void_reason or "",
    ]
