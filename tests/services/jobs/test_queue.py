"""The queue as deployed: Redis (production) takes jobs that a worker runs, and a Redis that is down
or hung never fails nor hangs the request that submits a job: the job waits in the table and the
sweep puts it on the queue again."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from sqlalchemy import select

from tests.fixtures.outages import SilentListener, closed_port
from tests.fixtures.support import TEST_ACTOR
from webapp.models import Job, JobState
from webapp.services.jobs.jobs import submit_job

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["refused", "hung"])
def broken_redis(request):
    if request.param == "refused":
        yield f"redis://127.0.0.1:{closed_port()}/0"
    else:
        with SilentListener() as listener:
            yield f"redis://127.0.0.1:{listener.port}/0"


def test_a_submission_survives_a_redis_that_is_down_or_hung(make_app, job_kind, broken_redis, caplog):
    """The request commits within seconds; its job stays queued, logged, for the sweep to requeue."""
    job_kind("count", lambda ctx: None)
    app = make_app(JOB_QUEUE_URL=broken_redis, REDIS_CONNECT_TIMEOUT_SECONDS=1, REDIS_SOCKET_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    with app.app_context(), app.extensions["database"].session_scope() as session:
        job = submit_job(session, "count", actor=TEST_ACTOR)
    elapsed = time.monotonic() - started
    with app.extensions["database"].session_scope() as session:
        assert session.scalar(select(Job.state).where(Job.id == job.id)) == JobState.QUEUED
    assert elapsed < 10, f"submitting took {elapsed:.1f} s"
    assert "the sweep will put it on the queue again" in caplog.text


def test_redis_carries_the_job_id_to_a_worker(make_app, job_kind):
    """On Redis, a committed job is one message holding its id; the worker's task runs it."""
    import redis

    try:
        redis.Redis.from_url(TEST_REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        pytest.skip("no Redis at TEST_REDIS_URL")
    ran = []
    job_kind("count", lambda ctx: ran.append(ctx.job_id))
    app = make_app(JOB_QUEUE_URL=TEST_REDIS_URL, JOB_QUEUE_NAME=f"test-{uuid.uuid4().hex}")
    queue = app.extensions["jobs"]
    try:
        with app.app_context(), app.extensions["database"].session_scope() as session:
            job = submit_job(session, "count", actor=TEST_ACTOR)
        assert queue.huey.pending_count() == 1
        task = queue.huey.dequeue()
        with app.app_context():
            queue.huey.execute(task)
        assert ran == [job.id]
    finally:
        queue.huey.flush()
