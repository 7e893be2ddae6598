"""Search of the register: one box (names in either script, CIN, RNA number, card number, phone),
filters, and keyset pages that stay fast at 622,000 artisans, within the reader's scope.

What the box matches
- Text with a digit in it is an identifier: each word, and the whole text without spaces, is tried
  as a CIN, an RNA number (both case-insensitive), a card number (Crockford look-alikes accepted,
  check character verified; a replaced or revoked card still finds its holder) and a phone number
  in any form (0612345678, +212 6 12 34 56 78, 00212...). Each is an equality on an indexed column.
  (One card number in 40 has no digit: a word that is a valid card number finds its holder first,
  before any names it might match.)
- Other text is names. Each word is folded into keys by webapp/models/search_keys.py, the one
  folding used when a row is indexed and when a query is read (its docstring lists the rules):
  case and accents (Lahçen = lahcen, Hélène), Arabic tashkeel and tatweel, alef forms أ إ آ ا,
  ي/ى, ة/ه; Latin articles (El Alaoui = Al-Alaoui = Alaoui) and the Arabic one (العلوي = علوي),
  Abd names (Abdelkader = Abd El Kader = Abdul Kader); and a sound key, the consonant skeleton of
  a transliteration (Mohamed = Mohammed = Mohamad = Muhammad, Youssef = Youssouf = Yousef,
  Fatima = Fatma = Fatema, Abderrahim = Abdurrahim, Ouazzani = Wazzani; Brahim = Ibrahim). A row
  matches when every word of the query is the start of one of the row's keys (so a half-typed word
  finds its names), or every word of another reading of the query: two neighbouring words glued
  (Ben Jelloun finds Benjelloun). A word too loose to have a sound key of its own (AAAA, Zzzzzz:
  one letter once folded) matches by its spelling only, so a query with no real match finds nothing.

Order and tiers
- Matches come in two tiers: first the rows where every word matched a spelling key (the name as
  typed, up to case, accents and Arabic orthography), then the rows that needed a sound key (other
  transliterations). Within a tier, and for lists without text, the newest registration comes
  first (id descending): an officer finds the artisan they just registered at the top.
- Keyset pagination, never OFFSET: the opaque cursor holds the tier, the last id shown and a
  fingerprint of the query and filters; a cursor that does not decode, or belongs to another
  query, is refused with InvalidCursor (400), never a server error.

How each database runs it (one interface, the dialect picks the statement)
- SQLite: the FTS5 table `artisan_search` over `artisan.search_keys` (webapp/models/search_index.py)
  drives the query, in rowid order, so FTS5 stops after a page of matches:
  `("mohamed"*) AND ("bennani"*)`, then `("mohamed"* OR "0mhmd"*) AND (...) NOT (...)`.
- PostgreSQL: the GIN index over the same keys as a tsvector of exact lexemes, matched with a
  tsquery (`('mohamed':* | '0mhmd':*) & (...)`). Its planner cannot tell a rare key prefix from a
  common one, so a name search reads the newest 10,000 ids in id order first and, when they hold
  less than a page, takes the rest through the GIN index (_postgresql_names says why).
- Filters are plain columns (region and trade indexed). The card shown, and filtered on, is the
  artisan's latest, which is also the one in force when there is one (a new card can be issued
  only once the previous one is revoked): active, suspended, revoked, expired (active but past its
  expiry), or none (never had a card). A state filter is a join to the card in that state, so the
  few suspended, revoked or expired cards are where a list of them starts.
- The page is cut first, then each of its rows gets its card (not every match); a later page
  starts from its cursor's id, so page 1,000 costs what page 1 does.

count_artisans counts what the pages would give, up to a cap (500 unless told: "500+"), through
the same statements.

Scope: an officer's searches run inside their region (webapp/services/scope.py): another region's
artisan is never in a page, whatever the query or the cursor.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    cast,
    column,
    exists,
    func,
    join,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session, aliased

from webapp.models import Artisan, Card, CardStatus, CnssStatus, Gender, artisan_programme, utcnow
from webapp.models.search_index import FTS_TABLE, SQLITE_REBUILD, postgresql_vector
from webapp.models.search_keys import (
    NAME_FIELDS,
    QueryWord,
    glued_readings,
    phone_key,
    query_words,
    search_columns,
)
from webapp.services.cards.lifecycle import state_of
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.errors import N_, DomainError
from webapp.services.scope import Scope

# What a list shows about an artisan's card; "none" is an artisan who never had one.
CARD_STATES = ("active", "suspended", "revoked", "expired", "none")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_TEXT_LENGTH = 200
MAX_CODE_LENGTH = 16  # the longest reference code (support programmes)
COUNT_CAP = 500
_NAME_TIERS = 2  # spelling, then sound
# Newest artisans a PostgreSQL name search reads in id order before it turns to the GIN index.
POSTGRESQL_WINDOW = 10_000
_REINDEX_BATCH = 5_000
_PHONE_LIKE = re.compile(r"\+?[\d\s().-]{6,}")
_CURSOR = re.compile(r"1\.(?P<tier>[0-9])\.(?P<last_id>[0-9]{1,18})\.(?P<fingerprint>[A-Za-z0-9_-]{12})")


class InvalidCursor(DomainError):
    """A next-page cursor that was altered, truncated, or made for another search."""

    code = "invalid_cursor"
    http_status = 400
    message = N_("This page of results cannot be continued: run the search again.")


class InvalidSearchFilter(DomainError):
    code = "invalid_filter"
    http_status = 422
    message = N_("This search filter has a value the register does not know: %(value)s.")

    def __init__(self, value: str) -> None:
        super().__init__(value=value)


@dataclass(frozen=True)
class ArtisanQuery:
    """What a search asks for; None or "" means "any"."""

    text: str = ""  # one box: Latin or Arabic names, CIN, RNA number, card number, phone
    region_code: str | None = None
    trade_code: str | None = None
    card_status: str | None = None  # one of CARD_STATES
    cnss_status: str | None = None  # a CnssStatus value
    gender: str | None = None  # a Gender value
    programme_code: str | None = None


@dataclass(frozen=True)
class ArtisanRow:
    """What a list screen shows about one artisan and their current card."""

    id: int
    rna_number: str
    cin: str
    first_name_latin: str
    last_name_latin: str
    first_name_ar: str
    last_name_ar: str
    region_code: str
    trade_code: str
    card_number: str | None
    card_state: str  # one of CARD_STATES
    card_expires_at: datetime | None

    @property
    def name_latin(self) -> str:
        return f"{self.first_name_latin} {self.last_name_latin}"

    @property
    def name_ar(self) -> str:
        return f"{self.first_name_ar} {self.last_name_ar}"


@dataclass(frozen=True)
class ArtisanPage:
    rows: list[ArtisanRow]
    next_cursor: str | None  # opaque; None on the last page


def search_artisans(
    session: Session,
    scope: Scope,
    query: ArtisanQuery,
    *,
    after: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    now: datetime | None = None,
) -> ArtisanPage:
    """One page of the artisans matching `query` within `scope`, best tier first, newest first;
    `after` is the previous page's next_cursor (None or "" for the first page); `limit` is brought
    within 1..MAX_PAGE_SIZE."""
    _check_filters(query)
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    now = now or utcnow()
    fingerprint = _fingerprint(query)
    tier, last_id = _read_cursor(after, fingerprint) if after else (0, None)
    statement = _filtered(select(*_ARTISAN_COLUMNS), scope, query)
    matchers = _matchers(session, _clean_text(query.text))
    if tier >= len(matchers):
        raise InvalidCursor()
    rows: list[ArtisanRow] = []
    next_cursor = None
    for index in range(tier, len(matchers)):
        wanted = limit - len(rows)
        after_id = last_id if index == tier else None
        found = _run(session, matchers[index], statement, query.card_status, after_id, wanted + 1, now, _rows)
        rows += found[:wanted]
        if len(found) > wanted:
            # More in this tier: continue after the last row shown (from its top if none was).
            next_cursor = _write_cursor(index, found[wanted - 1].id if wanted else None, fingerprint)
            break
    return ArtisanPage(rows, next_cursor)


def count_artisans(
    session: Session, scope: Scope, query: ArtisanQuery, *, cap: int = COUNT_CAP, now: datetime | None = None
) -> int:
    """How many artisans search_artisans finds for `query` in `scope`, counted up to `cap` (a screen
    says "500+"): an exact count of 44,000 Mohameds would cost more than the page it heads."""
    _check_filters(query)
    now = now or utcnow()
    statement = _filtered(select(Artisan.id), scope, query)
    total = 0
    for matcher in _matchers(session, _clean_text(query.text)):
        total += len(_run(session, matcher, statement, query.card_status, None, cap - total, now, _ids))
        if total >= cap:
            break
    return total


def reindex_artisans(session: Session, ids: Iterable[int] | None = None) -> int:
    """Recompute the search keys of these artisans (every artisan when `ids` is None) and write
    those that changed; returns how many changed. For writers that bypass the ORM (bulk inserts
    without search_columns, SQL updates of names); ORM writes keep the keys right by themselves.

    On SQLite a full reindex also rebuilds the FTS5 index from the column, which repairs an index
    that went out of step (the triggers keep it in step with every write of the column)."""
    session.flush()
    artisan = Artisan.__table__
    columns = select(artisan.c.id, *(artisan.c[name] for name in NAME_FIELDS), artisan.c.phone)
    columns = columns.add_columns(artisan.c.search_keys, artisan.c.phone_key)
    changes = 0
    for batch in _batches(session, columns, None if ids is None else sorted(set(ids))):
        updates = []
        for row in batch:
            values = row._mapping
            wanted = search_columns(values)
            if wanted["search_keys"] != values["search_keys"] or wanted["phone_key"] != values["phone_key"]:
                updates.append(
                    {"artisan_id": values["id"], "new_keys": wanted["search_keys"], "new_phone": wanted["phone_key"]}
                )
        if updates:
            statement = (
                update(artisan)
                .where(artisan.c.id == bindparam("artisan_id"))
                .values(search_keys=bindparam("new_keys"), phone_key=bindparam("new_phone"))
            )
            session.execute(statement, updates)
            changes += len(updates)
    if ids is None and session.get_bind().dialect.name == "sqlite":
        session.execute(text(SQLITE_REBUILD))
    return changes


def _batches(session: Session, columns: Select[Any], ids: Sequence[int] | None) -> Iterable[Sequence[Any]]:
    if ids is not None:
        for start in range(0, len(ids), _REINDEX_BATCH):
            yield session.execute(columns.where(Artisan.id.in_(ids[start : start + _REINDEX_BATCH]))).all()
        return
    last = 0
    while True:
        batch = session.execute(columns.where(Artisan.id > last).order_by(Artisan.id).limit(_REINDEX_BATCH)).all()
        if not batch:
            return
        yield batch
        last = batch[-1].id


# --- filters ------------------------------------------------------------------------------------

_any_card = aliased(Card, name="any_card")
_ARTISAN_COLUMNS = (
    Artisan.id,
    Artisan.rna_number,
    Artisan.cin,
    Artisan.first_name_latin,
    Artisan.last_name_latin,
    Artisan.first_name_ar,
    Artisan.last_name_ar,
    Artisan.region_code,
    Artisan.trade_code,
)


def _check_filters(query: ArtisanQuery) -> None:
    for value, allowed in (
        (query.card_status, CARD_STATES),
        (query.gender, [member.value for member in Gender]),
        (query.cnss_status, [member.value for member in CnssStatus]),
    ):
        if value and value not in allowed:
            raise InvalidSearchFilter(value[:40])
    for code in (query.region_code, query.trade_code, query.programme_code):
        if code and (len(code) > MAX_CODE_LENGTH or not code.isprintable()):
            raise InvalidSearchFilter(code[:MAX_CODE_LENGTH].encode("unicode_escape").decode("ascii"))


def _clean_text(text: str) -> str:
    """The box's text, within its length, control characters as spaces (PostgreSQL refuses a NUL)."""
    return "".join(char if char.isprintable() else " " for char in text[:MAX_TEXT_LENGTH]).strip()


def _filtered(statement: Select[Any], scope: Scope, query: ArtisanQuery) -> Select[Any]:
    """The statement with the scope and the filters on the artisan (the card's state is a join)."""
    statement = scope.filter_region(statement, Artisan.region_code)
    if query.region_code:
        statement = statement.where(Artisan.region_code == query.region_code)
    if query.trade_code:
        statement = statement.where(Artisan.trade_code == query.trade_code)
    if query.gender:
        statement = statement.where(Artisan.gender == Gender(query.gender))
    if query.cnss_status:
        statement = statement.where(Artisan.cnss_status == CnssStatus(query.cnss_status))
    if query.programme_code:
        member = exists().where(
            artisan_programme.c.artisan_id == Artisan.id, artisan_programme.c.programme_code == query.programme_code
        )
        statement = statement.where(member)
    return statement


def _card_filter(state: str | None, now: datetime, dialect: str) -> tuple[Any, Any]:
    """How to keep the artisans whose current card is in `state`: a join to that card, or a
    condition. The card in force, if any, is the latest (a card is issued only when no other is in
    force) and there is at most one, so a state is a join to one card, which lets the database
    start from the few suspended, revoked or expired cards (ix_card_status_expires_at) instead of
    reading every artisan of a region. A revoked card is current when no newer card exists."""
    if not state:
        return None, None
    if state == "none":
        return None, ~exists().where(_any_card.artisan_id == Artisan.id)
    active = (Card.status == CardStatus.ACTIVE) & (Card.expires_at > now)
    if state == "active" and dialect == "sqlite":
        # SQLite has no statistics: joined, it would start from the active cards (almost all of
        # them). It reads the artisans in order instead and looks up each one's card in force, by
        # artisan: "not revoked nor suspended" rather than "active", or it would look the card up
        # through the status index, reading every active card for each artisan.
        in_force = exists().where(
            _any_card.artisan_id == Artisan.id,
            _any_card.status != CardStatus.REVOKED,
            _any_card.status != CardStatus.SUSPENDED,
            _any_card.expires_at > now,
        )
        return None, in_force
    conditions = {
        "active": active,
        "expired": (Card.status == CardStatus.ACTIVE) & (Card.expires_at <= now),
        "suspended": Card.status == CardStatus.SUSPENDED,
        "revoked": (Card.status == CardStatus.REVOKED)
        & ~exists().where(_any_card.artisan_id == Card.artisan_id, _any_card.id > Card.id),
    }
    return (Card.artisan_id == Artisan.id) & conditions[state], None


# --- text ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Identifiers:
    """Artisans found by identifier (CIN, RNA, card number, phone)."""

    ids: frozenset[int]


@dataclass(frozen=True)
class _Names:
    """Artisans whose keys match every word of one of the query's readings (the words as typed,
    or two neighbours glued: search_keys.glued_readings): by spelling only (tier 0), or needing a
    sound key (tier 1)."""

    readings: tuple[tuple[QueryWord, ...], ...]
    tier: int


_Matcher = _Identifiers | _Names | None


def _matchers(session: Session, text: str) -> list[_Matcher]:
    """What each tier of this text matches, in order."""
    if any(char.isdigit() for char in text):
        return [_Identifiers(_identified(session, text))]
    words = query_words(text)
    if not words:
        return [None]
    readings = tuple(tuple(reading) for reading in [words, *glued_readings(words)])
    names: list[_Matcher] = [_Names(readings, tier) for tier in range(_NAME_TIERS)]
    # One card number in 40 has no digit (YBHEHXKGWQ): its holder comes first, then any names.
    number = normalize_card_number(text)
    holders = _card_holders(session, {number}) if number else frozenset()
    return [_Identifiers(holders), *names] if holders else names


def _identified(session: Session, text: str) -> frozenset[int]:
    """Ids of the artisans whose CIN, RNA number, card number or phone is one of the text's words,
    or the whole text without spaces ("BE 123456", "06 12 34 56 78")."""
    candidates = {*text.split(), re.sub(r"\s+", "", text)}
    upper = sorted({candidate.upper() for candidate in candidates})
    phones = {phone_key(candidate) for candidate in candidates if _PHONE_LIKE.fullmatch(candidate)}
    if _PHONE_LIKE.fullmatch(text):
        phones.add(phone_key(text))
    numbers = {normalize_card_number(candidate) for candidate in candidates}
    ids: set[int] = set()
    ids.update(session.scalars(select(Artisan.id).where(Artisan.cin.in_(upper))))
    ids.update(session.scalars(select(Artisan.id).where(Artisan.rna_number.in_(upper))))
    if phones - {None}:
        ids.update(session.scalars(select(Artisan.id).where(Artisan.phone_key.in_(phones - {None}))))
    return frozenset(ids | _card_holders(session, {number for number in numbers if number}))


def _card_holders(session: Session, numbers: set[str]) -> frozenset[int]:
    """Ids of the artisans who hold or held a card of these numbers."""
    if not numbers:
        return frozenset()
    return frozenset(session.scalars(select(Card.artisan_id).where(Card.number.in_(sorted(numbers)))))


_fts = table(FTS_TABLE, column("rowid", Integer), column(FTS_TABLE))
# How a tier's page is read: whole rows with their card (a page), or ids (a count).
_Reader = Callable[[Session, Select[Any], datetime], list[Any]]


def _run(
    session: Session,
    matcher: _Matcher,
    statement: Select[Any],
    card_state: str | None,
    last_id: int | None,
    count: int,
    now: datetime,
    read: _Reader,
) -> list[Any]:
    """Up to `count` rows of one tier, newest first, after `last_id`, as `read` reads a page."""
    if isinstance(matcher, _Identifiers) and not matcher.ids:
        return []
    dialect = session.get_bind().dialect.name
    artisans: Any = Artisan.__table__
    order_key: Any = Artisan.id
    if isinstance(matcher, _Names) and dialect == "sqlite":
        # FTS5 drives: it yields the matching rowids in order, so it stops after a page.
        artisans = join(_fts, Artisan.__table__, Artisan.id == _fts.c.rowid)
        order_key = _fts.c.rowid
        statement = statement.where(_fts.c[FTS_TABLE].match(_fts5_expression(matcher)))
    elif isinstance(matcher, _Names):
        statement = statement.where(_postgresql_match(matcher))
    elif isinstance(matcher, _Identifiers):
        statement = statement.where(Artisan.id.in_(sorted(matcher.ids)))
    card_join, card_condition = _card_filter(card_state, now, dialect)
    statement = statement.select_from(artisans if card_join is None else artisans.join(Card.__table__, card_join))
    if card_condition is not None:
        statement = statement.where(card_condition)
    if last_id is not None:
        statement = statement.where(order_key < last_id)
    if isinstance(matcher, _Names) and dialect == "postgresql":
        return _postgresql_names(session, statement, last_id, count, now, read)
    return read(session, statement.order_by(order_key.desc()).limit(count), now)


def _postgresql_names(
    session: Session, statement: Select[Any], last_id: int | None, count: int, now: datetime, read: _Reader
) -> list[Any]:
    """A name search on PostgreSQL, in two reads whose cost is bounded whatever the planner guesses.

    The planner guesses how many rows a key prefix matches from its statistics; for a prefix they
    do not list (a rare name) it assumes 0.5% of the register, expects a page within the first few
    hundred artisans in id order, and reads them in id order: through the whole table when the name
    is rare or absent (1.3 s at 622,000). So the newest POSTGRESQL_WINDOW ids are read first (a
    bounded read, enough for a common name); only when they hold less than a page is the rest
    taken through the GIN index and sorted, and then the name is rare, so its matches are few."""
    top = last_id if last_id is not None else (session.scalar(select(func.max(Artisan.id))) or 0) + 1
    floor = top - POSTGRESQL_WINDOW
    recent = read(session, statement.where(Artisan.id >= floor).order_by(Artisan.id.desc()).limit(count), now)
    if len(recent) == count or floor <= 1:
        return recent
    # Ordered by id + 0, which no index holds: the planner cannot choose to read in id order.
    older = statement.where(Artisan.id < floor).order_by((Artisan.id + literal_column("0")).desc())
    return recent + read(session, older.limit(count - len(recent)), now)


def _ids(session: Session, page_statement: Select[Any], _now: datetime) -> list[int]:
    """The page's ids only (counting)."""
    return list(session.scalars(select(page_statement.subquery("page").c.id)))


def _rows(session: Session, page_statement: Select[Any], now: datetime) -> list[ArtisanRow]:
    """The page's artisans with their latest card, looked up for the page's rows only (joined
    before the page is cut, PostgreSQL looked up the card of every match it sorted)."""
    page = page_statement.subquery("page")
    latest_card_id = select(func.max(_any_card.id)).where(_any_card.artisan_id == page.c.id).scalar_subquery()
    statement = (
        select(page, Card.number, Card.status, Card.expires_at)
        .select_from(page.outerjoin(Card.__table__, Card.id == latest_card_id))
        .order_by(page.c.id.desc())
    )
    rows = []
    for *artisan, number, status, expires_at in session.execute(statement):
        state = "none" if number is None else state_of(status, expires_at, now)
        rows.append(ArtisanRow(*artisan, card_number=number, card_state=state, card_expires_at=expires_at))
    return rows


def _alternatives(word: QueryWord, tier: int) -> tuple[list[str], list[str]]:
    """Keys matched as prefixes, keys matched whole: spelling keys, and sound keys in tier 1."""
    prefixes, whole = [word.spelling], list(word.spelling_exact)
    if tier == 1:
        prefixes += [word.sound] if word.sound else []
        whole += word.sound_exact
    return prefixes, whole


def _fts5_expression(names: _Names) -> str:
    """An FTS5 query: keys are letters and digits only, so quoting cannot be broken out of."""

    def reading(words: Sequence[QueryWord], tier: int) -> str:
        terms = []
        for word in words:
            prefixes, whole = _alternatives(word, tier)
            terms.append("(" + " OR ".join([f'"{key}"*' for key in prefixes] + [f'"{key}"' for key in whole]) + ")")
        return "(" + " AND ".join(terms) + ")"

    def condition(tier: int) -> str:
        return " OR ".join(reading(words, tier) for words in names.readings)

    return condition(0) if names.tier == 0 else f"({condition(1)}) NOT ({condition(0)})"


def _postgresql_match(names: _Names) -> ColumnElement[bool]:
    """The tier's condition on the GIN-indexed tsvector. The second tier's "but not the first" is
    a condition of its own, checked on the rows the index found: inside the tsquery, GIN would
    evaluate the negation over the index too (twice the time, measured)."""
    vector = postgresql_vector(Artisan.search_keys)
    matched = vector.op("@@")(cast(_tsquery(names.readings, names.tier), TSQUERY))
    if names.tier == 0:
        return matched
    return matched & ~vector.op("@@")(cast(_tsquery(names.readings, 0), TSQUERY))


def _tsquery(readings: Sequence[Sequence[QueryWord]], tier: int) -> str:
    """A PostgreSQL tsquery of exact lexemes (letters and digits only, so quoting is safe): every
    word's spelling (and, in tier 1, sound) keys, for any of the query's readings."""
    alternatives = []
    for words in readings:
        terms = []
        for word in words:
            prefixes, whole = _alternatives(word, tier)
            terms.append("(" + " | ".join([f"'{key}':*" for key in prefixes] + [f"'{key}'" for key in whole]) + ")")
        alternatives.append("(" + " & ".join(terms) + ")")
    return " | ".join(alternatives)


# --- cursor -------------------------------------------------------------------------------------


def _fingerprint(query: ArtisanQuery) -> str:
    """Short digest of the query and filters: a cursor only continues the search it came from."""
    digest = hashlib.sha256(json.dumps(asdict(query), sort_keys=True, ensure_ascii=False).encode()).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


def _write_cursor(tier: int, last_id: int | None, fingerprint: str) -> str:
    payload = f"1.{tier}.{last_id or 0}.{fingerprint}"  # "1.": the format's version, read by _CURSOR
    return base64.urlsafe_b64encode(payload.encode("ascii")).decode("ascii").rstrip("=")


def _read_cursor(cursor: str, fingerprint: str) -> tuple[int, int | None]:
    """The tier and last id of a cursor written for this query; InvalidCursor otherwise."""
    if len(cursor) > 64:
        raise InvalidCursor()
    try:
        payload = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error) as error:  # UnicodeDecodeError is a ValueError
        raise InvalidCursor() from error
    parts = _CURSOR.fullmatch(payload)
    if parts is None or parts["fingerprint"] != fingerprint:
        raise InvalidCursor()
    return int(parts["tier"]), int(parts["last_id"]) or None
