"""How a worker runs one job: take it (a conditional update, so a job delivered twice runs once),
run its kind's code, and record how it ended. The queue's message holds only the job's id.

A split job's parts run here too; the part that completes the set puts its parent back on the
queue, and the parent's `finish` runs on whichever worker takes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import ACTIVE_STATES, Job, JobState, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.errors import N_, DomainError
from webapp.services.jobs.context import JobCancelled, JobContext, SessionScope
from webapp.services.jobs.kinds import kind_named
from webapp.services.jobs.storage import Storage
from webapp.settings import Settings

log = logging.getLogger(__name__)

UNEXPECTED = [N_("The work stopped on an unexpected error. Try again, or ask an administrator."), {}]


def execute(
    job_id: int,
    *,
    session_scope: SessionScope,
    storage: Storage,
    settings: Settings,
    schedule: Callable[[Session, int], None],
) -> JobState | None:
    """Run the job if it is still waiting for a worker; its final state (None: nothing to do)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        finishing = job.state == JobState.WAITING
        claim = (
            update(Job)
            .where(Job.id == job_id)
            .values(state=JobState.RUNNING, heartbeat_at=utcnow(), attempts=Job.attempts + 1)
        )
        if finishing:
            claim = claim.where(Job.state == JobState.WAITING, Job.parts_done >= Job.parts_total)
        else:
            claim = claim.where(Job.state == JobState.QUEUED).values(started_at=utcnow())
        if session.execute(claim).rowcount != 1:  # type: ignore[attr-defined]
            return None  # cancelled, taken by another worker, or parts still running
        session.refresh(job)
        kind = kind_named(job.kind)
        context = JobContext(job, session_scope=session_scope, storage=storage, settings=settings, schedule=schedule)
    step = "finish" if finishing else f"part {context.part_index}" if context.parent_id is not None else "run"
    log.info("job %s (%s, %s) started", job_id, kind.name, step)
    if finishing:
        work = kind.finish
    elif context.parent_id is not None:
        work = kind.run_part
    else:
        work = kind.run
    assert work is not None, f"job kind {kind.name} lacks the function for this step"
    try:
        work(context)
    except JobCancelled:
        return _end(session_scope, context, JobState.CANCELLED, schedule=schedule)
    except DomainError as refusal:
        error = [type(refusal).message, refusal.params]
        return _end(session_scope, context, JobState.FAILED, code=refusal.code, error=error, schedule=schedule)
    except Exception:
        log.exception("job %s (%s) failed", job_id, kind.name)
        return _end(session_scope, context, JobState.FAILED, code="error", error=UNEXPECTED, schedule=schedule)
    if context.split_into is not None:
        return JobState.WAITING  # its parts run now; `finish` ends it
    return _end(session_scope, context, JobState.DONE, schedule=schedule)


def _end(
    session_scope: SessionScope,
    context: JobContext,
    state: JobState,
    *,
    schedule: Callable[[Session, int], None],
    code: str | None = None,
    error: list[Any] | None = None,
) -> JobState:
    with session_scope() as session:
        job = session.get(Job, context.job_id)
        assert job is not None
        if job.state not in (JobState.RUNNING, JobState.INTERRUPTED):
            return job.state  # cancelled meanwhile (a split job): its end is already written
        now = utcnow()
        job.state, job.finished_at, job.heartbeat_at = state, now, now
        job.done = context.done
        if context.total is not None:
            job.total = context.total
        job.summary = context.summary or None
        job.error_code, job.error = code, error
        for name, value in context.result_values.items():
            setattr(job, name, value)
        if state == JobState.CANCELLED and job.parent_id is None:
            record_event(
                session,
                Actor(job.actor_label, job.user_id),
                "job.cancelled",
                reason=job.kind,
                after={"job": job.id, "done": job.done, **(job.summary or {})},
            )
        if job.parent_id is not None:
            _part_ended(session, job, schedule)
    log.info("job %s (%s) ended: %s", context.job_id, context.kind, state.value)
    return state


def _part_ended(session: Session, part: Job, schedule: Callable[[Session, int], None]) -> None:
    """Count the part on its parent; the last one puts the parent back on the queue for `finish`. A
    part that failed fails its parent and stops its siblings."""
    parent_id = part.parent_id
    if part.state == JobState.DONE:
        session.execute(update(Job).where(Job.id == parent_id).values(parts_done=Job.parts_done + 1))
        parent = session.execute(select(Job.state, Job.parts_done, Job.parts_total).where(Job.id == parent_id)).one()
        if parent.state == JobState.WAITING and parent.parts_done >= (parent.parts_total or 0):
            schedule(session, part.parent_id)  # type: ignore[arg-type]
        return
    parent_job = session.get(Job, parent_id)
    assert parent_job is not None
    if parent_job.state in ACTIVE_STATES:
        parent_job.state = part.state if part.state != JobState.DONE else JobState.FAILED
        parent_job.error_code, parent_job.error = part.error_code, part.error
        parent_job.finished_at = utcnow()
    session.execute(
        update(Job)
        .where(Job.parent_id == parent_id, Job.state == JobState.QUEUED)
        .values(state=JobState.CANCELLED, finished_at=utcnow())
    )
    session.execute(
        update(Job).where(Job.parent_id == parent_id, Job.state == JobState.RUNNING).values(cancel_requested=True)
    )
