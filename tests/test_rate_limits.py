"""Rate limits: per client address, generous for verification, strict for login, and shared by
every worker through Redis in production (tested against the real Redis when TEST_REDIS_URL is set;
CI sets it)."""

import logging
import os
import time
import uuid

import pytest
import redis

from tests.conftest import csrf_token_from
from tests.fixtures.outages import PausableProxy, SilentListener, closed_port

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


# --- The store down or hung (issue 14): capacity limits per worker, password guards fail closed ---


@pytest.fixture(params=["refused", "silent"])
def broken_store(request):
    """A Redis URL that refuses at once, or whose server accepts and never answers (a hung Redis:
    the socket timeouts answer)."""
    if request.param == "refused":
        yield f"redis://127.0.0.1:{closed_port()}"
    else:
        with SilentListener() as listener:
            yield f"redis://127.0.0.1:{listener.port}"


def test_verification_keeps_answering_with_the_store_down(make_app, limited_config, broken_store, caplog):
    """Verify answers 200 and its limit is counted in the worker's memory: logged once per outage,
    counted, and still enforced."""
    app = make_app(**limited_config, RATELIMIT_STORAGE_URI=broken_store, VERIFY_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="webapp.extensions"):
        statuses = [verify(client).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert [record.getMessage() for record in caplog.records].count(
        "rate-limit store unreachable (ConnectionError): capacity limits counted per worker until it answers"
    ) + [record.getMessage() for record in caplog.records].count(
        "rate-limit store unreachable (TimeoutError): capacity limits counted per worker until it answers"
    ) == 1
    stats = app.extensions["capacity_limiter"].stats
    assert stats.in_memory and stats.outages == 1 and stats.requests_counted_in_memory == 4


@pytest.mark.parametrize("limits_on", [True, False], ids=["login-limit", "lock-counters"])
def test_sign_in_fails_closed_with_the_store_down(make_app, limited_config, broken_store, limits_on):
    """Login's rate limit and the sign-in lock counters guard passwords: with their store down, a
    sign-in answers a translated 503, never goes through unguarded."""
    app = make_app(**{**limited_config, "RATELIMIT_ENABLED": limits_on}, RATELIMIT_STORAGE_URI=broken_store)
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login?lang=ar", data={"email": "someone@demo.carte-artisan.ma", "password": "guess", "csrf_token": token}
    )
    assert answer.status_code == 503
    assert "تسجيل الدخول غير متاح مؤقتًا" in answer.get_data(as_text=True)


def test_readiness_names_the_store(make_app, limited_config, broken_store):
    """/readyz answers 503 with "redis" failed when the rate-limit store cannot answer."""
    ready = make_app(**limited_config, RATELIMIT_STORAGE_URI=broken_store).test_client().get("/readyz")
    assert ready.status_code == 503 and "redis" in ready.get_json()["failed"]


def test_capacity_limits_go_back_to_the_store_when_it_answers(make_app, limited_config, redis_url):
    """A paused Redis sends verification to per-worker counts; once it answers again (after
    REDIS_RETRY_SECONDS), the counts are shared again."""
    host, port = redis_url.removeprefix("redis://").split("/")[0].split(":")
    with PausableProxy(host, int(port)) as proxy:
        app = make_app(**limited_config, RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{proxy.port}", REDIS_RETRY_SECONDS=1)
        client = app.test_client()
        stats = app.extensions["capacity_limiter"].stats
        assert verify(client).status_code == 200 and not stats.in_memory
        proxy.pause()
        assert verify(client).status_code == 200 and stats.in_memory
        proxy.resume()
        time.sleep(1.1)  # REDIS_RETRY_SECONDS: the store is left alone that long
        assert verify(client).status_code == 200 and not stats.in_memory
        assert stats.outages == 1
