"""Rate limits: per client address, generous for verification, strict for login, and shared by
every worker through Redis in production (tested against the real Redis when TEST_REDIS_URL is set;
CI sets it)."""

import os
import uuid

import pytest
import redis

from tests.conftest import csrf_token_from

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture
def redis_url():
    if not TEST_REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must test the Redis rate-limit store: set TEST_REDIS_URL", pytrace=False)
        pytest.skip("TEST_REDIS_URL not set: the Redis rate-limit store is tested in CI")
    return TEST_REDIS_URL


@pytest.fixture
def limited_config():
    """Rate limiting on (over the `app` fixture's database), with a key prefix of its own so test runs
    never share counters."""
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}"}


def verify(client, address="203.0.113.7"):
    return client.post("/api/v1/verify", json={"qr": "not a card"}, environ_base={"REMOTE_ADDR": address})


def test_redis_counts_are_shared_by_every_worker(make_app, limited_config, redis_url):
    """With Redis, the count is kept in Redis: a second app (another worker) sees the same count."""
    config = {**limited_config, "RATELIMIT_STORAGE_URI": redis_url, "VERIFY_RATE_LIMIT": "3 per minute"}
    first_worker = make_app(**config).test_client()
    assert [verify(first_worker).status_code for _ in range(3)] == [200, 200, 200]
    store = redis.Redis.from_url(redis_url)
    assert store.keys(f"*{config['RATELIMIT_KEY_PREFIX']}*"), "no counter written to Redis"
    second_worker = make_app(**config).test_client()
    refused = verify(second_worker)
    assert refused.status_code == 429 and refused.get_json()["error"] == "rate_limited"
    assert verify(second_worker, address="198.51.100.9").status_code == 200  # per client address
    for key in store.scan_iter(f"*{config['RATELIMIT_KEY_PREFIX']}*"):
        store.delete(key)


def test_the_default_verify_limit_lets_a_whole_souk_through_one_address(make_app, limited_config):
    """Many phones behind one carrier address: 200 scans in a burst are all answered."""
    client = make_app(**limited_config).test_client()
    statuses = {verify(client).status_code for _ in range(200)}
    assert statuses == {200}


def test_login_is_limited_strictly_per_address(make_app, limited_config):
    """The eleventh password guess in a minute from one address is refused with 429 (each on another
    account, so that no account lock answers first: tests/auth/test_lockout.py)."""
    client = make_app(**limited_config).test_client()
    address = {"REMOTE_ADDR": "203.0.113.8"}
    token = csrf_token_from(client.get("/login", environ_base=address).get_data(as_text=True))
    attempts = [
        client.post(
            "/login",
            data={"email": f"someone{number}@demo.carte-artisan.ma", "password": "guess", "csrf_token": token},
            environ_base=address,
        ).status_code
        for number in range(11)
    ]
    assert attempts[:10] == [401] * 10 and attempts[10] == 429
