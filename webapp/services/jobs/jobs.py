"""The job table's service: submit a job, read it within a scope, cancel it, and the sweeps that
find jobs whose worker died and delete result files past their time.

A job is put on the queue only once the transaction that created it has committed (webapp/jobs.py
hooks the session): a worker never reads a job that does not exist yet, and a request that fails
after submitting leaves neither a row nor a message behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from webapp.models import ACTIVE_STATES, Job, JobState, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.jobs.kinds import job_kinds, kind_named
from webapp.services.jobs.storage import Storage
from webapp.services.scope import RecordNotFound, Scope

log = logging.getLogger(__name__)

# The session's `info` key listing the jobs to put on the queue when it commits.
TO_ENQUEUE = "jobs_to_enqueue"
RECENT_JOBS = 20


class JobNotCancellable(DomainError):
    code = "job_not_cancellable"
    http_status = 409
    message = N_("This work has already ended: it can no longer be cancelled.")


class UnknownJobKind(DomainError):
    code = "unknown_job_kind"
    http_status = 422
    message = N_("There is no such kind of work.")


def schedule(session: Session, job_id: int) -> None:
    """Put the job on the queue once this session's transaction commits (nothing if it rolls back)."""
    session.info.setdefault(TO_ENQUEUE, []).append(job_id)


def submit_job(
    session: Session,
    kind: str,
    *,
    actor: Actor,
    region_code: str | None = None,
    params: dict[str, Any] | None = None,
    total: int | None = None,
    dedupe_key: str | None = None,
    enqueue: bool = True,
) -> Job:
    """A new job (or, with a dedupe key, the queued or running one that has it). It goes on the queue
    when the session commits; `enqueue=False` leaves it for the caller to run in its own process."""
    try:
        kind_named(kind)
    except KeyError:
        raise UnknownJobKind() from None
    if dedupe_key is not None:
        existing = session.scalar(
            select(Job)
            .where(Job.dedupe_key == dedupe_key, Job.state.in_(ACTIVE_STATES), Job.parent_id.is_(None))
            .order_by(Job.id.desc())
            .limit(1)
        )
        if existing is not None:
            return existing
    job = Job(
        kind=kind,
        state=JobState.QUEUED,
        user_id=actor.user_id,
        actor_label=actor.label[:120],
        region_code=region_code,
        params=params or {},
        dedupe_key=dedupe_key,
        total=total,
        parts_done=0,
        done=0,
        cancel_requested=False,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(job)
    session.flush()
    if enqueue:
        schedule(session, job.id)
    return job


def get_job(
    session: Session,
    job_id: int,
    scope: Scope,
    *,
    kinds: tuple[str, ...] | None = None,
    stale_after: timedelta | None = None,
    storage: Storage | None = None,
) -> Job:
    """The job if the scope covers it (an officer: their region's; an administrator: all), else
    RecordNotFound. A job whose heartbeat stopped is marked interrupted on the way."""
    statement = select(Job).where(Job.id == job_id, Job.parent_id.is_(None))
    if scope.region_code is not None:
        statement = statement.where(Job.region_code == scope.region_code)
    if kinds is not None:
        statement = statement.where(Job.kind.in_(kinds))
    job = session.scalar(statement)
    if job is None:
        raise RecordNotFound()
    if stale_after is not None and storage is not None and job.state in (JobState.RUNNING, JobState.WAITING):
        sweep_stale(session, storage, stale_after=stale_after, only_job_id=job.id)
        session.refresh(job)
    return job


def recent_jobs(
    session: Session,
    scope: Scope,
    *,
    kinds: tuple[str, ...] | None = None,
    user_id: int | None = None,
    limit: int = RECENT_JOBS,
) -> list[Job]:
    statement = select(Job).where(Job.parent_id.is_(None)).order_by(Job.id.desc()).limit(limit)
    statement = scope.filter_region(statement, Job.region_code)
    if kinds is not None:
        statement = statement.where(Job.kind.in_(kinds))
    if user_id is not None:
        statement = statement.where(Job.user_id == user_id)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class JobProgress:
    done: int
    total: int | None
    parts_done: int
    parts_total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return max(0, min(100, self.done * 100 // self.total))


def progress_of(session: Session, job: Job) -> JobProgress:
    """How far the job is. A split job's count is the sum of its parts'."""
    done = job.done
    if job.parts_total:
        done = session.scalar(select(func.coalesce(func.sum(Job.done), 0)).where(Job.parent_id == job.id)) or 0
    return JobProgress(done=done, total=job.total, parts_done=job.parts_done, parts_total=job.parts_total)


def request_cancel(session: Session, job: Job, actor: Actor) -> Job:
    """Stop the job: a queued one at once, a running one at its next progress report. Its parts
    too. Audited."""
    if job.is_finished:
        raise JobNotCancellable()
    now = utcnow()
    if job.state == JobState.QUEUED:
        job.state, job.finished_at = JobState.CANCELLED, now
    else:
        job.cancel_requested = True
        if job.state == JobState.WAITING:
            job.state, job.finished_at = JobState.CANCELLED, now
    session.execute(
        update(Job)
        .where(Job.parent_id == job.id, Job.state == JobState.QUEUED)
        .values(state=JobState.CANCELLED, finished_at=now)
    )
    session.execute(
        update(Job).where(Job.parent_id == job.id, Job.state == JobState.RUNNING).values(cancel_requested=True)
    )
    record_event(session, actor, "job.cancel", reason=job.kind, after={"job": job.id, "state": job.state.value})
    session.flush()
    return job


def sweep_stale(
    session: Session,
    storage: Storage,
    *,
    stale_after: timedelta,
    now: datetime | None = None,
    only_job_id: int | None = None,
) -> int:
    """Mark interrupted every running job (or part) whose heartbeat stopped for `stale_after` (its
    worker was killed or lost), with what it had written, audited; a split job follows its part.
    Returns how many jobs were marked."""
    now = now or utcnow()
    limit = now - stale_after
    statement = select(Job).where(Job.state == JobState.RUNNING, Job.heartbeat_at < limit)
    if only_job_id is not None:
        statement = statement.where(or_(Job.id == only_job_id, Job.parent_id == only_job_id))
    marked = 0
    for job in list(session.scalars(statement.with_for_update(skip_locked=True))):
        top = session.get(Job, job.parent_id) if job.parent_id is not None else job
        assert top is not None
        _interrupt(session, job, now)
        marked += 1
        if top is not job and top.state in ACTIVE_STATES:
            _interrupt(session, top, now)
            session.execute(
                update(Job).where(Job.parent_id == top.id, Job.state.in_(ACTIVE_STATES)).values(cancel_requested=True)
            )
        if top.state == JobState.INTERRUPTED and not (top.summary or {}).get("interruption_recorded"):
            written = _what_was_written(session, top, storage)
            top.summary = {**(top.summary or {}), **written, "interruption_recorded": True}
            record_event(
                session,
                Actor(top.actor_label, top.user_id),
                "job.interrupted",
                reason=top.kind,
                after={"job": top.id, "done": top.done, **written},
            )
    session.flush()
    return marked


def _interrupt(session: Session, job: Job, now: datetime) -> None:
    job.state = JobState.INTERRUPTED
    job.error_code = "interrupted"
    job.error = [N_("The work stopped before its end: its worker ended (a restart, a crash)."), {}]
    job.finished_at = now


def _what_was_written(session: Session, job: Job, storage: Storage) -> dict[str, Any]:
    kind = job_kinds().get(job.kind)  # a kind a newer release no longer has: nothing to report
    if kind is None or kind.on_interrupted is None:
        return {}
    try:
        return kind.on_interrupted(session, job, storage)
    except Exception:  # the report of an interruption must not fail the sweep of the others
        log.exception("job %s: could not record what the interrupted work had written", job.id)
        return {}


def requeue_forgotten(session: Session, *, older_than: timedelta, now: datetime | None = None) -> list[int]:
    """Queued jobs that no worker took for `older_than` (the queue was down when they were
    submitted, or lost them): put them on the queue again. Taking a job is a conditional update,
    so a job on the queue twice still runs once."""
    now = now or utcnow()
    ids = list(session.scalars(select(Job.id).where(Job.state == JobState.QUEUED, Job.created_at < now - older_than)))
    for job_id in ids:
        schedule(session, job_id)
    return ids


def purge_expired_files(session: Session, storage: Storage, now: datetime | None = None) -> int:
    """Delete the result files kept past their time; the job stays and says the file is gone."""
    now = now or utcnow()
    expired = list(session.scalars(select(Job).where(Job.result_file.is_not(None), Job.result_expires_at < now)))
    for job in expired:
        assert job.result_file is not None
        storage.delete(job.result_file)
        job.result_file = None
    session.flush()
    return len(expired)
