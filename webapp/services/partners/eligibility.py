"""Who an offer applies to: one card's eligibility (with the conditions it fails), and each offer's
signed eligibility list (DESIGN decision 4).

The facts a rule reads come from the register: the card (status, trade, sector, region, dates) and
its holder (legal status, CNSS-AMO, gender, support programmes, year activity started, cooperative
membership), plus `today` in Morocco. Phones never receive them: for each applicable offer the
server publishes a list of 1 bit per card, in the Token Status List format of the card status list,
indexed by the card's status-list index (1 = eligible). A card is eligible when it is valid today
(active, not expired), the offer has not been withdrawn from it, and every condition holds.

Building the list for the whole register evaluates the rule once per distinct combination of the
values it reads (a few hundred at most), not once per card: only a dictionary look-up per card.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, literal, not_, or_, select
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import (
    Artisan,
    Card,
    CardStatus,
    CnssStatus,
    EligibilityListState,
    Gender,
    LegalStatus,
    Offer,
    OfferWithdrawal,
    QuotaUsage,
    StatusListState,
    Trade,
    artisan_programme,
    utcnow,
)
from webapp.services.cards.lifecycle import state_of
from webapp.services.errors import N_, DomainError
from webapp.services.partners.offers import applicable_offers, offer_applies, withdrawal_in_force
from webapp.services.partners.quotas import quota_period_key
from webapp.services.partners.rules import Rule, moroccan_today, parse_rule
from webapp.services.register.artisans import artisans_version
from webapp.services.trust.status_list import (
    LIST_ID,
    SignerSource,
    pack_statuses,
    sign_list,
    signed_or_last,
    signer_from,
    still_valid,
)

ELIGIBLE = 1
ELIGIBILITY_BITS = 1


def _morocco_date(moment: datetime) -> date:
    return moment.astimezone(MOROCCO).date()


@dataclass(frozen=True)
class _Variable:
    """How one rule variable is read from a row of the register query."""

    columns: tuple[ColumnElement[Any], ...]
    value: Callable[[Any, datetime], Any]


# Every variable a rule may read (the allow-list lives in rules.py; the two must name the same set,
# which a test checks), with the columns it needs and how its value is made from a row.
_VARIABLES: dict[str, _Variable] = {
    "card.status": _Variable(
        (Card.status, Card.expires_at), lambda row, now: state_of(row.status, row.expires_at, now)
    ),
    "card.trade": _Variable((Artisan.trade_code,), lambda row, now: row.trade_code),
    "card.sector": _Variable((Trade.sector_code,), lambda row, now: row.sector_code),
    "card.region": _Variable((Artisan.region_code,), lambda row, now: row.region_code),
    "card.expires": _Variable((Card.expires_at,), lambda row, now: _morocco_date(row.expires_at)),
    "card.issued": _Variable((Card.issued_at,), lambda row, now: _morocco_date(row.issued_at)),
    "artisan.legal_status": _Variable((Artisan.legal_status,), lambda row, now: row.legal_status.value),
    "artisan.cnss_status": _Variable((Artisan.cnss_status,), lambda row, now: row.cnss_status.value),
    "artisan.gender": _Variable((Artisan.gender,), lambda row, now: row.gender.value),
    "artisan.activity_start_year": _Variable((Artisan.activity_start_year,), lambda row, now: row.activity_start_year),
    "artisan.cooperative_member": _Variable(
        (Artisan.cooperative_name,), lambda row, now: bool(row.cooperative_name and row.cooperative_name.strip())
    ),
    # Read from the programme table separately (a list per artisan).
    "artisan.programmes": _Variable((), lambda row, now: row.programmes),
    "today": _Variable((), lambda row, now: moroccan_today(now)),
}
VARIABLE_NAMES = frozenset(_VARIABLES)


def _columns_for(variables: frozenset[str]) -> list[ColumnElement[Any]]:
    columns: dict[str, ColumnElement[Any]] = {}
    for name in sorted(variables):
        for column in _VARIABLES[name].columns:
            columns[column.key] = column
    return list(columns.values())


class _Row:
    """A register row with its holder's programmes attached (attribute access like a Row)."""

    def __init__(self, row: Any, programmes: list[str]) -> None:
        self._row = row
        self.programmes = programmes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


# Built once (the verify API asks these on every partner scan): a card's facts by id or by number,
# and its holder's programmes.
_ALL_FACT_COLUMNS = _columns_for(VARIABLE_NAMES)
_CARD_FACTS = (
    select(Card.id, Card.artisan_id, *_ALL_FACT_COLUMNS)
    .select_from(Card)
    .join(Artisan, Artisan.id == Card.artisan_id)
    .join(Trade, Trade.code == Artisan.trade_code)
)
_FACTS_BY_ID = _CARD_FACTS.where(Card.id == bindparam("card_id"))
_FACTS_BY_NUMBER = _CARD_FACTS.where(Card.number == bindparam("number"))
_PROGRAMMES = (
    select(artisan_programme.c.programme_code)
    .where(artisan_programme.c.artisan_id == bindparam("artisan_id"))
    .order_by(artisan_programme.c.programme_code)
)


def _facts_of(session: Session, row: Any, now: datetime, with_programmes: bool = True) -> dict[str, Any]:
    programmes = list(session.scalars(_PROGRAMMES, {"artisan_id": row.artisan_id})) if with_programmes else []
    source = _Row(row, programmes)
    return {name: variable.value(source, now) for name, variable in _VARIABLES.items()}


def card_facts(session: Session, card: Card, now: datetime | None = None) -> dict[str, Any]:
    """Every variable a rule may read, for one card and its holder ({"card.status": "active", ...})."""
    return _facts_of(session, session.execute(_FACTS_BY_ID, {"card_id": card.id}).one(), now or utcnow())


@dataclass(frozen=True)
class Eligibility:
    """One card's standing for one offer: eligible, or the labels of what stands in the way."""

    eligible: bool
    failed: tuple[dict[str, str], ...] = ()
    withdrawn: bool = False


def card_eligibility(
    session: Session, offer: Offer, card: Card, facts: Mapping[str, Any], now: datetime | None = None
) -> Eligibility:
    """Whether `card` may use `offer` now, and if not which conditions failed (their labels).

    A card that is not valid today is eligible for nothing; an offer withdrawn from the card
    answers not eligible, with the withdrawal's reason as the failed label.
    """
    withdrawal = withdrawal_in_force(session, offer, card)
    return _standing(offer, facts, withdrawal.reason if withdrawal else None, now or utcnow())


def _standing(offer: Offer, facts: Mapping[str, Any], withdrawn_for: str | None, now: datetime) -> Eligibility:
    if not offer_applies(offer, moroccan_today(now)) or facts["card.status"] != "active":
        return Eligibility(False)
    if withdrawn_for is not None:
        return Eligibility(False, ({"fr": withdrawn_for, "ar": withdrawn_for, "en": withdrawn_for},), withdrawn=True)
    failed = rule_of(offer).failed(facts)
    return Eligibility(not failed, tuple(dict(condition.label) for condition in failed))


def rule_of(offer: Offer) -> Rule:
    """The offer's checked, compiled rule; compiled once per distinct rule, not on every verification."""
    return _compiled_rule(json.dumps(offer.conditions, sort_keys=True, ensure_ascii=False))


@functools.lru_cache(maxsize=256)
def _compiled_rule(conditions_json: str) -> Rule:
    # Keyed by the rule's text, never by the offer's id: a rule is immutable data, an id is not.
    return parse_rule(json.loads(conditions_json))


def _register_rows(session: Session, variables: frozenset[str], now: datetime) -> Iterator[Any]:
    """(card id, status index, values...) of every card valid at `now`, streamed."""
    statement = (
        select(Card.id, Card.status_index, Card.artisan_id, *_columns_for(variables))
        .select_from(Card)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .join(Trade, Trade.code == Artisan.trade_code)
        .where(and_(Card.status == CardStatus.ACTIVE, Card.expires_at > now))
        .execution_options(yield_per=20_000)
    )
    yield from session.execute(statement)


def _programmes_by_artisan(session: Session) -> dict[int, list[str]]:
    programmes: dict[int, list[str]] = defaultdict(list)
    statement = select(artisan_programme.c.artisan_id, artisan_programme.c.programme_code).order_by(
        artisan_programme.c.artisan_id, artisan_programme.c.programme_code
    )
    for artisan_id, code in session.execute(statement):
        programmes[artisan_id].append(code)
    return programmes


def eligible_indices(session: Session, offer: Offer, now: datetime | None = None) -> list[int]:
    """The status-list indices of the cards eligible for `offer` now (none if it does not apply)."""
    now = now or utcnow()
    if not offer_applies(offer, moroccan_today(now)):
        return []
    rule = rule_of(offer)
    variables = rule.variables - {"card.status"}  # every card read here is active
    withdrawn = set(
        session.scalars(
            select(OfferWithdrawal.card_id).where(
                OfferWithdrawal.offer_id == offer.id, OfferWithdrawal.lifted_at.is_(None)
            )
        )
    )
    programmes = _programmes_by_artisan(session) if "artisan.programmes" in variables else {}
    reads = sorted(variables)
    verdicts: dict[tuple[Any, ...], bool] = {}
    indices = []
    for row in _register_rows(session, frozenset(variables), now):
        if row.id in withdrawn:
            continue
        source = _Row(row, programmes.get(row.artisan_id, []))
        values = tuple(_hashable(_VARIABLES[name].value(source, now)) for name in reads)
        holds = verdicts.get(values)
        if holds is None:
            facts = dict(zip(reads, values, strict=True)) | {"card.status": "active"}
            holds = verdicts[values] = rule.holds(facts)
        if holds:
            indices.append(row.status_index)
    return indices


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def register_version(session: Session) -> int:
    """A number that changes whenever a card's status or an index changes (the status list's version)."""
    return session.scalar(select(StatusListState.version).where(StatusListState.id == LIST_ID)) or 0


def register_versions(session: Session) -> tuple[int, int]:
    """What an eligibility list is built from, besides its offer: the cards' statuses and indices
    (the status list's version) and the artisans' attributes (services/register/artisans.py)."""
    return register_version(session), artisans_version(session)


def eligibility_subject(public_base_url: str, offer_id: int) -> str:
    return f"{public_base_url.rstrip('/')}/offers/{offer_id}/eligibility"


def list_is_fresh(
    state: EligibilityListState | None,
    offer: Offer,
    versions: tuple[int, int],
    *,
    validity: timedelta,
    now: datetime,
    min_remaining: timedelta = timedelta(0),
) -> bool:
    """Whether a signed list still says what a rebuild would: built from this offer version and
    these register versions, today in Morocco (rules may read `today`, cards expire at the end of a
    Moroccan day), and signed less than half its validity ago (with at least `min_remaining` left)."""
    return (
        state is not None
        and state.offer_version == offer.version
        and (state.register_version, state.artisans_version) == versions
        and now - state.signed_at < min(validity / 2, validity - min_remaining)
        and _morocco_date(state.signed_at) == _morocco_date(now)
    )


def current_eligibility_list(
    session: Session,
    offer: Offer,
    signer: SignerSource,
    *,
    public_base_url: str,
    validity: timedelta,
    ttl_seconds: int,
    now: datetime | None = None,
    min_remaining: timedelta = timedelta(0),
) -> EligibilityListState:
    """The offer's signed eligibility list, rebuilt when it is not fresh (list_is_fresh).

    Reads the whole register (8-10 s at 622,000 cards): only the eligibility_lists job calls it
    (webapp/services/jobs/eligibility.py); a request serves the last signed list
    (served_eligibility_list) and never builds one.
    """
    now = now or utcnow()
    version, attributes_version = register_versions(session)
    state = session.get(EligibilityListState, offer.id)
    fresh = list_is_fresh(
        state, offer, (version, attributes_version), validity=validity, now=now, min_remaining=min_remaining
    )
    if fresh:
        assert state is not None
        return state
    indices = eligible_indices(session, offer, now)
    size = session.scalar(select(StatusListState.next_index).where(StatusListState.id == LIST_ID)) or 0
    packed = pack_statuses(size, ((index, ELIGIBLE) for index in indices), ELIGIBILITY_BITS)
    token = signed_or_last(
        lambda: sign_list(
            signer_from(signer),
            eligibility_subject(public_base_url, offer.id),
            packed,
            ELIGIBILITY_BITS,
            now=now,
            validity=validity,
            ttl_seconds=ttl_seconds,
        ),
        state.signed_token if state is not None else None,
        now,
        f"eligibility list of offer {offer.id} not signed again",
    )
    if token is None:
        assert state is not None
        return state
    if state is None:
        state = EligibilityListState(offer_id=offer.id)
        session.add(state)
    state.offer_version = offer.version
    state.register_version = version
    state.artisans_version = attributes_version
    state.signed_token = token
    state.signed_at = now
    state.eligible_count = len(indices)
    session.flush()
    return state


def list_margin(offer: Offer, validity: timedelta) -> timedelta:
    """How long a list of this offer must stay valid after it is served: its partner's trust bundle
    may be relied on that long (rule B4: the lists inside outlive the bundle)."""
    return min(timedelta(hours=offer.organisation.kind.max_bundle_age_hours), validity)


class EligibilityListPending(DomainError):
    """The offer's list has not been built yet (a new offer), or its last one has expired: a job
    is building it. A verifier tries again after Retry-After."""

    code = "eligibility_list_pending"
    http_status = 503
    message = N_("This offer's eligibility list is being prepared. Please try again in a few minutes.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(PENDING_RETRY_SECONDS)}


# What a verifier is told to wait before asking again for a list being built (a rebuild at
# 622,000 cards takes about 10 s; a queue may hold a few before it).
PENDING_RETRY_SECONDS = 60


def served_eligibility_list(
    session: Session,
    offer: Offer,
    *,
    validity: timedelta,
    now: datetime,
    ask_rebuild: Callable[[int], None],
) -> EligibilityListState | None:
    """The list a request serves: the last one signed, even when the register or the offer changed
    since (its rebuild is asked for with `ask_rebuild(offer.id)`); None while none is usable (never
    built, or expired). Never builds a list: that is the eligibility_lists job's work."""
    state = session.get(EligibilityListState, offer.id)
    if not list_is_fresh(
        state, offer, register_versions(session), validity=validity, now=now, min_remaining=list_margin(offer, validity)
    ):
        ask_rebuild(offer.id)
    if state is None or not still_valid(state.signed_token, now):
        return None
    return state


@dataclass(frozen=True)
class OfferStanding:
    """One of the caller's offers as seen for one card: eligible or not (with the failed labels),
    and the redemptions left in the current period (None without a quota)."""

    offer: Offer
    eligibility: Eligibility
    remaining: int | None


_WITHDRAWALS = select(OfferWithdrawal.offer_id, OfferWithdrawal.reason).where(
    OfferWithdrawal.card_id == bindparam("card_id"),
    OfferWithdrawal.offer_id.in_(bindparam("offer_ids", expanding=True)),
    OfferWithdrawal.lifted_at.is_(None),
)
_USAGE = select(QuotaUsage.offer_id, QuotaUsage.period, QuotaUsage.used).where(
    QuotaUsage.card_id == bindparam("card_id"), QuotaUsage.offer_id.in_(bindparam("offer_ids", expanding=True))
)


def offers_for_card(
    session: Session, organisation_id: int, card_number: str | None, now: datetime | None = None
) -> list[OfferStanding]:
    """The organisation's applicable offers and the standing of a card for each (least disclosure:
    only this organisation's offers, and no attribute of the holder beyond the failed labels).

    `card_number` is None when the scan gave no valid card: every offer is then not eligible.
    This runs on every partner scan: a fixed handful of prepared queries whatever the number of
    offers (the card's facts, its withdrawals, its quota use), not a few per offer.
    """
    now = now or utcnow()
    offers = applicable_offers(session, organisation_id, moroccan_today(now))
    row = session.execute(_FACTS_BY_NUMBER, {"number": card_number}).one_or_none() if card_number and offers else None
    if row is None:
        return [OfferStanding(offer, Eligibility(False), None) for offer in offers]
    needs_programmes = any("artisan.programmes" in rule_of(offer).variables for offer in offers)
    facts = _facts_of(session, row, now, with_programmes=needs_programmes)
    wanted = {"card_id": row.id, "offer_ids": [offer.id for offer in offers]}
    withdrawn = {offer_id: reason for offer_id, reason in session.execute(_WITHDRAWALS, wanted)}
    usage = {(offer_id, period): used for offer_id, period, used in session.execute(_USAGE, wanted)}
    standings = []
    for offer in offers:
        remaining = None
        if offer.quota_count is not None and offer.quota_period is not None:
            used = usage.get((offer.id, quota_period_key(offer.quota_period, now)), 0)
            remaining = max(0, offer.quota_count - used)
        standings.append(OfferStanding(offer, _standing(offer, facts, withdrawn.get(offer.id), now), remaining))
    return standings


@dataclass(frozen=True)
class CardStanding:
    """A card looked up by number for a partner: what a verifier would answer about it now
    ("unknown" when no card has the number) and the partner's offers for it."""

    card: Card | None
    state: str
    offers: list[OfferStanding]


def card_standing(session: Session, organisation_id: int, number: str, now: datetime | None = None) -> CardStanding:
    """The eligibility API's and the portal's card check (`number` canonical, see normalize_card_number)."""
    now = now or utcnow()
    card = session.scalar(select(Card).where(Card.number == number))
    state = state_of(card.status, card.expires_at, now) if card is not None else "unknown"
    offers = offers_for_card(session, organisation_id, number if state == "active" else None, now)
    return CardStanding(card, state, offers)


@dataclass(frozen=True)
class AdmittedCount:
    """How many valid cards a rule admits today, out of how many valid cards in the register."""

    admitted: int
    valid_cards: int


# The variables a condition may compare with literals in SQL: the column, and how a literal is
# made comparable with it (the enum columns compare with their members).
_SQL_COLUMNS: dict[str, tuple[ColumnElement[Any], Callable[[Any], Any]]] = {
    "card.region": (Artisan.region_code, str),
    "card.trade": (Artisan.trade_code, str),
    "card.sector": (Trade.sector_code, str),
    "artisan.cnss_status": (Artisan.cnss_status, CnssStatus),
    "artisan.legal_status": (Artisan.legal_status, LegalStatus),
    "artisan.gender": (Artisan.gender, Gender),
    "artisan.activity_start_year": (Artisan.activity_start_year, lambda number: number),
}
_YEARS_OF_ACTIVITY = {"-": [{"year": [{"var": "today"}]}, {"var": "artisan.activity_start_year"}]}
_COMPARE: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}
_FLIPPED = {"==": "==", "!=": "!=", ">=": "<=", ">": "<", "<=": ">=", "<": ">"}


class _SqlCondition:
    """One condition of the editor's subset as a SQL predicate on the register query, with the
    missing-value rule of rules.py: a condition reading a column that is NULL for a card fails,
    whatever its logic (also under `!`), so each column read adds `IS NOT NULL` to the condition."""

    class Untranslatable(Exception):
        """A condition outside the subset written as SQL. Never leaves this module: the count then
        evaluates the rule in Python (`count_admitted`), so it is no refusal (not a DomainError)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.read: dict[str, ColumnElement[Any]] = {}

    def predicate(self, logic: Any) -> ColumnElement[bool]:
        expression = self.node(logic)
        return and_(expression, *(column.is_not(None) for column in self.read.values()))

    def operand(self, node: Any) -> tuple[ColumnElement[Any], Callable[[Any], Any]] | None:
        """The SQL of a variable (or of the years of activity), None for a literal."""
        if isinstance(node, dict) and list(node) == ["var"]:
            name = node["var"]
            if name not in _SQL_COLUMNS:
                raise self.Untranslatable(name)
            column, convert = _SQL_COLUMNS[name]
            self.read[name] = column
            return column, convert
        if node == _YEARS_OF_ACTIVITY:
            self.read["artisan.activity_start_year"] = Artisan.activity_start_year
            return literal(self.today.year) - Artisan.activity_start_year, lambda number: number
        if isinstance(node, dict):
            raise self.Untranslatable(node)
        return None

    def node(self, node: Any) -> ColumnElement[bool]:
        if not isinstance(node, dict) or len(node) != 1:
            raise self.Untranslatable(node)
        ((operator, operands),) = node.items()
        if operator in ("and", "or"):
            parts = [self.node(operand) for operand in operands]
            return and_(*parts) if operator == "and" else or_(*parts)
        if operator == "!" and len(operands) == 1:
            return not_(self.node(operands[0]))
        if operator == "in" and len(operands) == 2:
            return self.membership(*operands)
        if operator in _COMPARE and len(operands) == 2:
            left, right = self.operand(operands[0]), self.operand(operands[1])
            if left is not None and right is None:
                column, convert = left
                return _COMPARE[operator](column, convert(operands[1]))
            if right is not None and left is None:
                column, convert = right
                return _COMPARE[_FLIPPED[operator]](column, convert(operands[0]))
        raise self.Untranslatable(node)

    def membership(self, needle: Any, haystack: Any) -> ColumnElement[bool]:
        if haystack == {"var": "artisan.programmes"} and isinstance(needle, str):
            return exists().where(
                artisan_programme.c.artisan_id == Artisan.id, artisan_programme.c.programme_code == needle
            )
        subject = self.operand(needle)
        if subject is not None and isinstance(haystack, list) and not any(isinstance(v, dict) for v in haystack):
            column, convert = subject
            return column.in_([convert(value) for value in haystack])
        raise self.Untranslatable(needle)


def _count_in_sql(session: Session, rule: Rule, now: datetime) -> AdmittedCount:
    """The count with the rule written as SQL (`_SqlCondition.Untranslatable` when a condition is not
    in the subset)."""
    builder = _SqlCondition(moroccan_today(now))
    predicates = [builder.predicate(condition.logic) for condition in rule.conditions]
    admitted = func.count().filter(and_(*predicates)) if predicates else func.count()
    statement = (
        select(admitted, func.count())
        .select_from(Card)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .join(Trade, Trade.code == Artisan.trade_code)
        .where(and_(Card.status == CardStatus.ACTIVE, Card.expires_at > now))
    )
    counted, valid = session.execute(statement).one()
    return AdmittedCount(counted, valid)


def count_admitted(session: Session, conditions: Any, now: datetime | None = None) -> AdmittedCount:
    """How many cards valid at `now` (active, not expired) a rule would admit: the portal's preview
    of a rule being written (InvalidRule when it cannot be saved). Withdrawals and the offer's
    window are the offer's, not the rule's, so they are left out.

    A request waits for it, so no card row crosses into Python. The rules the condition editor
    writes (comparisons of the register's columns and of the years of activity with literals,
    membership, programmes, and/or/not) are counted by one SQL query, with the missing-value rule
    of rules.py. Any other rule (dates of the card, `if`, arithmetic) is counted like the
    eligibility lists evaluate it (`Rule.holds` on the same facts), once per distinct combination
    of the values it reads, which the database groups and counts. bench/rule_preview.py measures
    both; tests check both against the per-card evaluation.
    """
    rule = parse_rule(conditions)
    now = now or utcnow()
    try:
        return _count_in_sql(session, rule, now)
    except _SqlCondition.Untranslatable:
        return _count_by_groups(session, rule, now)


def _count_by_groups(session: Session, rule: Rule, now: datetime) -> AdmittedCount:
    variables = frozenset(rule.variables - {"card.status"})  # every card counted here is active
    columns = _columns_for(variables)
    statement = (
        select(*columns, func.count().label("n"))
        .select_from(Card)
        .join(Artisan, Artisan.id == Card.artisan_id)
        .join(Trade, Trade.code == Artisan.trade_code)
        .where(and_(Card.status == CardStatus.ACTIVE, Card.expires_at > now))
    )
    groups: list[ColumnElement[Any]] = list(columns)
    if "artisan.programmes" in variables:
        # One text per artisan of their programme codes (order does not matter: sorted below).
        codes = (
            select(
                artisan_programme.c.artisan_id,
                func.aggregate_strings(artisan_programme.c.programme_code, ",").label("codes"),
            )
            .group_by(artisan_programme.c.artisan_id)
            .subquery()
        )
        statement = statement.outerjoin(codes, codes.c.artisan_id == Artisan.id).add_columns(codes.c.codes)
        groups.append(codes.c.codes)
    if groups:
        statement = statement.group_by(*groups)
    admitted = valid = 0
    for row in session.execute(statement):
        programmes = sorted(row.codes.split(",")) if "artisan.programmes" in variables and row.codes else []
        source = _Row(row, programmes)
        facts = {name: _VARIABLES[name].value(source, now) for name in variables} | {"card.status": "active"}
        valid += row.n
        if rule.holds(facts):
            admitted += row.n
    return AdmittedCount(admitted, valid)
