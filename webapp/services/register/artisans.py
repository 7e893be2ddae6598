"""Artisans of the register, within a scope: read, list, create and update; and what follows
whenever artisans are written (artisans_written).

An officer works on their own region only: another region's artisan is not found (404, exactly
like a missing one, so nothing is disclosed), and no record is created in, or moved to, another
region. RNA numbers are given by the system, the next of the region (services/register/numbers.py);
RNA numbers and CINs are unique by the database's constraints; a refusal is explained on the field
it concerns. A likely duplicate (services/register/duplicates.py) is shown and must be confirmed.
Every change writes one audit event with the changed fields before and after.

`search_artisans` here is provisional (exact identifiers or a LIKE over names, keyset on id): the
full-text search of services/register/search.py takes its place with the same signature.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from webapp.models import (
    Artisan,
    AuditEvent,
    Card,
    CardStatus,
    RegisterState,
    SupportProgramme,
    User,
    artisan_programme,
    utcnow,
)
from webapp.models.artisan import CnssStatus, Gender
from webapp.services.audit import Actor, record_event
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.concurrency import claim_version
from webapp.services.errors import N_, DomainError
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.register.artisan_fields import (
    FIELDS,
    ArtisanRecord,
    FieldProblem,
    InvalidArtisan,
    normalize_cin,
    normalize_phone,
)
from webapp.services.register.duplicates import check_duplicates
from webapp.services.register.numbers import allocate_rna_number
from webapp.services.scope import NATIONAL, RecordNotFound, Scope
from webapp.services.upserts import insert_if_absent

REGISTER_STATE_ID = 1

# Ids are SQL integers: a larger one names nothing.
MAX_ID = 2**31 - 1
PAGE_SIZE = 50
MAX_TRAIL = 200
# What the card-status filter may ask for: the state of the card in force, or no card in force
# ("revoked": every card the artisan had is revoked; "none": never had one).
CARD_FILTERS = ("active", "suspended", "expired", "revoked", "none")


class OutsideOwnRegion(InvalidArtisan):
    """An officer placed an artisan in another region than their own (a new one, or a move)."""

    code = "outside_own_region"
    http_status = 422
    message = N_("An officer registers artisans of their own region only.")

    def __init__(self) -> None:
        super().__init__(
            {
                "region_code": FieldProblem(
                    N_("Your own region only: the national administration moves artisans between regions.")
                )
            }
        )


class DuplicateArtisan(InvalidArtisan):
    """Another artisan of the register already has this RNA number or CIN (in any region)."""

    code = "duplicate_artisan"
    http_status = 409
    message = N_("Already in the register: %(fields)s.")

    def __init__(self, fields: Iterable[str]) -> None:
        messages = {
            "rna_number": N_("Another artisan of the register already has this RNA number."),
            "cin": N_("Another artisan of the register already has this CIN."),
        }
        super().__init__({field: FieldProblem(messages[field]) for field in fields})


class BadCursor(DomainError):
    code = "bad_cursor"
    http_status = 400
    message = N_("This link to a further page is not valid: start again from the first page.")


# Reading --------------------------------------------------------------------------------------


def get_artisan(session: Session, artisan_id: int, scope: Scope = NATIONAL) -> Artisan:
    """The artisan with this id if the scope covers it; RecordNotFound otherwise (no disclosure)."""
    if not 0 < artisan_id <= MAX_ID:
        raise RecordNotFound()
    statement = scope.filter_region(select(Artisan).where(Artisan.id == artisan_id), Artisan.region_code)
    artisan = session.scalar(statement)
    if artisan is None:
        raise RecordNotFound()
    return artisan


def list_artisans(session: Session, scope: Scope = NATIONAL, *, limit: int = 50, after_id: int = 0) -> list[Artisan]:
    """Artisans by id (keyset pagination), restricted to the scope's region."""
    statement = select(Artisan).where(Artisan.id > after_id).order_by(Artisan.id).limit(limit)
    return list(session.scalars(scope.filter_region(statement, Artisan.region_code)))


@dataclass(frozen=True)
class ArtisanQuery:
    """What a list of the register asks for: a search text and filters (None: any)."""

    text: str = ""
    region_code: str | None = None
    trade_code: str | None = None
    card_status: str | None = None  # one of CARD_FILTERS
    cnss_status: CnssStatus | None = None
    gender: Gender | None = None
    programme_code: str | None = None

    @classmethod
    def from_filters(cls, filters: dict[str, str]) -> ArtisanQuery:
        """The query of a list's filters as its URL names them (q, region, trade, card, cnss, gender,
        programme; absent or empty: any): what the list's page and an export job both read."""
        chosen = {name: value.strip() for name, value in filters.items() if (value or "").strip()}
        return cls(
            text=chosen.get("q", ""),
            region_code=chosen.get("region"),
            trade_code=chosen.get("trade"),
            card_status=chosen.get("card"),
            cnss_status=CnssStatus(chosen["cnss"]) if "cnss" in chosen else None,
            gender=Gender(chosen["gender"]) if "gender" in chosen else None,
            programme_code=chosen.get("programme"),
        )


@dataclass(frozen=True)
class ArtisanPage:
    """One page of a list, and the cursor of the next page (None on the last)."""

    rows: list[Artisan]
    next_cursor: str | None


def search_artisans(
    session: Session,
    scope: Scope,
    query: ArtisanQuery,
    after: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> ArtisanPage:
    """The artisans the query finds in the scope, newest first, one page after the cursor."""
    statement = _matching(select(Artisan), scope, query, now or utcnow())
    if after:
        statement = statement.where(Artisan.id < _cursor_id(after))
    rows = list(session.scalars(statement.order_by(Artisan.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return ArtisanPage(rows[:limit], next_cursor)


def count_artisans(session: Session, scope: Scope, query: ArtisanQuery, now: datetime | None = None) -> int:
    """How many artisans the query finds in the scope (all pages)."""
    statement = _matching(select(func.count(Artisan.id)), scope, query, now or utcnow())
    return session.scalar(statement) or 0


def artisan_ids(scope: Scope, query: ArtisanQuery, now: datetime | None = None) -> Select[tuple[int]]:
    """A select of the ids of the artisans the query finds in the scope (what an export of the
    list reads, a page at a time: services/register/exports.py)."""
    return _matching(select(Artisan.id), scope, query, now or utcnow())


def _cursor_id(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 10 and 0 < int(cursor) <= MAX_ID + 1):
        raise BadCursor()
    return int(cursor)


def _matching(statement: Any, scope: Scope, query: ArtisanQuery, now: datetime) -> Any:
    statement = scope.filter_region(statement, Artisan.region_code)
    if query.region_code:
        statement = statement.where(Artisan.region_code == query.region_code)
    if query.trade_code:
        statement = statement.where(Artisan.trade_code == query.trade_code)
    if query.cnss_status:
        statement = statement.where(Artisan.cnss_status == query.cnss_status)
    if query.gender:
        statement = statement.where(Artisan.gender == query.gender)
    if query.programme_code:
        statement = statement.where(
            exists().where(
                artisan_programme.c.artisan_id == Artisan.id,
                artisan_programme.c.programme_code == query.programme_code,
            )
        )
    if query.card_status:
        statement = statement.where(_card_status_is(query.card_status, now))
    if query.text.replace("\x00", "").strip():
        statement = statement.where(_text_matches(query.text))
    return statement


def _card_status_is(state: str, now: datetime) -> ColumnElement[bool]:
    def has_card(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(Card.artisan_id == Artisan.id, *conditions)

    if state == "active":
        return has_card(Card.status == CardStatus.ACTIVE, Card.expires_at > now)
    if state == "expired":
        return has_card(Card.status == CardStatus.ACTIVE, Card.expires_at <= now)
    if state == "suspended":
        return has_card(Card.status == CardStatus.SUSPENDED)
    if state == "revoked":
        return and_(has_card(), ~has_card(Card.status != CardStatus.REVOKED))
    if state == "none":
        return ~has_card()
    raise ValueError(f"unknown card status filter {state!r}")


_NAME_COLUMNS = (Artisan.first_name_latin, Artisan.last_name_latin, Artisan.first_name_ar, Artisan.last_name_ar)


def _text_matches(text: str) -> ColumnElement[bool]:
    """An identifier typed exactly (CIN, RNA number, card number, phone), or every word of the text
    inside one of the names."""
    text = text.replace("\x00", "").strip()  # PostgreSQL refuses a NUL in a text parameter
    found: list[ColumnElement[bool]] = [
        Artisan.cin == normalize_cin(text),
        Artisan.rna_number == text.upper().replace(" ", ""),
    ]
    if card_number := normalize_card_number(text):
        found.append(Artisan.id.in_(select(Card.artisan_id).where(Card.number == card_number)))
    if phone := normalize_phone(text):
        found.append(Artisan.phone == phone)
    words = [
        or_(*(func.lower(column).contains(word.lower(), autoescape=True) for column in _NAME_COLUMNS))
        for word in text.split()
    ]
    found.append(and_(*words))
    return or_(*found)


def artisans_by_id(session: Session, ids: Sequence[int]) -> list[Artisan]:
    """The artisans with these ids (a page of search results), with their region and trade loaded."""
    if not ids:
        return []
    statement = (
        select(Artisan).where(Artisan.id.in_(ids)).options(joinedload(Artisan.region), joinedload(Artisan.trade))
    )
    return list(session.scalars(statement))


def cards_in_force(session: Session, artisans: Sequence[Artisan]) -> dict[int, Card]:
    """The card in force (active or suspended) of each of these artisans who has one, by artisan id."""
    ids = [artisan.id for artisan in artisans]
    if not ids:
        return {}
    cards = session.scalars(select(Card).where(Card.artisan_id.in_(ids), Card.status != CardStatus.REVOKED))
    return {card.artisan_id: card for card in cards}


def artisan_cards(session: Session, artisan: Artisan) -> list[Card]:
    """Every card the artisan has had, newest first."""
    return list(session.scalars(select(Card).where(Card.artisan_id == artisan.id).order_by(Card.id.desc())))


@dataclass(frozen=True)
class TrailEntry:
    event: AuditEvent
    card_number: str | None
    actor_name: str | None  # the person's display name, when a person acted


# Events of an artisan's trail: their record and their cards (a partner's redemptions are the
# partner's business, not the register's).
_TRAIL_ACTIONS = ("artisan.", "card.", "offer.")


def artisan_trail(session: Session, artisan: Artisan, limit: int = MAX_TRAIL) -> list[TrailEntry]:
    """What happened to the artisan's record and cards, newest first."""
    statement = (
        select(AuditEvent, Card.number, User.display_name)
        .outerjoin(Card, Card.id == AuditEvent.card_id)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(
            AuditEvent.artisan_id == artisan.id,
            or_(*(AuditEvent.action.startswith(prefix) for prefix in _TRAIL_ACTIONS)),
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return [TrailEntry(event, number, name) for event, number, name in session.execute(statement)]


# Changing -------------------------------------------------------------------------------------


def artisan_snapshot(artisan: Artisan) -> dict[str, Any]:
    """The register fields of an artisan as the audit trail keeps them (JSON values)."""
    snapshot: dict[str, Any] = {}
    for field in FIELDS:
        if field == "programmes":
            snapshot[field] = sorted(programme.code for programme in artisan.programmes)
            continue
        value = getattr(artisan, field)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, date):
            value = value.isoformat()
        snapshot[field] = value
    return snapshot


def _programmes(session: Session, codes: Sequence[str]) -> list[SupportProgramme]:
    found = {p.code: p for p in session.scalars(select(SupportProgramme).where(SupportProgramme.code.in_(codes)))}
    return [found[code] for code in codes if code in found]


def _duplicate_of(session: Session, record: ArtisanRecord, artisan_id: int | None) -> DuplicateArtisan | None:
    """After the database refused a record: which of its unique fields another artisan holds."""
    others = select(Artisan.rna_number, Artisan.cin).where(
        or_(Artisan.rna_number == record.rna_number, Artisan.cin == record.cin)
    )
    if artisan_id is not None:
        others = others.where(Artisan.id != artisan_id)
    fields = set()
    for rna_number, cin in session.execute(others):
        fields |= {"rna_number"} if rna_number == record.rna_number else set()
        fields |= {"cin"} if cin == record.cin else set()
    return DuplicateArtisan(sorted(fields, key=FIELDS.index)) if fields else None


def create_artisan(
    session: Session,
    record: ArtisanRecord,
    scope: Scope,
    actor: Actor,
    *,
    confirmed_duplicates: Collection[int] | None = None,
) -> Artisan:
    """Register a new artisan (in the officer's own region) with the next RNA number of the region
    unless the record has one; DuplicateArtisan if the RNA number or the CIN is already in the
    register; LikelyDuplicate while an artisan who may be the same person was not shown and
    confirmed (`confirmed_duplicates`: the ids shown; services/register/duplicates.py)."""
    if not scope.covers_region(record.region_code):
        raise OutsideOwnRegion()
    shown = check_duplicates(session, record, scope, confirmed_duplicates)
    if record.rna_number is None:
        record = replace(record, rna_number=allocate_rna_number(session, record.region_code))
    artisan = Artisan(**record.columns())
    artisan.programmes = _programmes(session, record.programmes)
    try:
        with session.begin_nested():
            session.add(artisan)
    except IntegrityError:
        duplicate = _duplicate_of(session, record, None)
        if duplicate is None:
            raise
        raise duplicate from None
    record_event(session, actor, "artisan.create", artisan=artisan, after=artisan_snapshot(artisan) | _shown(shown))
    artisans_written(session, [artisan.id])
    return artisan


def _shown(duplicates: list[int]) -> dict[str, Any]:
    """What the audit event keeps of the likely duplicates shown and confirmed (none: nothing)."""
    return {"likely_duplicates_shown": duplicates} if duplicates else {}


@dataclass(frozen=True)
class ArtisanChange:
    artisan: Artisan
    changed: tuple[str, ...]  # the fields that changed, in register order


def update_artisan(
    session: Session,
    artisan_id: int,
    record: ArtisanRecord,
    scope: Scope,
    actor: Actor,
    *,
    confirmed_duplicates: Collection[int] | None = None,
    expected_version: int | None = None,
) -> ArtisanChange:
    """Rewrite an artisan's register fields (the RNA number stays when the record has none).
    Another region's artisan is not found; an officer cannot move one out of their region; a taken
    RNA number or CIN is refused on its field; a change that makes the record look like another
    artisan's needs a confirmation (LikelyDuplicate, as on creation). One audit event with the
    changed fields, none when nothing changed.

    A form's save names the version it showed: EditConflict, and nothing written, when the record
    was saved meanwhile (services/concurrency.py); without one (a command), the version moves on."""
    artisan = get_artisan(session, artisan_id, scope)
    if not scope.covers_region(record.region_code):
        raise OutsideOwnRegion()
    # The claim first, then the values as they now stand: what the trail's "before" says is what
    # this save replaces, even if another committed just before.
    claim_version(session, artisan, artisan.version if expected_version is None else expected_version)
    session.refresh(artisan)
    if record.rna_number is None:
        record = replace(record, rna_number=artisan.rna_number)
    shown = _duplicates_of_change(session, artisan, record, scope, confirmed_duplicates)
    before = artisan_snapshot(artisan)
    try:
        with session.begin_nested():
            for column, value in record.columns().items():
                setattr(artisan, column, value)
            artisan.programmes = _programmes(session, record.programmes)
    except IntegrityError:
        duplicate = _duplicate_of(session, record, artisan.id)
        if duplicate is None:
            raise
        raise duplicate from None
    after = artisan_snapshot(artisan)
    changed = tuple(field for field in FIELDS if after[field] != before[field])
    if changed:
        record_event(
            session,
            actor,
            "artisan.update",
            artisan=artisan,
            before={field: before[field] for field in changed},
            after={field: after[field] for field in changed} | _shown(shown),
        )
        artisans_written(session, [artisan.id])
    return ArtisanChange(artisan, changed)


# What makes a record look like another's: a change to one of these may create a likely duplicate.
_DUPLICATE_FIELDS = ("first_name_latin", "last_name_latin", "first_name_ar", "last_name_ar", "birth_date", "phone")


def _duplicates_of_change(
    session: Session, artisan: Artisan, record: ArtisanRecord, scope: Scope, confirmed: Collection[int] | None
) -> list[int]:
    """The likely duplicates an edit creates, confirmed (none when no name, birth date or phone
    changed: an artisan who already looked like another is not asked again on every edit)."""
    if all(getattr(artisan, field) == getattr(record, field) for field in _DUPLICATE_FIELDS):
        return []
    return check_duplicates(session, record, scope, confirmed, artisan.id)


def artisans_written(session: Session, ids: Collection[int]) -> None:
    """Call after creating artisans or changing their attributes (forms, imports), in the same
    transaction: the register's artisans version moves on, and every offer's eligibility list is
    rebuilt by a job once it commits (eligibility reads trade, region, CNSS status, programmes...)."""
    if not ids:
        return
    # Atomic on both databases: the row is created once, then the counter moves under its row lock.
    insert_if_absent(session, RegisterState, {"id": REGISTER_STATE_ID, "artisans_version": 0}, ["id"])
    session.execute(
        update(RegisterState)
        .where(RegisterState.id == REGISTER_STATE_ID)
        .values(artisans_version=RegisterState.artisans_version + 1)
    )
    ask_rebuild(session)


def artisans_version(session: Session) -> int:
    """A number that changes whenever artisans are written (see artisans_written)."""
    return session.scalar(select(RegisterState.artisans_version).where(RegisterState.id == REGISTER_STATE_ID)) or 0
