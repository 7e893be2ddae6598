"""The login form's locks: per account after repeated failures, per client address across accounts;
the same answer for a right or a wrong password, and for an address with or without an account.
Every sign-in, failure, lock and sign-out is in the audit trail."""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import AuditEvent, Role, User, utcnow

ALERT = re.compile(r'<p class="flash flash-error" role="alert">([^<]+)</p>')


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SIGN_IN_LOCK_AFTER_FAILURES": 3, "SIGN_IN_CLIENT_LOCK_AFTER_FAILURES": 6}


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, email="officer@chambre.test")


def lock_message(response) -> str | None:
    found = ALERT.search(response.get_data(as_text=True))
    # without the bidi isolates around the values put into the sentence
    return found.group(1).replace("\u2068", "").replace("\u2069", "") if found else None


def fail(auth: AuthActions, times: int, email: str = "officer@chambre.test"):
    return [auth.login(email, "wrong password").status_code for _ in range(times)]


def test_an_account_locks_after_repeated_failures_even_for_the_right_password(client, auth, officer):
    """Two 401s, then the third failure locks (429, Retry-After); the right password gets the same page."""
    assert fail(auth, 2) == [401, 401]
    locking = auth.login("officer@chambre.test", "wrong password")
    right = auth.login("officer@chambre.test", TEST_PASSWORD)
    assert locking.status_code == right.status_code == 429 and right.headers["Retry-After"] == "900"
    assert lock_message(right) == lock_message(locking)
    assert "15 minutes" in lock_message(right)
    assert client.get("/account").status_code == 302  # nobody signed in


def test_an_unknown_address_gets_the_same_answers(client, auth, officer):
    """Status codes and lock message are those of an existing account: nothing tells them apart."""
    client.environ_base["REMOTE_ADDR"] = "198.51.100.1"
    known = [auth.login("officer@chambre.test", "wrong password") for _ in range(4)]
    client.environ_base["REMOTE_ADDR"] = "198.51.100.2"  # each from its own address: no client lock
    unknown = [auth.login("ghost@chambre.test", "wrong password") for _ in range(4)]
    assert [r.status_code for r in known] == [r.status_code for r in unknown] == [401, 401, 429, 429]
    assert [lock_message(r) for r in known] == [lock_message(r) for r in unknown]


def test_the_lock_opens_by_itself_after_the_delay(auth, session, officer):
    """Once `locked_until` is past, the right password signs in and the count starts afresh."""
    fail(auth, 3)
    session.refresh(officer)
    assert officer.locked_until is not None
    officer.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert auth.login(officer).status_code == 302
    session.refresh(officer)
    assert officer.locked_until is None and officer.failed_sign_ins == 0


def test_refused_sign_ins_are_kept_although_the_answer_is_an_error(auth, session, officer):
    """The failure count and the audit rows survive the 401 (the request commits them anyway)."""
    fail(auth, 2)
    session.refresh(officer)
    assert officer.failed_sign_ins == 2 and officer.last_failed_sign_in_at is not None
    count = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")
    assert session.scalar(count) == 2


def test_sign_in_failure_lock_and_sign_out_are_in_the_audit_trail(client, auth, session, officer, make_user):
    """The trail of one account reads: failed, failed, failed + locked; after the delay: signed in, signed out."""
    fail(auth, 3)
    session.refresh(officer)
    officer.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    auth.login(officer)
    auth.logout()
    session.expire_all()
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.reason, AuditEvent.actor)
        .where(AuditEvent.account_id == officer.id)
        .order_by(AuditEvent.id)
    ).all()
    client_label = "client:127.0.0.1"
    assert [tuple(row) for row in rows] == [
        ("auth.sign_in_failed", "wrong_password", client_label),
        ("auth.sign_in_failed", "wrong_password", client_label),
        ("auth.sign_in_failed", "wrong_password", client_label),
        ("auth.account_locked", None, client_label),
        ("auth.sign_in", None, f"user:{officer.id}"),
        ("auth.sign_out", None, f"user:{officer.id}"),
    ]


@pytest.mark.parametrize(
    ("language", "words"), [("fr", "Trop de tentatives"), ("ar", "محاولات"), ("en", "Too many failed attempts")]
)
def test_the_lock_message_is_in_the_readers_language(client, auth, officer, language, words):
    """French, Arabic and English lock messages."""
    client.get(f"/?lang={language}")
    fail(auth, 3)
    assert words in lock_message(auth.login(officer))


def test_one_client_failing_on_many_accounts_is_locked(client, auth, officer):
    """Six failures from one address over six addresses lock that address, even for a right password;
    another address still signs in."""
    client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    codes = [auth.login(f"user{number}@chambre.test", "guess").status_code for number in range(6)]
    assert codes == [401] * 5 + [429]
    refused = auth.login(officer)
    assert refused.status_code == 429 and "connexion" in lock_message(refused)
    client.environ_base["REMOTE_ADDR"] = "203.0.113.10"
    assert auth.login(officer).status_code == 302


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def test_locks_are_shared_by_every_worker_through_redis(make_app, officer):
    """Two apps (two workers) on one Redis: failures counted by one lock the client on the other."""
    if not TEST_REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test the Redis store of the sign-in locks: set TEST_REDIS_URL", pytrace=False)
        pytest.skip("TEST_REDIS_URL not set: the Redis store is tested in CI")
    config = {"RATELIMIT_STORAGE_URI": TEST_REDIS_URL, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
    first, second = AuthActions(make_app(**config).test_client()), AuthActions(make_app(**config).test_client())
    try:
        assert [first.login(f"user{number}@chambre.test", "guess").status_code for number in range(5)] == [401] * 5
        assert second.login("user5@chambre.test", "guess").status_code == 429
        assert second.login(officer).status_code == 429
    finally:
        store = redis.Redis.from_url(TEST_REDIS_URL)
        for key in store.scan_iter(f"*{config['RATELIMIT_KEY_PREFIX']}*"):
            store.delete(key)


def test_a_locked_account_is_listed_as_locked_for_administrators(auth, session, officer, make_user):
    """The administrators' staff list shows the lock."""
    fail(auth, 3)
    admin = make_user(Role.ADMIN)
    assert auth.login(admin).status_code == 302
    page = auth.client.get("/admin/staff?lang=en").get_data(as_text=True)
    assert "locked" in page
    assert session.scalar(select(User.locked_until).where(User.id == officer.id)) is not None
