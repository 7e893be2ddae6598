"""Signing in and out, with temporary locks after repeated failures, and changing one's password.

Two locks, on top of the login rate limit:
- per account: after `LockRules.account_failures` failed sign-ins in a row (none more than the lock
  delay apart), the account refuses every password, right or wrong, for the lock delay; it opens by
  itself afterwards, or when an administrator resets the password. The count lives on the account
  (user_account.failed_sign_ins, locked_until). An email address that matches no account is locked
  exactly the same way (its count kept in the shared counters, under a digest of the address), so
  neither the messages nor the locks tell which addresses have an account.
- per client address: after `LockRules.client_failures` failures within the lock delay, whatever the
  accounts, the address is refused for the lock delay. Counted in the shared counters (Flask-Limiter's
  storage: Redis in production, so every worker and instance sees the same counts).

Every sign-in, failure, lock and sign-out is in the audit trail, with the account concerned; a
failure never stores the password typed, and for an unknown address only the address itself,
normalised and only when it looks like one (people sometimes type their password there).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.models import Card, User, utcnow
from webapp.services.accounts.new_accounts import MAX_EMAIL_LENGTH, is_email_address, normalise_email
from webapp.services.accounts.passwords import check_new_password
from webapp.services.accounts.sms import latin_digits
from webapp.services.audit import Actor, record_event
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.errors import N_, DomainError

# Why a sign-in failed, as the audit trail's `reason` says it.
WRONG_PASSWORD = "wrong_password"
UNKNOWN_EMAIL = "unknown_email"
DISABLED = "disabled"
ACCOUNT_LOCKED = "account_locked"
CLIENT_LOCKED = "client_locked"


class SignInRefused(DomainError):
    """A refused sign-in (subclasses say why, in words that never tell whether an address exists)."""

    code = "sign_in_refused"
    http_status = 401
    message = N_("Incorrect email or password.")


class BadCredentials(SignInRefused):
    """A wrong password, an unknown address or a disabled account: one message for all three."""

    code = "bad_credentials"


class AccountLocked(SignInRefused):
    code = "account_locked"
    http_status = 429
    message = N_(
        "Too many failed attempts with this email address: signing in with it is paused. "
        "Try again in %(minutes)s minutes."
    )

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)


class ClientLocked(SignInRefused):
    code = "client_locked"
    http_status = 429
    message = N_("Too many failed sign-ins from this connection. Try again in %(minutes)s minutes.")

    def __init__(self, minutes: int) -> None:
        super().__init__(minutes=minutes)


class CurrentPasswordWrong(DomainError):
    code = "current_password_wrong"
    http_status = 422
    message = N_("This is not your current password.")


class PasswordUnchanged(DomainError):
    code = "password_unchanged"
    http_status = 422
    message = N_("Choose a new password, different from the current one.")


class PasswordChangeRequired(DomainError):
    """A person with a temporary password asks for anything but the change-password screen."""

    code = "password_change_required"
    http_status = 403
    message = N_("Choose your own password first: the one you were given is temporary.")


class AttemptCounters(Protocol):
    """Counters shared by every worker (Flask-Limiter's `limits` storage has this interface). A key's
    expiry is set by its first increment and not moved by later ones."""

    def incr(self, key: str, expiry: int) -> int: ...

    def get(self, key: str) -> int: ...

    def clear(self, key: str) -> None: ...


@dataclass(frozen=True)
class LockRules:
    """When sign-in locks, and for how long (settings SIGN_IN_*)."""

    account_failures: int
    client_failures: int
    minutes: int

    @property
    def delay(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def seconds(self) -> int:
        return self.minutes * 60


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: what was typed, and from which client address."""

    email: str
    password: str
    client: str


def client_actor(client: str) -> Actor:
    """Who tried, for the audit trail, when no one is signed in: the client address."""
    return Actor(f"client:{client}"[:80])


def person_actor(user: User) -> Actor:
    return Actor(f"user:{user.id}", user.id)


def sign_in(
    session: Session, counters: AttemptCounters, rules: LockRules, attempt: Attempt, now: datetime | None = None
) -> User:
    """The account whose email and password were given, signed in (audited), or a SignInRefused.

    A locked client or account is refused before the password is looked at, so a right password
    gets the same answer as a wrong one. The caller must keep what this writes even when it
    refuses (the failure counts and their audit events are the point).
    """
    now = now or utcnow()
    email = account_email_for(session, attempt.email)
    if counters.get(_client_lock_key(attempt.client)) > 0:
        _record_failure(session, attempt, CLIENT_LOCKED, email=email)
        raise ClientLocked(rules.minutes)
    user = session.scalar(select(User).where(func.lower(User.email) == email).with_for_update())
    if user is None:
        return _refuse_unknown_email(session, counters, rules, attempt, email)
    if user.locked_until is not None and now < user.locked_until:
        _record_failure(session, attempt, ACCOUNT_LOCKED, account=user)
        raise AccountLocked(rules.minutes)
    password_matches = user.check_password(attempt.password)
    if password_matches and user.is_enabled:
        user.failed_sign_ins, user.last_failed_sign_in_at, user.locked_until = 0, None, None
        user.last_signed_in_at = now
        session.flush()
        record_event(session, person_actor(user), "auth.sign_in", account_id=user.id, after={"client": attempt.client})
        return user
    _record_failure(session, attempt, DISABLED if password_matches else WRONG_PASSWORD, account=user)
    account_locked = _count_account_failure(session, user, rules, attempt, now)
    client_locked = _count_client_failure(session, counters, rules, attempt)
    if account_locked:
        raise AccountLocked(rules.minutes)
    if client_locked:
        raise ClientLocked(rules.minutes)
    raise BadCredentials()


def account_email_for(session: Session, typed: str) -> str:
    """The email of the account meant by what was typed: an email address, or for an artisan (who has
    no address: their account's is made up, webapp/services/cards/card_app.py) the number of one of
    their cards, in any digits and case. A number that is no artisan's counts as typed."""
    email = normalise_email(typed)[: MAX_EMAIL_LENGTH + 1]
    if "@" in email:
        return email
    number = normalize_card_number(latin_digits(typed))
    if number is None:
        return email
    artisan_email = session.scalar(
        select(User.email).join(Card, Card.artisan_id == User.artisan_id).where(Card.number == number)
    )
    return artisan_email.lower() if artisan_email is not None else number.lower()


def _refuse_unknown_email(
    session: Session, counters: AttemptCounters, rules: LockRules, attempt: Attempt, email: str
) -> User:
    """Refuse an address with no account exactly as a known one would be refused: the same
    password-hashing work, the same count, the same lock."""
    recorded_email = email if is_email_address(email) else None
    if counters.get(_email_lock_key(email)) > 0:
        _record_failure(session, attempt, ACCOUNT_LOCKED, email=recorded_email)
        raise AccountLocked(rules.minutes)
    _stand_in_account().check_password(attempt.password)  # as long as checking a real one
    _record_failure(session, attempt, UNKNOWN_EMAIL, email=recorded_email)
    failures = counters.incr(_email_failures_key(email), rules.seconds)
    email_locked = failures >= rules.account_failures
    if email_locked:
        counters.incr(_email_lock_key(email), rules.seconds)
        counters.clear(_email_failures_key(email))
        record_event(
            session,
            client_actor(attempt.client),
            "auth.account_locked",
            after={"email": recorded_email, "client": attempt.client, "minutes": rules.minutes},
        )
    client_locked = _count_client_failure(session, counters, rules, attempt)
    if email_locked:
        raise AccountLocked(rules.minutes)
    if client_locked:
        raise ClientLocked(rules.minutes)
    raise BadCredentials()


def _record_failure(
    session: Session, attempt: Attempt, reason: str, *, account: User | None = None, email: str | None = None
) -> None:
    after: dict[str, object] = {"client": attempt.client}
    if account is None:
        after["email"] = email
    record_event(
        session,
        client_actor(attempt.client),
        "auth.sign_in_failed",
        account_id=account.id if account is not None else None,
        reason=reason,
        after=after,
    )


def _count_account_failure(session: Session, user: User, rules: LockRules, attempt: Attempt, now: datetime) -> bool:
    """One more failure in a row; at the threshold, lock the account (audited). True if locked now."""
    stale = user.last_failed_sign_in_at is not None and now - user.last_failed_sign_in_at > rules.delay
    # Counted in SQL: two workers failing at once both count (the row is also locked on PostgreSQL).
    # Failures older than the delay no longer count: this one starts the count again.
    user.failed_sign_ins = 1 if stale else User.failed_sign_ins + 1
    user.last_failed_sign_in_at = now
    session.flush()
    session.refresh(user, ["failed_sign_ins"])
    if user.failed_sign_ins < rules.account_failures:
        return False
    user.failed_sign_ins, user.locked_until = 0, now + rules.delay
    session.flush()
    record_event(
        session,
        client_actor(attempt.client),
        "auth.account_locked",
        account_id=user.id,
        after={"locked_until": user.locked_until.isoformat(), "client": attempt.client},
    )
    return True


def _count_client_failure(session: Session, counters: AttemptCounters, rules: LockRules, attempt: Attempt) -> bool:
    """One more failure from this client address; at the threshold, lock it (audited). True if locked now."""
    failures = counters.incr(_client_failures_key(attempt.client), rules.seconds)
    if failures < rules.client_failures:
        return False
    counters.incr(_client_lock_key(attempt.client), rules.seconds)
    counters.clear(_client_failures_key(attempt.client))
    record_event(
        session,
        client_actor(attempt.client),
        "auth.client_locked",
        after={"client": attempt.client, "failures": failures, "minutes": rules.minutes},
    )
    return True


def is_locked(user: User, now: datetime | None = None) -> bool:
    """Whether the account refuses every password now (it opens by itself at `locked_until`)."""
    return user.locked_until is not None and (now or utcnow()) < user.locked_until


def record_sign_out(session: Session, user: User, client: str) -> None:
    record_event(session, person_actor(user), "auth.sign_out", account_id=user.id, after={"client": client})


def change_password(session: Session, user: User, *, current_password: str, new_password: str, min_length: int) -> None:
    """The person replaces their password (a temporary one, or their own) by one that follows the
    rules; the forced change is then over. Audited, without either password."""
    if not user.check_password(current_password):
        raise CurrentPasswordWrong()
    if new_password == current_password or user.check_password(new_password):
        raise PasswordUnchanged()
    check_new_password(new_password, email=user.email, display_name=user.display_name, min_length=min_length)
    was_forced = user.must_change_password
    user.set_password(new_password)
    user.must_change_password = False
    session.flush()
    record_event(
        session,
        person_actor(user),
        "auth.password_change",
        account_id=user.id,
        after={"was_temporary": was_forced},
    )


@functools.cache
def _stand_in_account() -> User:
    """An account that exists nowhere, with a random password: checking a password against it costs
    what checking a real one does, so an unknown address answers as slowly as a known one."""
    stand_in = User()
    stand_in.set_password(secrets.token_urlsafe(32))
    return stand_in


def _digest(email: str) -> str:
    # The shared store never holds a typed address in clear, only a digest of it.
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _email_failures_key(email: str) -> str:
    return f"sign-in/email-failures/{_digest(email)}"


def _email_lock_key(email: str) -> str:
    return f"sign-in/email-lock/{_digest(email)}"


def _client_failures_key(client: str) -> str:
    return f"sign-in/client-failures/{client}"


def _client_lock_key(client: str) -> str:
    return f"sign-in/client-lock/{client}"
