"""Redemptions: a card holder uses an offer at a partner's counter.

A redemption is accepted for a card valid when it was made (for one made offline, as the audit
trail says the card stood then), an offer of the caller's organisation
that applied that day, a holder eligible for it, fields that fit the offer, and a quota not spent.
The quota is taken with one conditional UPDATE (`used < quota`) on a per card, offer and period
row, atomic on SQLite and PostgreSQL: concurrent requests never exceed it. A redemption made
offline arrives late: it carries the time it was made, and one that finds the quota spent is still
stored, flagged `over_quota`, never dropped (the artisan was served at the counter).

Requests carry an `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field"): the key
is claimed in the same transaction as the redemption, so a retry, even concurrent, gets the first
answer and writes nothing. A refused request stores nothing, so its retry is judged again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.clock import in_morocco
from webapp.models import Card, IdempotencyRecord, Offer, QuotaPeriod, QuotaUsage, Redemption, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.cards.lifecycle import state_of, status_at
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.errors import N_, DomainError, required_reason
from webapp.services.partners.eligibility import card_eligibility, card_facts
from webapp.services.partners.offer_fields import clean_field_values, parse_field_specs
from webapp.services.partners.offers import MAX_OFFER_ID
from webapp.services.partners.quotas import quota_period_key, remaining_quota, take_quota_unit
from webapp.services.scope import RecordNotFound, Scope
from webapp.services.upserts import insert_if_absent

# A phone's clock may run a little ahead; a redemption "made" later than this is refused.
CLOCK_TOLERANCE = timedelta(minutes=5)
# Offline queues are synced within days; older ones are refused (and said so) rather than counted.
MAX_LATENESS = timedelta(days=30)
MAX_IDEMPOTENCY_KEY_LENGTH = 255
# A key: visible ASCII (spaces inside allowed), at most MAX_IDEMPOTENCY_KEY_LENGTH characters, with
# any spaces or tabs around it ignored (HTTP drops them anyway). The API's document publishes this
# very pattern, so what it calls a valid key is what is accepted here.
IDEMPOTENCY_KEY_PATTERN = rf"^[ \t]*[!-~](?:[ -~]{{0,{MAX_IDEMPOTENCY_KEY_LENGTH - 2}}}[!-~])?[ \t]*$"
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


class RedemptionRefused(DomainError):
    """Base of the refusals of POST /api/v1/redemptions."""


class CardNotValid(RedemptionRefused):
    code = "card_not_valid"
    http_status = 409
    message = N_("This card is not valid (%(state)s): it unlocks no offer.")
    translated_params = ("state",)

    def __init__(self, state: str) -> None:
        super().__init__(state=state)


class UnknownCard(RedemptionRefused):
    code = "card_not_valid"
    http_status = 409
    message = N_("No valid artisan card was recognised. Scan the card again or type its number.")


class NotEligible(RedemptionRefused):
    """`failed` lists the labels (fr, ar, en) of the conditions the holder does not meet."""

    code = "not_eligible"
    http_status = 409
    message = N_("This card holder is not eligible for this offer.")

    def __init__(self, failed: tuple[dict[str, str], ...]) -> None:
        super().__init__()
        self.failed = failed

    def details(self, language: str, translate: Callable[..., str]) -> dict[str, Any]:
        return {"failed": [label.get(language) or label["fr"] for label in self.failed]}


class UnknownOffer(RedemptionRefused):
    """Not an offer of the caller's organisation that applies that day (another partner's offers
    are not disclosed)."""

    code = "unknown_offer"
    http_status = 404
    message = N_("No offer of your organisation with this id applies on that day.")


class QuotaSpent(RedemptionRefused):
    code = "quota_spent"
    http_status = 409
    message = N_("This card has used all %(count)s redemptions of this offer for the %(period)s.")
    translated_params = ("period",)

    def __init__(self, count: int, period: str) -> None:
        super().__init__(count=count, period=period)


class BadMadeAt(RedemptionRefused):
    code = "bad_made_at"
    http_status = 422
    message = N_("The time the redemption was made is in the future or more than 30 days ago.")


class IdempotencyKeyRequired(RedemptionRefused):
    code = "idempotency_key_required"
    http_status = 400
    message = N_("Send an Idempotency-Key header (a new random value per redemption, kept for its retries).")


class IdempotencyKeyReused(RedemptionRefused):
    code = "idempotency_key_reused"
    http_status = 422
    message = N_("This Idempotency-Key was already used for another request.")


PERIOD_WORDS = {QuotaPeriod.DAY: N_("day"), QuotaPeriod.MONTH: N_("month"), QuotaPeriod.YEAR: N_("year")}


@dataclass(frozen=True)
class Recorder:
    """Who records: a person signed in, or a partner system by its API key."""

    actor: Actor
    organisation_id: int
    user_id: int | None = None
    api_key_id: int | None = None


@dataclass(frozen=True)
class RedemptionRequest:
    card: str  # a card number or a scanned QR text
    offer_id: int
    fields: Any
    made_at: datetime | None = None
    offline: bool = False


def find_card(session: Session, reference: str, read_scanned: Callable[[str], str | None]) -> Card:
    """The card a typed number or a scanned text names; UnknownCard when it names none.

    `read_scanned` returns the card number of a genuine scanned text (signature checked), or None.
    """
    number = normalize_card_number(reference) or read_scanned(reference)
    card = session.scalar(select(Card).where(Card.number == number)) if number else None
    if card is None:
        raise UnknownCard()
    return card


def request_fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same" for an idempotency key: method, path and JSON body."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def claim_idempotency_key(
    session: Session, organisation_id: int, key: str | None, fingerprint: str
) -> IdempotencyRecord | None:
    """The stored first answer for this key (a retry), or None after claiming the key for this request.

    The claim is a row insert in the request's own transaction (committed with the answer, rolled
    back with a refusal): a concurrent request with the same key waits until this transaction ends,
    then finds the answer. The same key with another request is refused.
    """
    if key is None or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise IdempotencyKeyRequired()
    key = key.strip(" \t")
    claim = {
        "organisation_id": organisation_id,
        "key": key,
        "request_sha256": fingerprint,
        "status_code": 0,
        "response": {},
        "created_at": utcnow(),
    }
    if insert_if_absent(session, IdempotencyRecord, claim, ["organisation_id", "key"]):
        return None
    existing = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organisation_id == organisation_id, IdempotencyRecord.key == key
        )
    )
    assert existing is not None  # the insert gave way to it, and records are never deleted here
    if existing.request_sha256 != fingerprint:
        raise IdempotencyKeyReused()
    return existing


def store_idempotent_answer(
    session: Session, organisation_id: int, key: str, status_code: int, response: dict[str, Any]
) -> None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.organisation_id == organisation_id, IdempotencyRecord.key == key.strip(" \t")
        )
    )
    assert record is not None  # claimed earlier in this transaction
    record.status_code = status_code
    record.response = response
    session.flush()


@dataclass(frozen=True)
class RecordedRedemption:
    redemption: Redemption
    remaining: int | None


def record_redemption(
    session: Session,
    request: RedemptionRequest,
    recorder: Recorder,
    *,
    read_scanned: Callable[[str], str | None],
    now: datetime | None = None,
) -> RecordedRedemption:
    """Check and store one redemption (see the module docstring), audited."""
    now = now or utcnow()
    made_at = request.made_at or now
    if made_at > now + CLOCK_TOLERANCE or made_at < now - MAX_LATENESS:
        raise BadMadeAt()
    offer = (
        session.scalar(
            select(Offer).where(Offer.id == request.offer_id, Offer.organisation_id == recorder.organisation_id)
        )
        if 0 < request.offer_id <= MAX_OFFER_ID
        else None
    )
    card = find_card(session, request.card, read_scanned)
    # An offline redemption is judged on the card as it stood when it was made: a card suspended or
    # revoked after that moment does not void what the agent did on a valid verdict (their phone could
    # not know). Online, the card as it stands now.
    status = status_at(session, card, made_at) if request.offline else card.status
    state = state_of(status, card.expires_at, made_at)
    if state != "active":
        raise CardNotValid(state)
    if offer is None:
        raise UnknownOffer()
    facts = card_facts(session, card, made_at) | {"card.status": state}  # as it stood when made
    eligibility = card_eligibility(session, offer, card, facts, made_at)
    if not eligibility.eligible:
        if not eligibility.failed:  # nothing failed: the offer itself does not apply that day
            raise UnknownOffer()
        raise NotEligible(eligibility.failed)
    values = clean_field_values(parse_field_specs(offer.fields), request.fields)
    period = quota_period_key(offer.quota_period, made_at) if offer.quota_period else None
    over_quota = False
    if offer.quota_count is not None and period is not None and not take_quota_unit(session, offer, card, period):
        if not request.offline:
            raise QuotaSpent(offer.quota_count, PERIOD_WORDS[offer.quota_period])  # type: ignore[index]
        over_quota = True
    redemption = Redemption(
        offer=offer,
        card=card,
        made_at=made_at,
        recorded_at=now,
        period=period,
        fields=values,
        over_quota=over_quota,
        made_offline=request.offline,
        recorded_by_user_id=recorder.user_id,
        api_key_id=recorder.api_key_id,
    )
    session.add(redemption)
    session.flush()
    record_event(
        session,
        recorder.actor,
        "redemption.record",
        card=card,
        organisation_id=offer.organisation_id,
        offer_id=offer.id,
        after={"redemption": redemption.id, "over_quota": over_quota, "offline": request.offline}
        | ({"card_status_now": card.status.value} if status != card.status else {}),
    )
    return RecordedRedemption(redemption, remaining_quota(session, offer, card, made_at))


def redemption_json(redemption: Redemption, remaining: int | None) -> dict[str, Any]:
    """The API's view of a redemption."""
    return {
        "id": redemption.id,
        "offer": redemption.offer_id,
        "card": redemption.card.number,
        "made_at": _iso(redemption.made_at),
        "made_at_local": in_morocco(redemption.made_at).isoformat(timespec="seconds"),
        "recorded_at": _iso(redemption.recorded_at),
        "fields": redemption.fields,
        "offline": redemption.made_offline,
        "over_quota": redemption.over_quota,
        "remaining": remaining,
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def redemption_counts(session: Session, scope: Scope) -> dict[int, int]:
    """Redemptions per offer within the scope (voided ones do not count)."""
    statement = (
        scope.filter_organisation(
            select(Offer.id, func.count(Redemption.id)).join(Redemption, Redemption.offer_id == Offer.id),
            Offer.organisation_id,
        )
        .where(Redemption.voided_at.is_(None))
        .group_by(Offer.id)
    )
    return dict(session.execute(statement).all())  # type: ignore[arg-type]


class AlreadyVoided(DomainError):
    code = "already_voided"
    http_status = 409
    message = N_("This redemption is already voided.")


def get_redemption(session: Session, redemption_id: int, scope: Scope) -> Redemption:
    """A redemption of an offer within the scope; RecordNotFound otherwise (another partner's too)."""
    statement = scope.filter_organisation(
        select(Redemption).join(Offer, Offer.id == Redemption.offer_id).where(Redemption.id == redemption_id),
        Offer.organisation_id,
    )
    found = session.scalar(statement)
    if found is None:
        raise RecordNotFound()
    return found


def void_redemption(
    session: Session, redemption: Redemption, user_id: int, reason: str | None, actor: Actor
) -> Redemption:
    """Void a redemption recorded by mistake: it stays (struck, with its reason), leaves the counts,
    and gives its quota unit back to the card for its period, unless it was over quota (it took
    none). Audited. Voiding twice is refused, and so is a blank reason."""
    cleaned = required_reason(reason)
    # One conditional UPDATE claims the void: of two concurrent voids, only one changes the row and
    # gives the unit back.
    claimed = session.execute(
        update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.voided_at.is_(None))
        .values(voided_at=utcnow(), voided_by_user_id=user_id, void_reason=cleaned)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise AlreadyVoided()
    if redemption.period is not None and not redemption.over_quota:
        session.execute(
            update(QuotaUsage)
            .where(
                QuotaUsage.offer_id == redemption.offer_id,
                QuotaUsage.card_id == redemption.card_id,
                QuotaUsage.period == redemption.period,
                QuotaUsage.used > 0,
            )
            .values(used=QuotaUsage.used - 1)
            .execution_options(synchronize_session=False)
        )
    session.refresh(redemption)
    record_event(
        session,
        actor,
        "redemption.void",
        card=redemption.card,
        organisation_id=redemption.offer.organisation_id,
        offer_id=redemption.offer_id,
        reason=cleaned,
        before={"redemption": redemption.id, "over_quota": redemption.over_quota},
        after={
            "redemption": redemption.id,
            "voided": True,
            "quota_given_back": bool(redemption.period) and not redemption.over_quota,
        },
    )
    return redemption
