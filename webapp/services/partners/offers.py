"""Offers: what a partner grants card holders, from a manager's draft to an administrator's approval.

    draft --submit--> submitted --approve--> approved <--pause/resume--> paused
      ^                   |                      \\________________________/
      '---send back-------'                               |
    any state but retired --retire--> retired (for good)

A partner's manager writes and submits drafts; a national administrator approves, sends back,
pauses, resumes and retires. Only an approved offer within its validity window (calendar days in
Morocco) applies to card holders. Every change is audited and bumps the offer's version, which
makes its signed eligibility list stale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.models import (
    AuditEvent,
    Card,
    Offer,
    OfferState,
    OfferWithdrawal,
    Organisation,
    QuotaPeriod,
    Redemption,
    utcnow,
)
from webapp.services.audit import Actor, record_event
from webapp.services.concurrency import claim_version
from webapp.services.errors import N_, DomainError, optional_reason, required_reason
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.partners.offer_fields import LANGUAGES, InvalidFieldSpec, parse_field_specs
from webapp.services.partners.rules import InvalidRule, parse_rule
from webapp.services.scope import NATIONAL, RecordNotFound, Scope

MAX_QUOTA = 10_000
# Offer ids are SQL integers: a larger number names no offer (and would overflow a query's parameter).
MAX_OFFER_ID = 2**31 - 1
TEXT_LIMITS = {"name": 120, "benefit": 200, "description": 2000}
# Whole sentences, so each can be translated (the web layer translates `problem`).
_TOO_LONG = {
    "name": N_("at most 120 characters"),
    "benefit": N_("at most 200 characters"),
    "description": N_("at most 2000 characters"),
}


class InvalidOffer(DomainError):
    """An offer's texts, window or quota are not acceptable; `place` says which."""

    code = "invalid_offer"
    http_status = 422
    message = N_("Offer: %(place)s: %(problem)s")
    translated_params = ("problem",)

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place=place, problem=problem)


class OfferTransitionRefused(DomainError):
    code = "offer_transition_refused"
    http_status = 409
    message = N_("This offer is %(state)s: it cannot be %(action)s.")
    translated_params = ("state", "action")

    def __init__(self, state: str, action: str) -> None:
        super().__init__(state=state, action=action)


class OfferNotEditable(DomainError):
    code = "offer_not_editable"
    http_status = 409
    message = N_("Only a draft can be edited. Ask an administrator to send this offer back to draft.")


@dataclass(frozen=True)
class OfferDraft:
    """What a manager writes: texts per language, window, rule, quota and redemption fields."""

    name: Mapping[str, str]
    benefit: Mapping[str, str]
    valid_from: date
    description: Mapping[str, str] = field(default_factory=dict)
    valid_until: date | None = None
    conditions: Any = field(default_factory=list)
    quota_count: int | None = None
    quota_period: str | None = None
    fields: Any = field(default_factory=list)


def _texts(raw: Mapping[str, str], what: str, required: bool, problems: list[DomainError]) -> dict[str, str]:
    texts = {}
    for language in LANGUAGES:
        value = raw.get(language) if isinstance(raw, Mapping) else None
        text = value.strip() if isinstance(value, str) else ""
        if required and not text:
            problems.append(InvalidOffer(f"{what} ({language})", N_("required")))
        elif len(text) > TEXT_LIMITS[what]:
            problems.append(InvalidOffer(f"{what} ({language})", _TOO_LONG[what]))
        texts[language] = text
    return texts


def _quota_problem(draft: OfferDraft) -> InvalidOffer | None:
    if (draft.quota_count is None) != (draft.quota_period is None):
        return InvalidOffer("quota", N_("give both a number of redemptions and a period, or neither"))
    if draft.quota_count is not None:
        if isinstance(draft.quota_count, bool) or not isinstance(draft.quota_count, int):
            return InvalidOffer("quota", N_("a whole number is expected"))
        if not 1 <= draft.quota_count <= MAX_QUOTA:
            return InvalidOffer("quota", N_("from 1 to 10,000 redemptions"))
        if draft.quota_period not in {period.value for period in QuotaPeriod}:
            return InvalidOffer("quota", N_("the period is day, month or year"))
    return None


def offer_problems(draft: OfferDraft) -> tuple[list[DomainError], dict[str, Any]]:
    """Every problem of a draft at once (texts, window, quota, rule, fields: a manager corrects them
    in one go), and the columns of what is valid."""
    problems: list[DomainError] = []
    columns: dict[str, Any] = {}
    for what, required in (("name", True), ("benefit", True), ("description", False)):
        for language, text in _texts(getattr(draft, what), what, required, problems).items():
            columns[f"{what}_{language}"] = text
    if draft.valid_until is not None and draft.valid_from is not None and draft.valid_until < draft.valid_from:
        problems.append(InvalidOffer("valid_until", N_("the end of the window is before its start")))
    if (quota_problem := _quota_problem(draft)) is not None:
        problems.append(quota_problem)
    try:
        columns["conditions"] = parse_rule(draft.conditions).to_json()
    except InvalidRule as error:
        problems.append(error)
    try:
        columns["fields"] = [spec.to_json() for spec in parse_field_specs(draft.fields)]
    except InvalidFieldSpec as error:
        problems.append(error)
    return problems, columns


def _checked(draft: OfferDraft) -> dict[str, Any]:
    """The columns of a valid draft. Otherwise the first problem is raised, carrying every problem
    in `problems` (callers that show one message show the first; forms show them all)."""
    problems, columns = offer_problems(draft)
    if problems:
        first = problems[0]
        first.problems = tuple(problems)  # type: ignore[attr-defined]
        raise first
    return columns | {
        "valid_from": draft.valid_from,
        "valid_until": draft.valid_until,
        "quota_count": draft.quota_count,
        "quota_period": QuotaPeriod(draft.quota_period) if draft.quota_period else None,
    }


def offer_snapshot(offer: Offer) -> dict[str, Any]:
    """The audited fields of an offer."""
    return {
        "name": offer.name_fr,
        "state": offer.state.value,
        "valid_from": offer.valid_from.isoformat(),
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
        "conditions": offer.conditions,
        "quota": [offer.quota_count, offer.quota_period.value if offer.quota_period else None],
        "fields": [spec["name"] for spec in offer.fields],
        "version": offer.version,
    }


def _audit(session: Session, offer: Offer, actor: Actor, action: str, before: dict[str, Any] | None, **extra: Any):
    record_event(
        session,
        actor,
        action,
        organisation_id=offer.organisation_id,
        offer_id=offer.id,
        before=before,
        after=offer_snapshot(offer),
        **extra,
    )


def create_offer(session: Session, organisation: Organisation, draft: OfferDraft, actor: Actor) -> Offer:
    """A new draft offer of an organisation, audited."""
    offer = Offer(organisation=organisation, state=OfferState.DRAFT, version=1, **_checked(draft))
    session.add(offer)
    session.flush()
    _audit(session, offer, actor, "offer.create", None)
    return offer


def update_offer(
    session: Session, offer: Offer, draft: OfferDraft, actor: Actor, *, expected_version: int | None = None
) -> Offer:
    """Rewrite a draft (an offer already submitted or approved is changed only through a new draft).

    A form's save names the version it showed: EditConflict, nothing written, when the offer was
    saved or moved on meanwhile (services/concurrency.py)."""
    if offer.state != OfferState.DRAFT:
        raise OfferNotEditable()
    checked = _checked(draft)  # a refused draft is refused before anything is claimed
    before = offer_snapshot(offer)
    claim_version(session, offer, offer.version if expected_version is None else expected_version)
    for column, value in checked.items():
        setattr(offer, column, value)
    _stale(session, offer)
    session.flush()
    _audit(session, offer, actor, "offer.update", before)
    return offer


def _bump(session: Session, offer: Offer) -> None:
    """A new version of the offer: its eligibility list is stale, rebuilt by a job once this commits."""
    offer.version += 1
    _stale(session, offer)


def _stale(session: Session, offer: Offer) -> None:
    """The offer changed (its version moved on already): its eligibility list is rebuilt by a job."""
    offer.updated_at = utcnow()
    session.flush()
    ask_rebuild(session, offer.id)


# action -> (states it may start from, state it leads to, past participle for messages)
_TRANSITIONS: dict[str, tuple[frozenset[OfferState], OfferState, str]] = {
    "submit": (frozenset({OfferState.DRAFT}), OfferState.SUBMITTED, N_("submitted")),
    "approve": (frozenset({OfferState.SUBMITTED}), OfferState.APPROVED, N_("approved")),
    "send_back": (frozenset({OfferState.SUBMITTED}), OfferState.DRAFT, N_("sent back to draft")),
    "pause": (frozenset({OfferState.APPROVED}), OfferState.PAUSED, N_("paused")),
    "resume": (frozenset({OfferState.PAUSED}), OfferState.APPROVED, N_("resumed")),
    "retire": (
        frozenset({OfferState.DRAFT, OfferState.SUBMITTED, OfferState.APPROVED, OfferState.PAUSED}),
        OfferState.RETIRED,
        N_("retired"),
    ),
}
# Who may do what: managers handle their drafts, administrators decide.
MANAGER_ACTIONS = frozenset({"submit", "retire"})
ADMIN_ACTIONS = frozenset(_TRANSITIONS)
# Actions that take something away from the partner or its card holders: the trail must say why.
REASON_REQUIRED = frozenset({"send_back", "pause", "retire"})


def available_actions(state: OfferState, allowed: frozenset[str] = ADMIN_ACTIONS) -> list[str]:
    """The actions among `allowed` that an offer in `state` can take, in the order of its life."""
    return [
        action for action, (sources, _target, _word) in _TRANSITIONS.items() if action in allowed and state in sources
    ]


# Words of the offer vocabulary, for messages and screens.
STATE_WORDS = {
    OfferState.DRAFT: N_("draft"),
    OfferState.SUBMITTED: N_("submitted"),
    OfferState.APPROVED: N_("approved"),
    OfferState.PAUSED: N_("paused"),
    OfferState.RETIRED: N_("retired"),
}


def change_offer_state(
    session: Session,
    offer: Offer,
    action: str,
    actor: Actor,
    reason: str | None = None,
    *,
    expected_version: int | None = None,
) -> Offer:
    """Move an offer along its life (submit, approve, send_back, pause, resume, retire), audited.

    Sending back, pausing and retiring need a reason: the manager and the trail must know why.
    A button names the version its page showed: EditConflict when the offer changed since, so
    nobody approves a draft they have not seen (services/concurrency.py).
    """
    if action not in _TRANSITIONS:
        raise OfferTransitionRefused(STATE_WORDS[offer.state], action)
    sources, target, participle = _TRANSITIONS[action]
    if offer.state not in sources:
        raise OfferTransitionRefused(STATE_WORDS[offer.state], participle)
    # Optional for the other actions, but stored like a required one when given.
    reason = required_reason(reason) if action in REASON_REQUIRED else optional_reason(reason)
    before = offer_snapshot(offer)
    claim_version(session, offer, offer.version if expected_version is None else expected_version)
    offer.state = target
    _stale(session, offer)
    session.flush()
    _audit(session, offer, actor, f"offer.{action}", before, reason=reason)
    return offer


def offer_applies(offer: Offer, day: date) -> bool:
    """Approved and within its window on that day in Morocco: card holders can use it."""
    return (
        offer.state == OfferState.APPROVED
        and offer.valid_from <= day
        and (offer.valid_until is None or day <= offer.valid_until)
    )


# Built once: every partner scan asks it.
_APPROVED_OFFERS = (
    select(Offer)
    .where(Offer.organisation_id == bindparam("organisation_id"), Offer.state == OfferState.APPROVED)
    .order_by(Offer.id)
)


def applicable_offers(session: Session, organisation_id: int, day: date) -> list[Offer]:
    """An organisation's offers that apply on a day, oldest first."""
    offers = session.scalars(_APPROVED_OFFERS, {"organisation_id": organisation_id}).all()
    return [offer for offer in offers if offer_applies(offer, day)]


def get_offer(session: Session, offer_id: int, scope: Scope = NATIONAL) -> Offer:
    """An offer within the scope (a partner sees only its own), or RecordNotFound."""
    statement = scope.filter_organisation(
        select(Offer).where(Offer.id == offer_id, Offer.deleted_at.is_(None)), Offer.organisation_id
    )
    offer = session.scalar(statement)
    if offer is None:
        raise RecordNotFound()
    return offer


def list_offers(session: Session, scope: Scope = NATIONAL, state: OfferState | None = None) -> list[Offer]:
    """Offers within the scope, newest first, optionally in one state."""
    statement = scope.filter_organisation(select(Offer).where(Offer.deleted_at.is_(None)), Offer.organisation_id)
    statement = statement.order_by(Offer.id.desc())
    if state is not None:
        statement = statement.where(Offer.state == state)
    return list(session.scalars(statement))


class OfferNotDeletable(DomainError):
    code = "offer_not_deletable"
    http_status = 409
    message = N_("Only a draft that was never submitted and never used can be deleted: retire this offer instead.")


def offer_was_submitted(session: Session, offer: Offer) -> bool:
    """Whether the offer was ever submitted (a draft sent back was): the trail says so."""
    submitted = select(AuditEvent.id).where(AuditEvent.offer_id == offer.id, AuditEvent.action == "offer.submit")
    return session.scalar(submitted.limit(1)) is not None


def can_delete_offer(session: Session, offer: Offer) -> bool:
    """A draft never submitted, with no redemption and no withdrawal: nothing anyone relied on."""
    if offer.state != OfferState.DRAFT or offer.deleted_at is not None or offer_was_submitted(session, offer):
        return False
    for table in (Redemption, OfferWithdrawal):
        if session.scalar(select(table.id).where(table.offer_id == offer.id).limit(1)) is not None:
            return False
    return True


def delete_offer(session: Session, offer: Offer, actor: Actor) -> Offer:
    """Delete a draft (see can_delete_offer), audited. The row is kept, marked deleted: audit events
    name it, and the trail is never rewritten."""
    if not can_delete_offer(session, offer):
        raise OfferNotDeletable()
    before = offer_snapshot(offer)
    offer.deleted_at = utcnow()
    offer.updated_at = offer.deleted_at
    session.flush()
    _audit(session, offer, actor, "offer.delete", before)
    return offer


class AlreadyWithdrawn(DomainError):
    code = "already_withdrawn"
    http_status = 409
    message = N_("This offer is already withdrawn from card %(number)s.")

    def __init__(self, number: str) -> None:
        super().__init__(number=number)


class NotWithdrawn(DomainError):
    code = "not_withdrawn"
    http_status = 409
    message = N_("This offer is not withdrawn from card %(number)s.")

    def __init__(self, number: str) -> None:
        super().__init__(number=number)


def withdraw_offer_from_card(session: Session, offer: Offer, card: Card, reason: str, actor: Actor) -> OfferWithdrawal:
    """Take one offer away from one card (the card itself stays valid), audited; the reason is
    what the partner's staff see as the failed condition."""
    reason = required_reason(reason)
    if withdrawal_in_force(session, offer, card) is not None:
        raise AlreadyWithdrawn(card.number)
    withdrawal = OfferWithdrawal(offer=offer, card=card, reason=reason, withdrawn_by=actor.label)
    try:
        with session.begin_nested():  # a refusal takes the withdrawal out of the session again
            session.add(withdrawal)
            session.flush()
    except IntegrityError:  # a concurrent withdrawal of the same offer from the same card won
        raise AlreadyWithdrawn(card.number) from None
    _bump(session, offer)
    record_event(
        session,
        actor,
        "offer.withdraw_from_card",
        card=card,
        organisation_id=offer.organisation_id,
        offer_id=offer.id,
        reason=reason,
        after={"offer": offer.id, "card": card.number, "withdrawn": True},
    )
    return withdrawal


def lift_withdrawal(session: Session, offer: Offer, card: Card, actor: Actor, reason: str | None = None) -> None:
    """Give the offer back to the card, audited."""
    withdrawal = withdrawal_in_force(session, offer, card)
    if withdrawal is None:
        raise NotWithdrawn(card.number)
    reason = optional_reason(reason)
    withdrawal.lifted_at = utcnow()
    _bump(session, offer)
    session.flush()
    record_event(
        session,
        actor,
        "offer.lift_withdrawal",
        card=card,
        organisation_id=offer.organisation_id,
        offer_id=offer.id,
        reason=reason,
        before={"withdrawn": True},
        after={"withdrawn": False},
    )


def withdrawal_in_force(session: Session, offer: Offer, card: Card) -> OfferWithdrawal | None:
    return session.scalar(
        select(OfferWithdrawal).where(
            OfferWithdrawal.offer_id == offer.id,
            OfferWithdrawal.card_id == card.id,
            OfferWithdrawal.lifted_at.is_(None),
        )
    )
