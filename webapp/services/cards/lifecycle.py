"""The card lifecycle: issue, suspend, reinstate, revoke, renew, replace.

Each function takes a session, flushes (never commits), writes one audit event per change and
raises a named error for an illegal transition. Uniqueness (one card in force per artisan, card
numbers, status indices) is enforced by the database; these functions only explain its refusals.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import Artisan, AuditEvent, Card, CardStatus, RevocationReason, utcnow
from webapp.services.audit import Actor, card_snapshot, record_event
from webapp.services.cards.numbers import new_card_number, normalize_card_number
from webapp.services.cards.tokens import (
    MAX_NAME_LENGTH,
    CardClaims,
    sign_card_token,
)
from webapp.services.errors import MAX_REASON_LENGTH, N_, DomainError, optional_reason, required_reason
from webapp.services.trust import status_list
from webapp.services.trust.jws import strict_json
from webapp.services.trust.signing_keys import Signer

NUMBER_ATTEMPTS = 5


class CardError(DomainError):
    """Base of the card lifecycle's refusals."""

    code = "card_error"


class CardNotFound(CardError):
    code = "card_not_found"
    http_status = 404
    message = N_("No card with number %(number)s.")

    def __init__(self, number: str) -> None:
        super().__init__(number=number)


class ArtisanNotFound(CardError):
    code = "artisan_not_found"
    http_status = 404
    message = N_("No artisan with card number or RNA number %(key)s.")

    def __init__(self, key: str) -> None:
        super().__init__(key=repr(key))


class ArtisanAlreadyHasCard(CardError):
    code = "artisan_has_card"
    message = N_("Artisan %(artisan)s already has a card in force (%(number)s): replace or revoke it first.")

    def __init__(self, artisan: Artisan, number: str) -> None:
        super().__init__(artisan=artisan.rna_number, number=number)


# Revocations that end the artisan's right to a card: no new card without a deliberate override.
REVOCATIONS_FOR_CAUSE = frozenset({RevocationReason.DECEASED, RevocationReason.FRAUD, RevocationReason.LEFT_TRADE})
# Revocation reasons as words, marked for translation (the web layer shows them in the user's language).
REVOCATION_WORDS = {
    RevocationReason.LOST: N_("loss"),
    RevocationReason.STOLEN: N_("theft"),
    RevocationReason.DECEASED: N_("death"),
    RevocationReason.FRAUD: N_("fraud"),
    RevocationReason.LEFT_TRADE: N_("leaving the trade"),
    RevocationReason.REPLACED: N_("replacement"),
}


class RevokedForCause(CardError):
    """The artisan's last card was revoked for a reason that ends the right to a card."""

    code = "revoked_for_cause"
    translated_params = ("reason",)
    message = N_(
        "Card %(number)s of artisan %(artisan)s was revoked (reason: %(reason)s): "
        "a new card needs an explicit override with a reason."
    )

    def __init__(self, card: Card, reason: RevocationReason) -> None:
        self.revocation_reason = reason
        super().__init__(number=card.number, artisan=card.artisan.rna_number, reason=REVOCATION_WORDS[reason])


class NotAReplacementReason(CardError):
    code = "not_a_replacement_reason"
    http_status = 422
    translated_params = ("reason",)
    message = N_("A card is not replaced for %(reason)s: revoke it instead.")

    def __init__(self, reason: RevocationReason) -> None:
        super().__init__(reason=REVOCATION_WORDS[reason])


class CardNotValidToday(CardError):
    """A QR code is printed only for a card that a verifier would accept today."""

    code = "card_not_valid"
    translated_params = ("status",)
    message = N_("Card %(number)s is %(status)s: its QR code would not be accepted as valid.")

    def __init__(self, card: Card, state: str) -> None:
        super().__init__(number=card.number, status=state)


# What each action reads as after "it cannot be ...", one whole sentence per action so that
# translators keep their own word order.
_REFUSED_ACTION_MESSAGES = {
    "suspend": N_("Card %(number)s is %(status)s: it cannot be suspended."),
    "reinstate": N_("Card %(number)s is %(status)s: it cannot be reinstated."),
    "revoke": N_("Card %(number)s is %(status)s: it cannot be revoked."),
    "renew": N_("Card %(number)s is %(status)s: it cannot be renewed."),
    "replace": N_("Card %(number)s is %(status)s: it cannot be replaced."),
    "reissue": N_("Card %(number)s is %(status)s: it cannot be re-signed."),
}
# The stored statuses each change starts from: the rule the functions below apply, and what screens
# read to offer only the actions a card allows.
ACTIONS_FROM: dict[str, frozenset[CardStatus]] = {
    "suspend": frozenset({CardStatus.ACTIVE}),
    "reinstate": frozenset({CardStatus.SUSPENDED}),
    "revoke": frozenset({CardStatus.ACTIVE, CardStatus.SUSPENDED}),
    "renew": frozenset({CardStatus.ACTIVE}),
    "replace": frozenset({CardStatus.ACTIVE, CardStatus.SUSPENDED}),
}


def allowed_actions(card: Card) -> tuple[str, ...]:
    """The changes this card's status allows, in the order screens offer them."""
    return tuple(action for action, statuses in ACTIONS_FROM.items() if card.status in statuses)


# Status words, marked for translation: the web layer shows them in the user's language.
STATUS_WORDS = (N_("active"), N_("suspended"), N_("revoked"), N_("expired"))


class IllegalTransition(CardError):
    code = "illegal_transition"
    translated_params = ("status",)

    def __init__(self, card: Card, action: str) -> None:
        self.message = _REFUSED_ACTION_MESSAGES[action]  # type: ignore[misc]
        self.card_status = card.status
        super().__init__(number=card.number, status=card.status.value)


class CardAlreadyRevoked(IllegalTransition):
    code = "card_already_revoked"


class NameTooLong(CardError):
    code = "name_too_long"
    http_status = 422
    message = N_("The Latin name %(name)s is longer than %(limit)d characters.")

    def __init__(self, name: str) -> None:
        super().__init__(name=repr(name), limit=MAX_NAME_LENGTH)


def default_expiry(now: datetime, validity_years: int) -> datetime:
    """The last second (in UTC) of the day in Morocco `validity_years` after today in Morocco.

    A card is valid through its expiry date in Africa/Casablanca time (UTC+1, UTC+0 during
    Ramadan), not UTC (docs/card-token.md rule C6). 29 February falls back to the 28th.
    """
    today = now.astimezone(MOROCCO).date()
    try:
        end_day = today.replace(year=today.year + validity_years)
    except ValueError:
        end_day = today.replace(year=today.year + validity_years, day=28)
    # Morocco changes its clocks at 02:00 or 03:00, never around midnight: 23:59:59 always exists once.
    return datetime.combine(end_day, time(23, 59, 59), MOROCCO).astimezone(UTC)


def card_name(holder: CardHolder) -> str:
    """The Latin name the token carries; longer than 40 characters is refused, never truncated."""
    name = holder.name_latin
    if len(name) > MAX_NAME_LENGTH:
        raise NameTooLong(name)
    return name


def get_card(session: Session, number: str) -> Card:
    """The card with this number (typed forms accepted), or CardNotFound."""
    canonical = normalize_card_number(number)
    card = session.scalar(select(Card).where(Card.number == canonical)) if canonical else None
    if card is None:
        raise CardNotFound(number)
    return card


def find_artisan(session: Session, number_or_rna: str) -> Artisan:
    """The artisan with this RNA register number, or the holder of this card number (any of their
    cards, in force or not); ArtisanNotFound otherwise."""
    key = number_or_rna.strip()
    artisan = session.scalar(select(Artisan).where(Artisan.rna_number == key.upper())) if key else None
    if artisan is None and (canonical := normalize_card_number(key)):
        holder = select(Card.artisan_id).where(Card.number == canonical).scalar_subquery()
        artisan = session.scalar(select(Artisan).where(Artisan.id == holder))
    if artisan is None:
        raise ArtisanNotFound(number_or_rna)
    return artisan


def state_of(status: CardStatus, expires_at: datetime, now: datetime) -> str:
    """What a verifier would answer: revoked, suspended, expired or active (in that order)."""
    if status != CardStatus.ACTIVE:
        return status.value
    return "expired" if expires_at <= now else "active"


# The audited actions after which a card's stored status is what their `after` snapshot says.
_STATUS_ACTIONS = ("card.issue", "card.suspend", "card.reinstate", "card.revoke")


def status_at(session: Session, card: Card, moment: datetime) -> CardStatus:
    """The card's stored status at a past moment, read from the audit trail (the last status change
    at or before it); its status now when the trail records none."""
    snapshot = session.scalar(
        select(AuditEvent.after)
        .where(AuditEvent.card_id == card.id, AuditEvent.action.in_(_STATUS_ACTIONS), AuditEvent.occurred_at <= moment)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
        .limit(1)
    )
    status = (snapshot or {}).get("status")
    return CardStatus(status) if status in CardStatus._value2member_map_ else card.status


def card_state(card: Card, now: datetime | None = None) -> str:
    """What a verifier would answer about this card today."""
    return state_of(card.status, card.expires_at, now or utcnow())


def require_valid_today(card: Card, now: datetime | None = None) -> Card:
    """The card if a verifier would accept it today, else CardNotValidToday (for printing its QR code)."""
    state = card_state(card, now)
    if state != "active":
        raise CardNotValidToday(card, state)
    return card


def last_revocation_for_cause(session: Session, artisan_id: int) -> tuple[Card, RevocationReason] | None:
    """The artisan's last card and its revocation reason, if it was revoked for deceased, fraud or
    left_trade (the roll-out's rule: only the last card counts, so an override lifts the bar)."""
    last = session.scalar(select(Card).where(Card.artisan_id == artisan_id).order_by(Card.id.desc()).limit(1))
    if last is None or last.revocation_reason not in REVOCATIONS_FOR_CAUSE:
        return None
    return last, last.revocation_reason


def _sign(card: Card, artisan: Artisan, signer: Signer) -> None:
    claims = CardClaims(
        number=card.number,
        name=card_name(artisan),
        trade=artisan.trade_code,
        region=artisan.region_code,
        expires_at=card.expires_at,
        status_index=card.status_index,
    )
    card.token = sign_card_token(claims, signer.kid, signer.private_key)
    card.key_id = signer.kid


# What a card token says of its holder, and where the register keeps it (see _sign).
_HOLDER_CLAIMS = {"n": "name", "t": "trade", "r": "region"}


def out_of_date_details(card: Card) -> tuple[str, ...]:
    """What the card's signed token says of its holder that the register no longer says ("name",
    "trade", "region"): after such a change the card needs renewing to carry the new details. The
    token is our own, stored when signed: its payload is read, not verified."""
    try:
        payload = strict_json(card.token.split(".")[1])
    except (IndexError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        return tuple(_HOLDER_CLAIMS.values())  # unreadable: nothing it says can be trusted
    artisan = card.artisan
    now = {"n": artisan.name_latin, "t": artisan.trade_code, "r": artisan.region_code}
    return tuple(detail for claim, detail in _HOLDER_CLAIMS.items() if payload.get(claim) != now[claim])


def _card_in_force(session: Session, artisan_id: int) -> str | None:
    """The number of the artisan's card in force, if any."""
    return session.scalar(select(Card.number).where(Card.artisan_id == artisan_id, Card.status != CardStatus.REVOKED))


def issue_card(
    session: Session,
    artisan: Artisan,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    now: datetime | None = None,
    replaces: Card | None = None,
    override_reason: str | None = None,
) -> Card:
    """Issue a signed card to an artisan who has no card in force.

    If the artisan's last card was revoked for cause (deceased, fraud, left_trade), a new card is
    refused unless `override_reason` says why (it goes in the audit event).
    """
    barring = None if replaces is not None else last_revocation_for_cause(session, artisan.id)
    if override_reason is not None:
        override_reason = required_reason(override_reason)
    elif barring is not None:
        raise RevokedForCause(*barring)
    now = now or utcnow()
    index = status_list.allocate_indices(session)[0]
    for _attempt in range(NUMBER_ATTEMPTS):
        card = Card(
            number=new_card_number(),
            artisan=artisan,
            status=CardStatus.ACTIVE,
            issued_at=now,
            expires_at=default_expiry(now, validity_years),
            status_index=index,
        )
        _sign(card, artisan, signer)
        try:
            with session.begin_nested():
                session.add(card)
                card.replaces = replaces  # after add: begin_nested flushes, the link must not go first
        except IntegrityError:
            in_force = _card_in_force(session, artisan.id)
            if in_force is not None:
                raise ArtisanAlreadyHasCard(artisan, in_force) from None
            continue  # a card number collision (1 in ~10^8 at full scale): draw another
        after = card_snapshot(card)
        if barring is not None:
            after["overrides_revocation"] = {"number": barring[0].number, "reason": barring[1].value}
        record_event(session, actor, "card.issue", card=card, reason=override_reason, after=after)
        return card
    raise RuntimeError("could not draw a free card number")  # pragma: no cover - astronomically unlikely


def _refusal(card: Card, action: str) -> IllegalTransition:
    """The named error for a change the card's status does not allow."""
    error = CardAlreadyRevoked if card.status == CardStatus.REVOKED else IllegalTransition
    return error(card, action)


def _transition(
    session: Session,
    card: Card,
    actor: Actor,
    action: str,
    allowed_from: Iterable[CardStatus],
    to: CardStatus,
    reason: str | None,
    revocation_reason: RevocationReason | None = None,
) -> Card:
    if card.status not in allowed_from:
        raise _refusal(card, action)
    before = card_snapshot(card)
    card.status = to
    card.status_reason = reason
    card.revocation_reason = revocation_reason
    session.flush()
    status_list.mark_changed(session)
    record_event(session, actor, f"card.{action}", card=card, reason=reason, before=before, after=card_snapshot(card))
    return card


# Suspension reasons are free text (an officer's words, at most 200 characters); those the product
# sets itself are codes that screens translate (webapp/backoffice/register.py `_card_reason`).
LOST_REPORTED = "lost_reported"  # the holder reported the card lost (webapp/services/cards/requests.py)
SUSPENSION_WORDS = {LOST_REPORTED: N_("reported lost by the holder")}


def suspend_card(session: Session, card: Card, reason: str, actor: Actor) -> Card:
    reason = required_reason(reason)
    return _transition(session, card, actor, "suspend", ACTIONS_FROM["suspend"], CardStatus.SUSPENDED, reason)


def reinstate_card(session: Session, card: Card, actor: Actor, reason: str | None = None) -> Card:
    """Lift a suspension; a reason is optional, but a given one must say something."""
    reason = required_reason(reason) if reason is not None else None
    return _transition(session, card, actor, "reinstate", ACTIONS_FROM["reinstate"], CardStatus.ACTIVE, reason)


def revoke_card(session: Session, card: Card, reason: RevocationReason, actor: Actor, note: str | None = None) -> Card:
    # The note goes into the 200-character reason after "<reason>: ".
    note = optional_reason(note, MAX_REASON_LENGTH - len(reason.value) - 2)
    detail = reason.value if not note else f"{reason.value}: {note}"
    return _transition(session, card, actor, "revoke", ACTIONS_FROM["revoke"], CardStatus.REVOKED, detail, reason)


def renew_card(
    session: Session,
    card: Card,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    now: datetime | None = None,
) -> Card:
    """Give an active card a new expiry and a freshly signed token (same number, same index)."""
    if card.status not in ACTIONS_FROM["renew"]:
        raise _refusal(card, "renew")
    before = card_snapshot(card)
    card.expires_at = default_expiry(now or utcnow(), validity_years)
    _sign(card, card.artisan, signer)
    session.flush()
    # The status list does not hold expiries, but offers' eligibility lists do (an expired card is
    # eligible for nothing): bump the register's version so they are rebuilt, not a day late.
    status_list.mark_changed(session)
    record_event(session, actor, "card.renew", card=card, before=before, after=card_snapshot(card))
    return card


# The note a replaced card's revocation carries (screens translate it).
REPLACEMENT_NOTE = "replaced by a new card"


def replace_card(
    session: Session,
    card: Card,
    signer: Signer,
    actor: Actor,
    *,
    validity_years: int,
    reason: RevocationReason = RevocationReason.REPLACED,
    now: datetime | None = None,
) -> Card:
    """Revoke a card in force and issue the same artisan a new one with a new number.

    Only lost, stolen or otherwise replaced cards are replaced: a revocation for cause is no reason.
    """
    if card.status not in ACTIONS_FROM["replace"]:
        raise _refusal(card, "replace")
    if reason in REVOCATIONS_FOR_CAUSE:
        raise NotAReplacementReason(reason)
    revoke_card(session, card, reason, actor, note=REPLACEMENT_NOTE)
    return issue_card(session, card.artisan, signer, actor, validity_years=validity_years, now=now, replaces=card)


def reissue_card(session: Session, card: Card, signer: Signer, actor: Actor) -> Card:
    """Re-sign a card in force under the signing key: same number, status index and expiry; new token
    and key id (after a key rotation, so that the old key can be retired)."""
    if card.status == CardStatus.REVOKED:
        raise _refusal(card, "reissue")
    before = card_snapshot(card)
    _sign(card, card.artisan, signer)
    session.flush()
    record_event(session, actor, "card.reissue", card=card, before=before, after=card_snapshot(card))
    return card


class CardHolder(Protocol):
    """What bulk issuance reads of an artisan (an Artisan, or a lighter row with the same names)."""

    @property
    def id(self) -> int: ...
    @property
    def name_latin(self) -> str: ...
    @property
    def trade_code(self) -> str: ...
    @property
    def region_code(self) -> str: ...
