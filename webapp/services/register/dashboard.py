"""The register at a glance, within a scope (an officer's region, or the country): artisans by
region, trade, gender and CNSS-AMO status, cards by state, and cards issued per month.

Every figure is one GROUP BY in the database (the register has some 622,000 artisans: nothing is
counted in Python row by row); months are cut in UTC by the database and labelled by the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, and_, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from webapp.models import Artisan, Card, CardStatus
from webapp.services.scope import Scope

MONTHS_SHOWN = 12
# The states a card is shown in; "expired" follows from the expiry date of an active card.
CARD_STATES = ("active", "suspended", "expired", "revoked")


@dataclass(frozen=True)
class RegisterOverview:
    artisans: int
    women: int
    cards_in_force: int  # active and not expired
    artisans_without_card: int  # no card in force (active or suspended), whatever its expiry
    by_region: list[tuple[str, int]]  # (region code, artisans), most first
    by_trade: list[tuple[str, int]]  # (trade code, artisans), most first
    by_gender: dict[str, int]
    by_cnss: dict[str, int]
    cards_by_state: dict[str, int]  # every state of CARD_STATES, zero included
    issued_per_month: list[tuple[str, int]]  # ("YYYY-MM", cards issued), the last MONTHS_SHOWN months


def register_overview(session: Session, scope: Scope, now: datetime) -> RegisterOverview:
    """The figures of the dashboard for the artisans the scope covers."""
    by_region = _grouped(session, scope, Artisan.region_code)
    by_gender = dict(_grouped(session, scope, Artisan.gender))
    cards_by_state = _cards_by_state(session, scope, now)
    return RegisterOverview(
        artisans=sum(count for _code, count in by_region),
        women=by_gender.get("female", 0),
        cards_in_force=cards_by_state["active"],
        artisans_without_card=_artisans_without_card(session, scope),
        by_region=by_region,
        by_trade=_grouped(session, scope, Artisan.trade_code),
        by_gender=by_gender,
        by_cnss=dict(_grouped(session, scope, Artisan.cnss_status)),
        cards_by_state=cards_by_state,
        issued_per_month=_issued_per_month(session, scope, now),
    )


def _grouped(session: Session, scope: Scope, column: ColumnElement) -> list[tuple[str, int]]:
    statement = scope.filter_region(select(column, func.count()).group_by(column), Artisan.region_code)
    rows = [(str(getattr(value, "value", value)), count) for value, count in session.execute(statement)]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _cards_by_state(session: Session, scope: Scope, now: datetime) -> dict[str, int]:
    state = case(
        (and_(Card.status == CardStatus.ACTIVE, Card.expires_at <= now), "expired"),
        else_=type_coerce(Card.status, String),  # the stored word, not the enum ("expired" is none)
    )
    statement = select(state, func.count()).join(Artisan, Artisan.id == Card.artisan_id).group_by(state)
    counts = dict.fromkeys(CARD_STATES, 0)
    for name, count in session.execute(scope.filter_region(statement, Artisan.region_code)):
        counts[str(name)] = count
    return counts


def _artisans_without_card(session: Session, scope: Scope) -> int:
    in_force = exists().where(Card.artisan_id == Artisan.id, Card.status != CardStatus.REVOKED)
    statement = select(func.count()).select_from(Artisan).where(~in_force)
    return session.scalar(scope.filter_region(statement, Artisan.region_code)) or 0


def _issued_per_month(session: Session, scope: Scope, now: datetime) -> list[tuple[str, int]]:
    months = _last_months(now, MONTHS_SHOWN)
    first = datetime(int(months[0][:4]), int(months[0][5:]), 1, tzinfo=UTC)
    month = _month_of(session, Card.issued_at)
    statement = (
        select(month, func.count())
        .join(Artisan, Artisan.id == Card.artisan_id)
        .where(Card.issued_at >= first)
        .group_by(month)
    )
    counts = dict(session.execute(scope.filter_region(statement, Artisan.region_code)).all())
    return [(label, counts.get(label, 0)) for label in months]


def _month_of(session: Session, column: ColumnElement) -> ColumnElement:
    """The column's month as "YYYY-MM" in UTC, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _last_months(now: datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    labels = []
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return labels[::-1]
