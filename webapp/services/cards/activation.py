"""One-time activation codes: what an artisan types, with their card number and birth date, to put
their card on a phone (issue 15, part 1; the /card/activate page is a later slice).

- A code is 12 random characters of Crockford's base 32 (60 bits), shown as XXXX-XXXX-XXXX and
  accepted in any case, with or without dashes or spaces, look-alikes (O, I, L) read as digits.
- It is stored only as HMAC-SHA256(key, card number + code), the key derived from SECRET_KEY. A
  slow password hash would add nothing: 60 random bits cannot be searched offline without the key,
  and online guessing is limited below. Changing SECRET_KEY ends every live code.
- One live code per card (a partial unique index): issuing a new one supersedes the others under a
  row lock on the card. A code expires (ACTIVATION_CODE_VALIDITY_DAYS) and is used once.
- Guessing is limited per card and per client address, counted in the rate-limit store (the sign-in
  locks' counters, webapp/services/accounts/sign_in.py): a locked card or client is refused before
  the code is looked at. A store that cannot answer refuses (fail closed).
- A wrong code and a wrong birth date get one answer, so a guesser never learns which was right.
  Expired, used and superseded codes are told apart (the person needs a new code), from the code
  alone, whatever the birth date typed, so a dead code never tells a birth date.
- Every issue, use and failure is in the audit trail, never the code nor its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.models import ActivationCode, Card, CardStatus, utcnow
from webapp.services.accounts.sign_in import AttemptCounters, client_actor
from webapp.services.audit import Actor, record_event
from webapp.services.cards.numbers import ALPHABET, normalize_card_number
from webapp.services.errors import N_, DomainError

CODE_LENGTH = 12  # 60 bits
GROUP = 4
_VALUES = frozenset(ALPHABET)
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
# Separates the purpose of the key derived from SECRET_KEY from any other use of that secret.
_KEY_PURPOSE = b"carte-artisan/activation-code/v1"

# Why an activation failed, as the audit trail's `reason` says it.
UNKNOWN_CARD = "unknown_card"
CARD_NOT_IN_FORCE = "card_not_in_force"
WRONG_CODE = "wrong_code"
WRONG_BIRTH_DATE = "wrong_birth_date"
EXPIRED = "expired"
USED = "used"
SUPERSEDED = "superseded"
CARD_LOCKED = "card_locked"
CLIENT_LOCKED = "client_locked"


class ActivationRefused(DomainError):
    """Base of the activation's refusals."""

    code = "activation_refused"
    http_status = 401
    message = N_("This card cannot be activated.")


class ActivationCardUnavailable(ActivationRefused):
    """No such card, or a card revoked or expired: one answer (the public check tells as much)."""

    code = "activation_card_unavailable"
    http_status = 404
    message = N_("No card in force has this number.")


class ActivationDetailsWrong(ActivationRefused):
    """A wrong code or a wrong birth date: one message for both."""

    code = "activation_details_wrong"
    message = N_("The activation code or the birth date is wrong.")


class ActivationCodeExpired(ActivationRefused):
    code = "activation_code_expired"
    message = N_("This activation code has expired: ask your chamber of crafts for a new one.")


class ActivationCodeUsed(ActivationRefused):
    code = "activation_code_used"
    message = N_("This activation code was already used: ask your chamber of crafts for a new one.")


class ActivationCodeSuperseded(ActivationRefused):
    code = "activation_code_superseded"
    message = N_("A newer activation code was issued for this card: use that one.")


class ActivationCardLocked(ActivationRefused):
    code = "activation_card_locked"
    http_status = 429
    message = N_("Too many failed attempts for this card: activation is paused. Try again in %(minutes)s minutes.")

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)


class ActivationClientLocked(ActivationRefused):
    code = "activation_client_locked"
    http_status = 429
    message = N_("Too many failed activations from this connection. Try again in %(minutes)s minutes.")

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)


class NoCodeForCard(DomainError):
    """An officer or the CLI asks a code for a card that cannot be activated."""

    code = "activation_code_not_issued"
    translated_params = ("status",)
    message = N_("Card %(number)s is %(status)s: no activation code is issued for it.")

    def __init__(self, card: Card, state: str) -> None:
        super().__init__(number=card.number, status=state)


@dataclass(frozen=True)
class ActivationPolicy:
    """The hashing key, the validity and the guessing limits (settings ACTIVATION_*, SECRET_KEY)."""

    key: bytes
    validity_days: int
    card_failures: int
    client_failures: int
    minutes: int

    @classmethod
    def from_settings(cls, settings: Any) -> ActivationPolicy:
        return cls(
            key=hmac.new(str(settings.SECRET_KEY).encode(), _KEY_PURPOSE, hashlib.sha256).digest(),
            validity_days=int(settings.ACTIVATION_CODE_VALIDITY_DAYS),
            card_failures=int(settings.ACTIVATION_LOCK_AFTER_FAILURES),
            client_failures=int(settings.ACTIVATION_CLIENT_LOCK_AFTER_FAILURES),
            minutes=int(settings.ACTIVATION_LOCK_MINUTES),
        )

    @property
    def seconds(self) -> int:
        return self.minutes * 60


def new_code() -> str:
    """A fresh code, grouped for reading aloud: 'K7M2-Q9XH-4T0B'."""
    bits = secrets.randbits(5 * CODE_LENGTH)
    raw = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))
    return format_code(raw)


def format_code(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def normalize_code(text: str) -> str | None:
    """The 12 characters of a typed code (any case, dashes, spaces, look-alikes), or None."""
    candidate = text.strip().upper().translate(_LOOKALIKES)
    if len(candidate) != CODE_LENGTH or not set(candidate) <= _VALUES:
        return None
    return candidate


def code_hash(policy: ActivationPolicy, card_number: str, code: str) -> str:
    """What is stored: bound to the card, so a code is worth nothing on another card."""
    return hmac.new(policy.key, f"{card_number}:{code}".encode(), hashlib.sha256).hexdigest()


def in_force(card: Card, now: datetime) -> bool:
    """A card that can be activated: not revoked, not expired (a suspended card shows as such)."""
    return card.status != CardStatus.REVOKED and card.expires_at > now


def _state(card: Card, now: datetime) -> str:
    return "revoked" if card.status == CardStatus.REVOKED else "expired"


def issue_activation_code(
    session: Session, card: Card, actor: Actor, policy: ActivationPolicy, now: datetime | None = None
) -> str:
    """A new code for a card in force, returned in clear this once; the card's earlier codes end."""
    now = now or utcnow()
    # The card's row lock serialises two officers issuing at once; the partial unique index would
    # refuse the second live code anyway.
    session.refresh(card, with_for_update=True)
    if not in_force(card, now):
        raise NoCodeForCard(card, _state(card, now))
    superseded = session.execute(
        update(ActivationCode)
        .where(ActivationCode.card_id == card.id, ActivationCode.used_at.is_(None))
        .where(ActivationCode.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    code = new_code()
    row = ActivationCode(
        card_id=card.id,
        code_hash=code_hash(policy, card.number, normalize_code(code) or ""),
        issued_at=now,
        expires_at=now + timedelta(days=policy.validity_days),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor,
        "card.activation_code_issue",
        card=card,
        after={"code_id": row.id, "expires_at": row.expires_at.isoformat(), "superseded": superseded},
    )
    return code


def store_activation_codes(
    session: Session,
    codes: Sequence[tuple[Card, str]],
    actor: Actor,
    policy: ActivationPolicy,
    now: datetime | None = None,
) -> None:
    """Codes made with `new_code` and printed (a print batch's letters) become their cards' live
    codes, each card's earlier codes ending, audited one event a card as `issue_activation_code`
    does. For many cards at once: one lock, one update and one flush for them all. NoCodeForCard
    if a card is no longer in force (the caller leaves it out first)."""
    if not codes:
        return
    now = now or utcnow()
    ids = [card.id for card, _code in codes]
    # The cards' row locks, in id order (two batches never deadlock), as issue_activation_code takes one.
    session.execute(select(Card.id).where(Card.id.in_(sorted(ids))).order_by(Card.id).with_for_update())
    for card, _code in codes:
        if not in_force(card, now):
            raise NoCodeForCard(card, _state(card, now))
    live = dict(
        session.execute(
            select(ActivationCode.card_id, func.count())
            .where(ActivationCode.card_id.in_(ids), ActivationCode.used_at.is_(None))
            .where(ActivationCode.superseded_at.is_(None))
            .group_by(ActivationCode.card_id)
        ).all()
    )
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.card_id.in_(ids), ActivationCode.used_at.is_(None))
        .where(ActivationCode.superseded_at.is_(None))
        .values(superseded_at=now)
        .execution_options(synchronize_session=False)
    )
    expires_at = now + timedelta(days=policy.validity_days)
    rows = [
        ActivationCode(
            card_id=card.id,
            code_hash=code_hash(policy, card.number, normalize_code(code) or ""),
            issued_at=now,
            expires_at=expires_at,
        )
        for card, code in codes
    ]
    session.add_all(rows)
    session.flush()
    for (card, _code), row in zip(codes, rows, strict=True):
        record_event(
            session,
            actor,
            "card.activation_code_issue",
            card=card,
            after={"code_id": row.id, "expires_at": expires_at.isoformat(), "superseded": live.get(card.id, 0)},
        )


def check_activation(
    session: Session,
    card_number: str,
    code: str,
    birth_date: date,
    client: str,
    *,
    counters: AttemptCounters,
    policy: ActivationPolicy,
    now: datetime | None = None,
) -> ActivationCode:
    """The live code these details open (its row locked), or an ActivationRefused (audited, counted).

    The caller must keep what this writes even when it refuses (the counts and their audit events
    are the point), and calls `consume_activation_code` once the activation is done.
    """
    now = now or utcnow()
    number = normalize_card_number(card_number)
    if counters.get(_client_lock_key(client)) > 0:
        _record_failure(session, client, CLIENT_LOCKED, number=number)
        raise ActivationClientLocked(policy.minutes)
    card = session.scalar(select(Card).where(Card.number == number)) if number else None
    if card is None or not in_force(card, now):
        _record_failure(session, client, UNKNOWN_CARD if card is None else CARD_NOT_IN_FORCE, card=card, number=number)
        if _count_client_failure(session, counters, policy, client):
            raise ActivationClientLocked(policy.minutes)
        raise ActivationCardUnavailable()
    if counters.get(_card_lock_key(card.id)) > 0:
        _record_failure(session, client, CARD_LOCKED, card=card)
        raise ActivationCardLocked(policy.minutes)
    typed = normalize_code(code)
    row = (
        session.scalar(
            select(ActivationCode)
            .where(ActivationCode.card_id == card.id, ActivationCode.code_hash == code_hash(policy, card.number, typed))
            .with_for_update()
        )
        if typed
        else None
    )
    refusal: ActivationRefused | None = None
    if row is None:
        reason, refusal = WRONG_CODE, ActivationDetailsWrong()
    elif row.used_at is not None:
        reason, refusal = USED, ActivationCodeUsed()
    elif row.superseded_at is not None:
        reason, refusal = SUPERSEDED, ActivationCodeSuperseded()
    elif row.expires_at <= now:
        reason, refusal = EXPIRED, ActivationCodeExpired()
    elif card.artisan.birth_date != birth_date:
        reason, refusal = WRONG_BIRTH_DATE, ActivationDetailsWrong()
    if refusal is None:
        assert row is not None
        return row
    _record_failure(session, client, reason, card=card, code_id=row.id if row is not None else None)
    card_locked = _count_card_failure(session, counters, policy, client, card)
    client_locked = _count_client_failure(session, counters, policy, client)
    if card_locked:
        raise ActivationCardLocked(policy.minutes)
    if client_locked:
        raise ActivationClientLocked(policy.minutes)
    raise refusal


def consume_activation_code(
    session: Session,
    activation: ActivationCode,
    client: str,
    counters: AttemptCounters,
    now: datetime | None = None,
) -> None:
    """Mark the code checked by `check_activation` used (audited); the card's failure count starts again.

    The update only takes a live code: of two activations racing with one code, one wins and the
    other gets ActivationCodeUsed.
    """
    now = now or utcnow()
    taken = session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == activation.id, ActivationCode.used_at.is_(None))
        .where(ActivationCode.superseded_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(activation)
    if taken != 1:
        raise ActivationCodeUsed()
    card = session.get(Card, activation.card_id)
    assert card is not None
    counters.clear(_card_failures_key(card.id))
    record_event(
        session,
        client_actor(client),
        "card.activation_code_use",
        card=card,
        after={"code_id": activation.id, "client": client},
    )


def _record_failure(
    session: Session,
    client: str,
    reason: str,
    *,
    card: Card | None = None,
    number: str | None = None,
    code_id: int | None = None,
) -> None:
    after: dict[str, object] = {"client": client}
    if card is None:
        after["card_number"] = number  # only a well-formed number (check character), never free text
    if code_id is not None:
        after["code_id"] = code_id
    record_event(session, client_actor(client), "card.activation_failed", card=card, reason=reason, after=after)


def _count_card_failure(
    session: Session, counters: AttemptCounters, policy: ActivationPolicy, client: str, card: Card
) -> bool:
    failures = counters.incr(_card_failures_key(card.id), policy.seconds)
    if failures < policy.card_failures:
        return False
    counters.incr(_card_lock_key(card.id), policy.seconds)
    counters.clear(_card_failures_key(card.id))
    record_event(
        session,
        client_actor(client),
        "card.activation_locked",
        card=card,
        after={"client": client, "failures": failures, "minutes": policy.minutes},
    )
    return True


def _count_client_failure(session: Session, counters: AttemptCounters, policy: ActivationPolicy, client: str) -> bool:
    failures = counters.incr(_client_failures_key(client), policy.seconds)
    if failures < policy.client_failures:
        return False
    counters.incr(_client_lock_key(client), policy.seconds)
    counters.clear(_client_failures_key(client))
    record_event(
        session,
        client_actor(client),
        "card.activation_client_locked",
        after={"client": client, "failures": failures, "minutes": policy.minutes},
    )
    return True


def _card_failures_key(card_id: int) -> str:
    return f"activation/card-failures/{card_id}"


def _card_lock_key(card_id: int) -> str:
    return f"activation/card-lock/{card_id}"


def _client_failures_key(client: str) -> str:
    return f"activation/client-failures/{client}"


def _client_lock_key(client: str) -> str:
    return f"activation/client-lock/{client}"
