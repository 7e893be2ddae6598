"""/readyz: public, never cached, 200 when the database answers and a key verifies (Redis too when
it holds the limits), 503 naming what failed; whether a key can sign is said, not required."""

from pathlib import Path

import pytest


def test_ready_with_a_database_and_a_key(client, signer):
    """200, no-store, every check ok, the signing key available."""
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.headers["Cache-Control"] == "no-store"
    report = ready.get_json()
    assert report["ready"] is True and report["failed"] == []
    assert report["checks"]["database"]["ok"] and report["checks"]["keys"]["signing"] is True


def test_not_ready_without_any_verifying_key(client):
    """No key at all (a fresh install before `keys generate`): 503, keys failed."""
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failed"] == ["keys"]


def test_a_missing_private_key_is_reported_but_still_ready(app, client, signer):
    """The signing key's file missing: still ready (cards verify), and the report says why it cannot sign."""
    path = Path(app.config["KEYS_DIR"]) / f"{signer.kid}.pem"
    path.unlink()
    report = client.get("/readyz").get_json()
    assert report["ready"] is True
    assert report["checks"]["keys"]["signing"] is False and str(path) in report["checks"]["keys"]["signing_problem"]


def test_redis_is_checked_when_it_holds_the_limits(make_app, signer):
    """With a Redis rate-limit store, its check is part of readiness."""
    import os

    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("TEST_REDIS_URL not set: the Redis rate-limit store is tested in CI")
    report = make_app(RATELIMIT_STORAGE_URI=redis_url).test_client().get("/readyz").get_json()
    assert report["ready"] is True and report["checks"]["redis"]["ok"] is True


def test_readiness_says_whether_the_job_queue_answers_without_failing_for_it(make_app):
    """A job queue that is down is said (jobs wait in the table meanwhile); the instance stays ready."""
    from tests.fixtures.outages import closed_port

    report = make_app(JOB_QUEUE_URL=f"redis://127.0.0.1:{closed_port()}/1").test_client().get("/readyz").get_json()
    assert report["checks"]["jobs"]["queue_reachable"] is False and "jobs" not in report["failed"]
    working = make_app().test_client().get("/readyz").get_json()
    assert working["checks"]["jobs"] == {
        "ok": True,
        "queue_reachable": True,
        "waiting": 0,
        "seconds": working["checks"]["jobs"]["seconds"],
    }
