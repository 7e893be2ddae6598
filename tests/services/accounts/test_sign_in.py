"""Signing in: a temporary lock per account (or per unknown address) and per client address, with
the same answer whether the password was right or not; every attempt in the audit trail. Time is
moved by passing `now` and advancing the counters' clock, never by sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.support import TEST_PASSWORD
from webapp.models import AuditEvent, Role, User, utcnow
from webapp.services.accounts.passwords import PasswordIsPersonal, PasswordTooCommon, PasswordTooShort
from webapp.services.accounts.sign_in import (
    AccountLocked,
    Attempt,
    BadCredentials,
    ClientLocked,
    CurrentPasswordWrong,
    LockRules,
    PasswordUnchanged,
    change_password,
    is_locked,
    sign_in,
)

RULES = LockRules(account_failures=3, client_failures=5, minutes=15)
CLIENT = "203.0.113.5"


class ClockCounters:
    """The shared counters' behaviour (a key expires `expiry` seconds after its first increment), on a
    clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0
        self.values: dict[str, int] = {}
        self.expires: dict[str, float] = {}

    def _drop_expired(self, key: str) -> None:
        if key in self.expires and self.expires[key] <= self.now:
            self.values.pop(key, None)
            self.expires.pop(key, None)

    def incr(self, key: str, expiry: int) -> int:
        self._drop_expired(key)
        if key not in self.values:
            self.values[key], self.expires[key] = 0, self.now + expiry
        self.values[key] += 1
        return self.values[key]

    def get(self, key: str) -> int:
        self._drop_expired(key)
        return self.values.get(key, 0)

    def clear(self, key: str) -> None:
        self.values.pop(key, None)
        self.expires.pop(key, None)


@pytest.fixture
def counters() -> ClockCounters:
    return ClockCounters()


@pytest.fixture
def officer(make_user) -> User:
    return make_user(Role.OFFICER, email="agent@chambre.test")


def attempt(password: str = TEST_PASSWORD, email: str = "agent@chambre.test", client: str = CLIENT) -> Attempt:
    return Attempt(email=email, password=password, client=client)


def events(session, action: str | None = None) -> list[AuditEvent]:
    session.expire_all()
    statement = select(AuditEvent).order_by(AuditEvent.id)
    return list(session.scalars(statement.where(AuditEvent.action == action) if action else statement))


def test_the_right_password_signs_in_and_is_audited(session, counters, officer):
    """Email in any case, right password: the account, its last sign-in time, one audit row."""
    now = utcnow()
    user = sign_in(session, counters, RULES, attempt(email="  Agent@Chambre.TEST "), now=now)
    assert user.id == officer.id and user.last_signed_in_at == now
    [event] = events(session)
    assert (event.action, event.account_id, event.actor_user_id) == ("auth.sign_in", officer.id, officer.id)
    assert event.after == {"client": CLIENT}


def test_repeated_failures_lock_the_account_whatever_the_password_then_it_opens_by_itself(session, counters, officer):
    """Three wrong passwords lock it; the right one then gets the same refusal; after the delay it works."""
    now = utcnow()
    for _ in range(RULES.account_failures - 1):
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt("wrong"), now=now)
    with pytest.raises(AccountLocked) as locking:
        sign_in(session, counters, RULES, attempt("wrong"), now=now)
    assert is_locked(officer, now) and officer.locked_until == now + timedelta(minutes=15)
    with pytest.raises(AccountLocked) as right_password:
        sign_in(session, counters, RULES, attempt(), now=now + timedelta(minutes=14))
    assert str(right_password.value) == str(locking.value)
    assert sign_in(session, counters, RULES, attempt(), now=now + timedelta(minutes=15, seconds=1)).id == officer.id
    assert officer.failed_sign_ins == 0 and officer.locked_until is None


def test_failures_far_apart_do_not_add_up(session, counters, officer):
    """A failure longer than the delay after the previous one starts the count again."""
    now = utcnow()
    for step in range(RULES.account_failures + 2):
        counters.now += 16 * 60
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt("wrong"), now=now + step * timedelta(minutes=16))
    assert not is_locked(officer, now + timedelta(hours=2)) and officer.failed_sign_ins == 1


def test_a_success_resets_the_count(session, counters, officer):
    """Two failures, a success, two failures: not locked."""
    for _ in range(2):
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt("wrong"))
    sign_in(session, counters, RULES, attempt())
    for _ in range(2):
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt("wrong"))
    assert officer.failed_sign_ins == 2 and officer.locked_until is None


def test_an_unknown_address_is_refused_and_locked_exactly_like_a_known_one(session, counters, officer):
    """Same refusals in the same order, same messages: nothing tells whether the address has an account."""
    outcomes = {}
    for email in ("agent@chambre.test", "nobody@chambre.test"):
        seen = []
        for _ in range(RULES.account_failures + 1):
            with pytest.raises((BadCredentials, AccountLocked)) as refused:
                sign_in(session, counters, RULES, attempt("wrong", email=email, client=email))
            seen.append((type(refused.value), str(refused.value)))
        outcomes[email] = seen
    assert outcomes["agent@chambre.test"] == outcomes["nobody@chambre.test"]
    assert [kind for kind, _message in outcomes["nobody@chambre.test"]] == [BadCredentials] * 2 + [AccountLocked] * 2


def test_an_unknown_address_lock_opens_after_the_delay(session, counters):
    """The counters' lock for an unknown address lasts the delay, then the address is refused as usual."""
    for _ in range(RULES.account_failures):
        with pytest.raises((BadCredentials, AccountLocked)):
            sign_in(session, counters, RULES, attempt("wrong", email="nobody@chambre.test"))
    counters.now += RULES.seconds
    with pytest.raises(BadCredentials):
        sign_in(session, counters, RULES, attempt("wrong", email="nobody@chambre.test"))


def test_failures_are_audited_without_the_password(session, counters, officer):
    """A known account's failure names the account; an unknown one keeps only the normalised address;
    something that is not an address (a password typed in the wrong box) is not kept at all."""
    typed = [("agent@chambre.test", "s3cret-guess"), ("  NoBody@Chambre.test ", "other-guess"), ("hunter2-pass", "x")]
    for email, password in typed:
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt(password, email=email))
    failures = events(session, "auth.sign_in_failed")
    assert [(event.account_id, event.reason) for event in failures] == [
        (officer.id, "wrong_password"),
        (None, "unknown_email"),
        (None, "unknown_email"),
    ]
    assert [event.after for event in failures] == [
        {"client": CLIENT},
        {"client": CLIENT, "email": "nobody@chambre.test"},
        {"client": CLIENT, "email": None},
    ]
    assert all(event.actor == f"client:{CLIENT}" and event.actor_user_id is None for event in failures)
    stored = repr([(event.before, event.after, event.reason) for event in events(session)])
    assert not any(secret in stored for secret in ("s3cret-guess", "other-guess", "hunter2"))


def test_a_lock_is_audited_with_its_end(session, counters, officer):
    """The failure that locks writes a lock event naming the account and until when."""
    now = utcnow()
    for _ in range(RULES.account_failures):
        with pytest.raises((BadCredentials, AccountLocked)):
            sign_in(session, counters, RULES, attempt("wrong"), now=now)
    with pytest.raises(AccountLocked):
        sign_in(session, counters, RULES, attempt(), now=now)
    [lock] = events(session, "auth.account_locked")
    assert lock.account_id == officer.id and lock.after["locked_until"] == (now + RULES.delay).isoformat()
    assert events(session, "auth.sign_in_failed")[-1].reason == "account_locked"


def test_a_disabled_account_is_refused_like_a_wrong_password(session, counters, officer):
    """The right password of a disabled account gets the wrong-password answer; the trail says why."""
    officer.is_enabled = False
    session.flush()
    with pytest.raises(BadCredentials):
        sign_in(session, counters, RULES, attempt())
    assert events(session, "auth.sign_in_failed")[-1].reason == "disabled"


def test_one_client_failing_on_many_accounts_is_locked_then_opens(session, counters, make_user):
    """Five failures from one address over five addresses lock that address, even for a right
    password; another address is not concerned; the lock opens after the delay."""
    member = make_user(Role.ADMIN, email="admin@chambre.test")
    for number in range(RULES.client_failures - 1):
        with pytest.raises(BadCredentials):
            sign_in(session, counters, RULES, attempt("wrong", email=f"someone{number}@chambre.test"))
    with pytest.raises(ClientLocked):
        sign_in(session, counters, RULES, attempt("wrong", email="someone-else@chambre.test"))
    with pytest.raises(ClientLocked):
        sign_in(session, counters, RULES, attempt(email="admin@chambre.test"))
    assert sign_in(session, counters, RULES, attempt(email="admin@chambre.test", client="198.51.100.1")) == member
    assert len(events(session, "auth.client_locked")) == 1
    counters.now += RULES.seconds
    assert sign_in(session, counters, RULES, attempt(email="admin@chambre.test")) == member


def test_a_new_password_clears_the_forced_change(session, officer):
    """The right current password and a good new one: the new one works, the flag is down, audited."""
    officer.must_change_password = True
    change_password(
        session, officer, current_password=TEST_PASSWORD, new_password="Tapis de Taznakht 1990", min_length=12
    )
    assert officer.check_password("Tapis de Taznakht 1990") and not officer.must_change_password
    [event] = events(session, "auth.password_change")
    assert event.account_id == officer.id and event.after == {"was_temporary": True}


@pytest.mark.parametrize(
    ("current", "new", "refusal"),
    [
        ("wrong", "Tapis de Taznakht 1990", CurrentPasswordWrong),
        (TEST_PASSWORD, TEST_PASSWORD, PasswordUnchanged),
        (TEST_PASSWORD, "tapis", PasswordTooShort),
        (TEST_PASSWORD, "agent@chambre.test", PasswordIsPersonal),
        (TEST_PASSWORD, "Password1234", PasswordTooCommon),
    ],
    ids=["wrong-current", "unchanged", "too-short", "the-email", "common"],
)
def test_a_refused_change_keeps_the_password(session, officer, current, new, refusal):
    """Each refusal leaves the old password and the forced change in place, and writes nothing."""
    officer.must_change_password = True
    with pytest.raises(refusal):
        change_password(session, officer, current_password=current, new_password=new, min_length=12)
    assert officer.check_password(TEST_PASSWORD) and officer.must_change_password
    assert events(session, "auth.password_change") == []
