"""Who checked a card (issue 15, part 5).

Recording: each online check by a partner (staff signed in, or a system with an API key) is one row
of `card_check`, inserted in the request's transaction under a savepoint (note_check_in); an
anonymous check (the public page) only adds one to the card's count for the month, one upsert
committed at once on the verify API's own connection (note_check). Either way one statement, and a
failure is logged and swallowed: a verdict never waits long for, nor fails because of, its record.

Reading: the holder sees the partners' checks (organisation, time, place), the redemptions of
their card (from the redemption table), and the monthly anonymous counts, over the retention
period; they may report a check as "this was not me" (audited); the officers of the holder's region
can list the reported checks. A redemption may be reported the same way (report_redemption). Rows
older than the retention period are deleted in batches (`flask --app wsgi cards purge-checks`,
daily); redemptions are not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, literal_column, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import (
    AnonymousCheckCount,
    Artisan,
    Card,
    CardCheck,
    CheckKind,
    Offer,
    Organisation,
    Redemption,
    utcnow,
)
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.scope import Scope

logger = logging.getLogger(__name__)

MAX_PLACE_LENGTH = 120
# Ids are SQL integers: a larger number names no check (and would overflow a query's parameter).
MAX_CHECK_ID = 2**31 - 1
PURGE_BATCH_SIZE = 5_000
# How long an anonymous check's count waits for SQLite's write lock before it is given up.
SQLITE_RECORD_WAIT_MS = 100


@dataclass(frozen=True)
class Checker:
    """A partner checking a card online: the organisation, how, where it says, and who exactly."""

    organisation_id: int
    kind: CheckKind
    place: str | None = None
    user_id: int | None = None
    api_key_id: int | None = None


def clean_place(raw: object) -> str | None:
    """A place as stored: trimmed, inner runs of spaces made one, control characters dropped, at
    most MAX_PLACE_LENGTH characters; None when nothing is left (the API has refused worse already)."""
    if not isinstance(raw, str):
        return None
    text = " ".join("".join(c for c in raw if c.isprintable() or c.isspace()).split())
    return text[:MAX_PLACE_LENGTH] or None


def month_of(moment: datetime) -> str:
    """The month a moment counts in, by the calendar in Morocco ("2026-12")."""
    return moment.astimezone(MOROCCO).strftime("%Y-%m")


# Both statements name the card by its number (what a verification knows) and find its id in the
# same statement: one round trip, and a number of no card inserts nothing.
_INSERT_CHECK = CardCheck.__table__.insert().from_select(
    ["card_id", "organisation_id", "checked_at", "kind", "place", "user_id", "api_key_id"],
    select(
        Card.id,
        bindparam("organisation_id"),
        bindparam("checked_at", type_=CardCheck.__table__.c.checked_at.type),
        bindparam("kind"),
        bindparam("place"),
        bindparam("user_id"),
        bindparam("api_key_id"),
    ).where(Card.number == bindparam("number")),
)


def _count_statement(dialect: Dialect) -> Any:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    table = AnonymousCheckCount.__table__
    statement = insert(table).from_select(
        ["card_id", "month", "checks"],
        select(Card.id, bindparam("month"), literal_column("1")).where(Card.number == bindparam("number")),
    )
    return statement.on_conflict_do_update(
        index_elements=["card_id", "month"], set_={"checks": table.c.checks + statement.excluded.checks}
    )


# The anonymous count runs on every public verification: like the verdict's own lookup
# (services/verification.py), it is compiled once per dialect and run on the DBAPI cursor, which
# costs a fraction of Core's execution machinery.
_COMPILED_COUNTS: dict[tuple[str, str], tuple[str, tuple[str, ...] | None]] = {}


def _compiled_count(dialect: Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The SQL of the count's upsert, and its parameters' order when positional (None: by name)."""
    key = (dialect.name, dialect.paramstyle)
    if key not in _COMPILED_COUNTS:
        compiled = _count_statement(dialect).compile(dialect=dialect)
        _COMPILED_COUNTS[key] = (compiled.string, tuple(compiled.positiontup or ()) if compiled.positional else None)
    return _COMPILED_COUNTS[key]


def record_check(connection: Connection, number: str, checker: Checker, now: datetime) -> None:
    """One statement, not committed: a row for a partner's check. A number of no card inserts nothing."""
    connection.execute(
        _INSERT_CHECK,
        {
            "number": number,
            "organisation_id": checker.organisation_id,
            "checked_at": now,
            "kind": checker.kind.value,
            "place": clean_place(checker.place),
            "user_id": checker.user_id,
            "api_key_id": checker.api_key_id,
        },
    )


def _count_anonymous_check(connection: Connection, number: str, now: datetime) -> None:
    """+1 on the card's anonymous count for the month, committed at once on the connection's DBAPI
    connection (a number of no card counts nothing)."""
    sql, order = _compiled_count(connection.dialect)
    values = {"number": number, "month": month_of(now)}
    parameters: Any = tuple(values[name] for name in order) if order is not None else values
    dbapi_connection = connection.connection
    cursor = dbapi_connection.cursor()
    sqlite_wait = None
    try:
        if connection.dialect.name == "postgresql":
            # A count lost in a crash is acceptable, a disk flush per verification is not; and it must
            # not queue behind a lock for long (one round trip for both settings, no parameters).
            cursor.execute("SET LOCAL synchronous_commit TO OFF; SET LOCAL lock_timeout = '200ms'")
        elif connection.dialect.name == "sqlite":
            # Another request's write (a redemption, an import batch) may hold the file's lock: wait a
            # moment, not the request's whole busy timeout, then give the count up.
            cursor.execute("PRAGMA busy_timeout")
            sqlite_wait = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_RECORD_WAIT_MS}")
        cursor.execute(sql, parameters)
        dbapi_connection.commit()
    finally:
        if sqlite_wait is not None:
            cursor.execute(f"PRAGMA busy_timeout = {sqlite_wait}")
        cursor.close()


def note_check(connection: Connection, number: str, checker: Checker | None, now: datetime) -> bool:
    """Record a check in its own short transaction on `connection`, committed at once: a partner's
    check as a row (record_check), an anonymous one (`checker` None) as +1 on the card's count for the
    month. False, logged, when it could not be: the verification goes on (a lost record is a smaller
    harm than a verdict refused or delayed for it). The verify API passes its read-only connection,
    which holds no other work."""
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        if checker is None:
            _count_anonymous_check(connection, number, now)
        else:
            record_check(connection, number, checker, now)
            connection.commit()
        return True
    except (SQLAlchemyError, driver_error):
        logger.warning("card check of %s not recorded", number, exc_info=True)
        try:
            connection.rollback()
            connection.connection.rollback()
        except (SQLAlchemyError, driver_error):
            logger.warning("rollback after an unrecorded card check failed", exc_info=True)
        return False


def note_check_in(session: Session, number: str, checker: Checker, now: datetime) -> bool:
    """Record a partner's check within the request's own transaction (a partner's request may hold
    writes of its own, such as its API key's last use: a second connection would wait for them),
    under a savepoint, so a failure is logged and undone without touching the rest; False then."""
    try:
        with session.begin_nested():
            record_check(session.connection(), number, checker, now)
        return True
    except SQLAlchemyError:
        logger.warning("card check of %s not recorded", number, exc_info=True)
        return False


# --- What the holder sees ---


def retention_start(now: datetime, months: int) -> datetime:
    """The oldest moment still kept: the same day and time `months` calendar months ago (the last day
    of that month when it is shorter)."""
    month_index = now.year * 12 + now.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for day in range(now.day, 27, -1):  # 31, 30, 29, 28: the first that exists in that month
        try:
            return now.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return now.replace(year=year, month=month, day=min(now.day, 28))


@dataclass(frozen=True)
class CheckView:
    """One partner's check of the holder's card, as the holder sees it."""

    id: int
    organisation: str
    checked_at: datetime
    place: str | None
    kind: CheckKind
    reported_at: datetime | None


@dataclass(frozen=True)
class RedemptionView:
    """One use of an offer with the holder's card, as the holder sees it."""

    id: int
    organisation: str
    offer: Offer
    made_at: datetime
    offline: bool
    reported_at: datetime | None


@dataclass(frozen=True)
class CheckHistory:
    checks: list[CheckView]
    redemptions: list[RedemptionView]
    anonymous: list[tuple[str, int]]  # (month "2026-12", checks), newest first
    since: datetime


def check_history(
    session: Session, artisan_id: int, now: datetime, retention_months: int, limit: int = 200
) -> CheckHistory:
    """The checks of all the artisan's cards within the retention period, newest first (at most
    `limit` of each kind): partners' checks, redemptions, and the anonymous checks per month."""
    since = retention_start(now, retention_months)
    cards = select(Card.id).where(Card.artisan_id == artisan_id).scalar_subquery()
    checks = session.execute(
        select(CardCheck, Organisation.name)
        .join(Organisation, Organisation.id == CardCheck.organisation_id)
        .where(CardCheck.card_id.in_(cards), CardCheck.checked_at >= since)
        .order_by(CardCheck.checked_at.desc(), CardCheck.id.desc())
        .limit(limit)
    ).all()
    redemptions = session.execute(
        select(Redemption, Offer, Organisation.name)
        .join(Offer, Offer.id == Redemption.offer_id)
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .where(Redemption.card_id.in_(cards), Redemption.made_at >= since)
        .order_by(Redemption.made_at.desc(), Redemption.id.desc())
        .limit(limit)
    ).all()
    anonymous = session.execute(
        select(AnonymousCheckCount.month, func.sum(AnonymousCheckCount.checks))
        .where(AnonymousCheckCount.card_id.in_(cards), AnonymousCheckCount.month >= month_of(since))
        .group_by(AnonymousCheckCount.month)
        .order_by(AnonymousCheckCount.month.desc())
    ).all()
    return CheckHistory(
        checks=[
            CheckView(check.id, name, check.checked_at, check.place, check.kind, check.reported_at)
            for check, name in checks
        ],
        redemptions=[
            RedemptionView(
                redemption.id, name, offer, redemption.made_at, redemption.made_offline, redemption.reported_at
            )
            for redemption, offer, name in redemptions
        ],
        anonymous=[(month, int(total)) for month, total in anonymous],
        since=since,
    )


class CheckNotFound(DomainError):
    """No check with this id on the holder's cards (another holder's is not disclosed)."""

    code = "check_not_found"
    http_status = 404
    message = N_("No such check of your card.")


class CheckAlreadyReported(DomainError):
    code = "check_already_reported"
    http_status = 409
    message = N_("You have already reported this check.")


def report_check(session: Session, artisan_id: int, check_id: int, user_id: int, actor: Actor) -> CardCheck:
    """ "This was not me": the holder marks one of their card's checks as reported (who, when),
    audited with the check's details, for the officers of the holder's region to follow up."""
    if not 0 < check_id <= MAX_CHECK_ID:
        raise CheckNotFound()
    check = session.scalar(
        select(CardCheck)
        .join(Card, Card.id == CardCheck.card_id)
        .where(CardCheck.id == check_id, Card.artisan_id == artisan_id)
        .with_for_update()
    )
    if check is None:
        raise CheckNotFound()
    if check.reported_at is not None:
        raise CheckAlreadyReported()
    card = session.get(Card, check.card_id)
    assert card is not None  # the foreign key guarantees it
    check.reported_at = utcnow()
    check.reported_by_user_id = user_id
    session.flush()
    record_event(
        session,
        actor,
        "card_check.report_not_me",
        card=card,
        organisation_id=check.organisation_id,
        before={"reported": False},
        after={
            "check": check.id,
            "checked_at": check.checked_at.isoformat(),
            "kind": check.kind.value,
            "place": check.place,
            "user_id": check.user_id,
            "api_key_id": check.api_key_id,
            "reported": True,
        },
    )
    return check


@dataclass(frozen=True)
class ReportedCheck:
    """A check a holder said was not them, for the officers of the holder's region."""

    check: CardCheck
    card_number: str
    artisan_id: int
    holder: str
    organisation: str


def _reported(scope: Scope) -> object:
    statement = (
        select(CardCheck, Card.number, Artisan.id, Artisan.first_name_latin, Artisan.last_name_latin, Organisation.name)
        .join(Card, Card.id == CardCheck.card_id)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .join(Organisation, Organisation.id == CardCheck.organisation_id)
        .where(CardCheck.reported_at.is_not(None))
    )
    return scope.filter_region(statement, Artisan.region_code)


def reported_checks(session: Session, scope: Scope, limit: int = 100) -> list[ReportedCheck]:
    """The reported checks of the scope's region (every region for a national scope), newest report first."""
    statement = _reported(scope).order_by(CardCheck.reported_at.desc(), CardCheck.id.desc()).limit(limit)  # type: ignore[attr-defined]
    return [
        ReportedCheck(check, number, artisan_id, f"{first} {last}", organisation)
        for check, number, artisan_id, first, last, organisation in session.execute(statement)
    ]


def count_reported_checks(session: Session, scope: Scope) -> int:
    """How many reported checks the scope's region has (a count for the back office's dashboard)."""
    statement = (
        select(func.count())
        .select_from(CardCheck)
        .join(Card, Card.id == CardCheck.card_id)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .where(CardCheck.reported_at.is_not(None))
    )
    return session.scalar(scope.filter_region(statement, Artisan.region_code)) or 0


class RedemptionNotFound(DomainError):
    """No redemption with this id with the holder's cards (another holder's is not disclosed)."""

    code = "redemption_not_found"
    http_status = 404
    message = N_("No such use of your card.")


class RedemptionAlreadyReported(DomainError):
    code = "redemption_already_reported"
    http_status = 409
    message = N_("You have already reported this use of your card.")


def report_redemption(session: Session, artisan_id: int, redemption_id: int, user_id: int, actor: Actor) -> Redemption:
    """ "This was not me" for a use of an offer with the holder's card (an offline one shows up only
    when the partner's phone syncs): marked reported (who, when) and audited with ids only (the
    redemption's fields may hold personal data), for the officers of the holder's region."""
    if not 0 < redemption_id <= MAX_CHECK_ID:
        raise RedemptionNotFound()
    redemption = session.scalar(
        select(Redemption)
        .join(Card, Card.id == Redemption.card_id)
        .where(Redemption.id == redemption_id, Card.artisan_id == artisan_id)
        .with_for_update()
    )
    if redemption is None:
        raise RedemptionNotFound()
    if redemption.reported_at is not None:
        raise RedemptionAlreadyReported()
    redemption.reported_at = utcnow()
    redemption.reported_by_user_id = user_id
    session.flush()
    record_event(
        session,
        actor,
        "redemption.report_not_me",
        card=redemption.card,
        organisation_id=redemption.offer.organisation_id,
        before={"reported": False},
        after={
            "redemption": redemption.id,
            "offer": redemption.offer_id,
            "made_at": redemption.made_at.isoformat(),
            "made_offline": redemption.made_offline,
            "user_id": redemption.recorded_by_user_id,
            "api_key_id": redemption.api_key_id,
            "reported": True,
        },
    )
    return redemption


@dataclass(frozen=True)
class ReportedRedemption:
    """A use of an offer a holder said was not them, for the officers of the holder's region."""

    redemption: Redemption
    card_number: str
    artisan_id: int
    holder: str
    organisation: str
    offer: Offer


def _reported_redemptions(scope: Scope) -> Any:
    statement = (
        select(Redemption, Card.number, Artisan.id, Artisan.first_name_latin, Artisan.last_name_latin)
        .join(Card, Card.id == Redemption.card_id)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .where(Redemption.reported_at.is_not(None))
    )
    return scope.filter_region(statement, Artisan.region_code)


def reported_redemptions(session: Session, scope: Scope, limit: int = 100) -> list[ReportedRedemption]:
    """The reported redemptions of the scope's region (every region for a national scope), newest report first."""
    statement = (
        _reported_redemptions(scope)
        .add_columns(Offer, Organisation.name)
        .join(Offer, Offer.id == Redemption.offer_id)
        .join(Organisation, Organisation.id == Offer.organisation_id)
        .order_by(Redemption.reported_at.desc(), Redemption.id.desc())
        .limit(limit)
    )
    return [
        ReportedRedemption(redemption, number, artisan_id, f"{first} {last}", organisation, offer)
        for redemption, number, artisan_id, first, last, offer, organisation in session.execute(statement)
    ]


def count_reported_redemptions(session: Session, scope: Scope) -> int:
    """How many reported redemptions the scope's region has."""
    statement = (
        select(func.count())
        .select_from(Redemption)
        .join(Card, Card.id == Redemption.card_id)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .where(Redemption.reported_at.is_not(None))
    )
    return session.scalar(scope.filter_region(statement, Artisan.region_code)) or 0


def count_reports(session: Session, scope: Scope) -> int:
    """Everything holders reported in the scope's region, checks and redemptions (the dashboard's count)."""
    return count_reported_checks(session, scope) + count_reported_redemptions(session, scope)


# --- Retention ---


def purge_check_batch(
    session: Session, now: datetime, retention_months: int, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete at most `batch_size` checks and as many anonymous counts older than the retention
    period; how many rows went. The caller commits between batches (short transactions, no long lock)."""
    since = retention_start(now, retention_months)
    old_checks = select(CardCheck.id).where(CardCheck.checked_at < since).limit(batch_size).scalar_subquery()
    deleted = session.execute(
        delete(CardCheck).where(CardCheck.id.in_(old_checks)).execution_options(synchronize_session=False)
    ).rowcount
    old_counts = (
        select(AnonymousCheckCount.card_id, AnonymousCheckCount.month)
        .where(AnonymousCheckCount.month < month_of(since))
        .limit(batch_size)
    )
    deleted += session.execute(
        delete(AnonymousCheckCount)
        .where(tuple_(AnonymousCheckCount.card_id, AnonymousCheckCount.month).in_(old_counts))
        .execution_options(synchronize_session=False)
    ).rowcount
    return deleted
