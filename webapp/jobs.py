"""The job queue's Flask glue (DESIGN decision 12): the Huey queue chosen by JOB_QUEUE_URL (a SQLite
file for one machine, Redis in production, immediate in tests), the task every job runs through,
the periodic sweeps, and the session hook that puts a job on the queue once its row is committed.

Huey carries only job ids; the job table (webapp/services/jobs/) holds everything else. A worker
is `flask --app wsgi jobs worker` (webapp/cli/jobs.py): the same app, the same queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from redis import ConnectionPool
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.db import get_database
from webapp.services.jobs import runner
from webapp.services.jobs.eligibility import submit_stale_rebuilds
from webapp.services.jobs.jobs import TO_ENQUEUE, purge_expired_files, requeue_forgotten, schedule, sweep_stale
from webapp.services.jobs.storage import FolderStorage, folder_storage
from webapp.services.printing.batches import purge_batch_files
from webapp.settings import Settings, current_settings

log = logging.getLogger(__name__)
# Huey's blocking read on Redis waits this long for a message before it looks again.
REDIS_READ_TIMEOUT_SECONDS = 1


def make_huey(settings: Settings) -> Huey:
    """The queue of JOB_QUEUE_URL. Results are not kept: the job table says how a job ended."""
    url = settings.JOB_QUEUE_URL
    if url == "immediate":
        return MemoryHuey(settings.JOB_QUEUE_NAME, immediate=True, results=False)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # Its own file, never the app's database ("database is locked": huey#445).
        return SqliteHuey(
            settings.JOB_QUEUE_NAME, filename=str(path), results=False, timeout=settings.SQLITE_BUSY_TIMEOUT_SECONDS
        )
    # Timeouts on every Redis call: a hung Redis costs a submit a second or two, never a hang.
    pool = ConnectionPool.from_url(
        url,
        socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT_SECONDS,
        socket_timeout=REDIS_READ_TIMEOUT_SECONDS + settings.REDIS_SOCKET_TIMEOUT_SECONDS,
    )
    return RedisHuey(
        settings.JOB_QUEUE_NAME, connection_pool=pool, results=False, read_timeout=REDIS_READ_TIMEOUT_SECONDS
    )


class JobQueue:
    """The app's queue, its storage, and running a job by id (on a worker or in a command)."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.huey = make_huey(settings)
        self.storage: FolderStorage = folder_storage(settings.JOB_FILES_DIR)
        self.run_job_task = self.huey.task(name="carte.run_job")(self._run_on_worker)
        self.huey.periodic_task(crontab(minute="*"), name="carte.sweep_jobs")(self._sweep)
        self.huey.periodic_task(crontab(minute="17"), name="carte.purge_job_files")(self._purge)
        # Offers' eligibility lists re-signed soon after midnight in Morocco (rules may read today)
        # and before half their validity; also any rebuild a change asked for and no job did.
        self.huey.periodic_task(crontab(minute="*/5"), name="carte.eligibility_lists")(self._eligibility_lists)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.settings.JOB_STALE_SECONDS)

    def run(self, job_id: int) -> Any:
        """Run a job here and now (a worker's task, or a command's `--in-process`)."""
        database = get_database()
        return runner.execute(
            job_id,
            session_scope=database.session_scope,
            storage=self.storage,
            settings=self.settings,
            schedule=schedule,
        )

    def _run_on_worker(self, job_id: int) -> None:
        with self.app.app_context():
            self.run(job_id)

    def _sweep(self) -> None:
        with self.app.app_context(), get_database().session_scope() as session:
            marked = sweep_stale(session, self.storage, stale_after=self.stale_after)
            requeued = requeue_forgotten(session, older_than=self.stale_after)
            if marked or requeued:
                log.warning(
                    "jobs: %d interrupted (heartbeat stopped), %d put on the queue again", marked, len(requeued)
                )

    def _eligibility_lists(self) -> None:
        with self.app.app_context(), get_database().session_scope() as session:
            submit_stale_rebuilds(session, self.settings)

    def _purge(self) -> None:
        with self.app.app_context(), get_database().session_scope() as session:
            purge_expired_files(session, self.storage)
            purge_batch_files(session, self.storage)  # print batches' files past PRINT_BATCH_RETENTION_DAYS

    def enqueue(self, job_id: int) -> None:
        """Put a committed job on the queue. If the queue cannot be reached the job stays queued in
        the table, and the sweep puts it on the queue again (JOB_STALE_SECONDS later)."""
        try:
            self.run_job_task(job_id)
        except Exception:
            if self.huey.immediate:
                raise
            log.exception("job %s: the queue could not be reached; the sweep will put it on the queue again", job_id)


def init_app(app: Flask) -> None:
    """Make the app's queue and put submitted jobs on it when their transaction commits."""
    queue = JobQueue(app, current_settings(app))
    app.extensions["jobs"] = queue
    factory = app.extensions["database"].session_factory

    @event.listens_for(factory, "after_commit")
    def _enqueue_committed(session: Session) -> None:
        # SQLAlchemy also calls after_commit when a savepoint (begin_nested) is released: the real
        # commit is still to come, and a worker would not find the job's row yet.
        if session.in_nested_transaction():
            return
        for job_id in session.info.pop(TO_ENQUEUE, []):
            queue.enqueue(job_id)

    @event.listens_for(factory, "after_rollback")
    def _forget_rolled_back(session: Session) -> None:
        session.info.pop(TO_ENQUEUE, None)


def get_queue() -> JobQueue:
    return current_app.extensions["jobs"]


def get_storage() -> FolderStorage:
    """The storage of jobs' files (uploads, exports, print batches)."""
    return get_queue().storage
