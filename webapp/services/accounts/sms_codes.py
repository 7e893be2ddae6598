"""Signing in with a one-time code sent by SMS, for an artisan who gave a phone number at activation
(and, say, forgot their password). Issue 15, part 1.

- The artisan types a card number (any case, grouping, digits: the sign-in's own resolution); if that
  card's holder has an account with a phone, a 6-digit code goes to the phone through the SMS gateway.
- The answer is the same whether or not the number has an account or a phone: the page never shows
  any digit of the phone (not even the last two, which would tell that there is one), the send cap
  counts unknown numbers as it counts known ones, and so does the guessing lock.
- A code is stored only as HMAC-SHA256(key, account id + code), the key derived from SECRET_KEY
  (6 digits could be searched offline from a plain hash; not without the key). One live code per
  account (the account's columns: a new code replaces the last), valid `validity` minutes, cleared
  when used.
- Limits, on top of the page's per-client rate limit: at most `sends_per_hour` codes per card number
  typed and per account; after `failures` wrong codes for one account the code is refused, right or
  wrong, for `lock_minutes` (the sign-in locks' counters, AttemptCounters).
- Every send, sign-in, failure and lock is in the audit trail, never the code nor its hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Role, User, utcnow
from webapp.services.accounts.sign_in import AttemptCounters, account_email_for, client_actor, person_actor
from webapp.services.accounts.sms import SmsGateway, latin_digits
from webapp.services.audit import record_event
from webapp.services.errors import N_, DomainError

CODE_DIGITS = 6
_CODE = re.compile(r"^\d{6}$")
_SEPARATORS = re.compile(r"[\s\-.]+")
# Separates this use of SECRET_KEY from every other.
_KEY_PURPOSE = b"carte-artisan/sms-sign-in-code/v1"

# Why a code sign-in failed, as the audit trail's `reason` says it.
NO_CODE = "no_code"  # no account, no phone, no live code: one reason, the code was never sent
WRONG_CODE = "wrong_code"
EXPIRED = "expired"
LOCKED = "locked"
NO_PHONE = "no_phone"
SEND_CAP = "send_cap"


class SmsCodeRefused(DomainError):
    """A code that does not open the account: wrong, expired, used, or never sent (one message)."""

    code = "sms_code_refused"
    http_status = 401
    message = N_("This code is wrong or no longer valid. Check it, or ask for a new code.")


class SmsCodeLocked(SmsCodeRefused):
    code = "sms_code_locked"
    http_status = 429
    message = N_("Too many wrong codes for this card: signing in by code is paused. Try again in %(minutes)s minutes.")

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)


class SmsCodeSendCapped(DomainError):
    code = "sms_code_send_capped"
    http_status = 429
    message = N_("Too many codes were asked for this card. Try again in an hour.")


class SmsCodeNotSent(DomainError):
    """The gateway failed: nothing is kept, the artisan may try again (no code counts as sent)."""

    code = "sms_code_not_sent"
    http_status = 503
    message = N_("The text message could not be sent. Try again in a few minutes.")


@dataclass(frozen=True)
class SmsCodePolicy:
    key: bytes
    validity_minutes: int = 10
    sends_per_hour: int = 3
    failures: int = 5
    lock_minutes: int = 15

    @classmethod
    def from_settings(cls, settings: Any) -> SmsCodePolicy:
        return cls(
            key=hmac.new(str(settings.SECRET_KEY).encode(), _KEY_PURPOSE, hashlib.sha256).digest(),
            lock_minutes=int(settings.SIGN_IN_LOCK_MINUTES),
        )


def normalise_code(text: str) -> str | None:
    """The 6 digits of a typed code (Arabic digits, spaces or dashes allowed), or None."""
    compact = _SEPARATORS.sub("", latin_digits(text.strip()))
    return compact if _CODE.match(compact) else None


def _hash(policy: SmsCodePolicy, account_id: int, code: str) -> str:
    # Bound to the account: a code is worth nothing on another one.
    return hmac.new(policy.key, f"{account_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _artisan_account(session: Session, card_number: str) -> tuple[str, User | None]:
    """What names the account in the counters (the resolved address, or the typed number), and the
    artisan's account if the card number is one of theirs."""
    name = account_email_for(session, card_number)
    account = session.scalar(
        select(User).where(func.lower(User.email) == name, User.role == Role.ARTISAN).with_for_update()
    )
    return name, account


def send_sign_in_code(
    session: Session,
    card_number: str,
    client: str,
    *,
    gateway: SmsGateway,
    compose: Callable[[str], str],
    counters: AttemptCounters,
    policy: SmsCodePolicy,
    now: datetime | None = None,
) -> None:
    """Send a code to the phone of the card's holder, if there is one; the same return (None)
    whether or not there is. SmsCodeSendCapped past the cap (for any number typed), SmsCodeNotSent
    when the gateway fails (the caller rolls back). `compose` makes the SMS text from the code, in
    the artisan's language. The caller keeps what this writes."""
    now = now or utcnow()
    name, account = _artisan_account(session, card_number)
    # Counted before anything else, whatever the number: the cap answers alike for every number.
    if counters.incr(_sends_key(name), 3600) > policy.sends_per_hour:
        record_event(
            session,
            client_actor(client),
            "auth.sign_in_code_refused",
            account_id=account.id if account is not None else None,
            reason=SEND_CAP,
            after={"client": client},
        )
        raise SmsCodeSendCapped()
    if account is None or account.phone is None or not account.is_enabled:
        record_event(
            session,
            client_actor(client),
            "auth.sign_in_code_refused",
            account_id=account.id if account is not None else None,
            reason=NO_PHONE,
            after={"client": client},
        )
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    replaced = account.sign_in_code_hash is not None
    account.sign_in_code_hash = _hash(policy, account.id, code)
    account.sign_in_code_expires_at = now + timedelta(minutes=policy.validity_minutes)
    session.flush()
    try:
        gateway.send(account.phone, compose(code))
    except Exception as failure:  # any provider error: the caller rolls back, the person retries
        raise SmsCodeNotSent() from failure
    record_event(
        session,
        client_actor(client),
        "auth.sign_in_code_sent",
        account_id=account.id,
        after={"client": client, "expires_at": account.sign_in_code_expires_at.isoformat(), "replaced": replaced},
    )


def sign_in_with_code(
    session: Session,
    card_number: str,
    code: str,
    client: str,
    *,
    counters: AttemptCounters,
    policy: SmsCodePolicy,
    now: datetime | None = None,
) -> User:
    """The artisan's account the code opens (the code used up, audited), or an SmsCodeRefused
    (audited, counted). The caller keeps what this writes even when it refuses."""
    now = now or utcnow()
    name, account = _artisan_account(session, card_number)
    account_id = account.id if account is not None else None
    if counters.get(_lock_key(name)) > 0:
        _record_failure(session, client, LOCKED, account_id)
        raise SmsCodeLocked(policy.lock_minutes)
    typed = normalise_code(code)
    reason = _why_refused(account, typed, policy, now)
    if reason is None and account is not None:
        account.sign_in_code_hash, account.sign_in_code_expires_at = None, None  # used once
        account.last_signed_in_at = now
        session.flush()
        counters.clear(_failures_key(name))
        record_event(
            session,
            person_actor(account),
            "auth.sign_in",
            account_id=account.id,
            after={"client": client, "by": "sms_code"},
        )
        return account
    _record_failure(session, client, reason or WRONG_CODE, account_id)
    if counters.incr(_failures_key(name), policy.lock_minutes * 60) >= policy.failures:
        counters.incr(_lock_key(name), policy.lock_minutes * 60)
        counters.clear(_failures_key(name))
        record_event(
            session,
            client_actor(client),
            "auth.sign_in_code_locked",
            account_id=account_id,
            after={"client": client, "minutes": policy.lock_minutes},
        )
        raise SmsCodeLocked(policy.lock_minutes)
    raise SmsCodeRefused()


def _why_refused(account: User | None, typed: str | None, policy: SmsCodePolicy, now: datetime) -> str | None:
    if account is None or account.sign_in_code_hash is None or not account.is_enabled:
        return NO_CODE
    if typed is None or not hmac.compare_digest(account.sign_in_code_hash, _hash(policy, account.id, typed)):
        return WRONG_CODE
    if account.sign_in_code_expires_at is None or now >= account.sign_in_code_expires_at:
        return EXPIRED
    return None


def _record_failure(session: Session, client: str, reason: str, account_id: int | None) -> None:
    record_event(
        session,
        client_actor(client),
        "auth.sign_in_code_failed",
        account_id=account_id,
        reason=reason,
        after={"client": client},
    )


def _digest(name: str) -> str:
    # The shared store never holds a card number or an address in clear.
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def _sends_key(name: str) -> str:
    return f"sms-code/sends/{_digest(name)}"


def _failures_key(name: str) -> str:
    return f"sms-code/failures/{_digest(name)}"


def _lock_key(name: str) -> str:
    return f"sms-code/lock/{_digest(name)}"
