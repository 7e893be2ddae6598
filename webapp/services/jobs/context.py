"""What a job's code receives: its parameters, who asked, the storage, its own database sessions,
and the calls that report progress (its heartbeat), split the work into parts and set the result."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import Job, JobState, utcnow
from webapp.services.audit import Actor
from webapp.services.errors import N_, DomainError
from webapp.services.jobs.storage import Storage
from webapp.services.scope import Scope
from webapp.settings import Settings

SessionScope = Callable[[], AbstractContextManager[Session]]


class JobCancelled(DomainError):
    """Someone asked to cancel the job: its work stops at the next progress report."""

    code = "cancelled"
    http_status = 409
    message = N_("The work was cancelled.")


class JobContext:
    def __init__(
        self,
        job: Job,
        *,
        session_scope: SessionScope,
        storage: Storage,
        settings: Settings,
        schedule: Callable[[Session, int], None],
    ) -> None:
        self.job_id = job.id
        self.kind = job.kind
        self.params: dict[str, Any] = dict(job.params or {})
        self.actor = Actor(job.actor_label, job.user_id)
        self.region_code = job.region_code
        self.part_index = job.part_index
        self.parent_id = job.parent_id
        self.storage = storage
        self.settings = settings
        self.session_scope = session_scope
        self._schedule = schedule
        self._every = float(settings.JOB_HEARTBEAT_SECONDS)
        self._last_write = 0.0
        self._summary: dict[str, Any] = dict(job.summary or {})
        self._result: dict[str, Any] = {}
        self.done = job.done
        self.total = job.total
        self.split_into: int | None = None

    @property
    def scope(self) -> Scope:
        return Scope(region_code=self.region_code)

    def progress(self, done: int, total: int | None = None, *, force: bool = False) -> None:
        """Report progress (and that the work is alive). Written at most once per
        JOB_HEARTBEAT_SECONDS; raises JobCancelled when someone asked to cancel."""
        self.done = done
        if total is not None:
            self.total = total
        if not force and time.monotonic() - self._last_write < self._every:
            return
        self._write()

    def heartbeat(self) -> None:
        """Say the work is alive during a long step that has no count to report."""
        self.progress(self.done)

    def _write(self) -> None:
        self._last_write = time.monotonic()
        with self.session_scope() as session:
            values: dict[str, Any] = {"done": self.done, "heartbeat_at": utcnow()}
            if self.total is not None:
                values["total"] = self.total
            if self._summary:
                values["summary"] = self._summary
            session.execute(update(Job).where(Job.id == self.job_id).values(**values))
            cancel = session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id))
        if cancel:
            raise JobCancelled()

    def add_summary(self, **figures: Any) -> None:
        """Figures for screens and commands (and what an interrupted job had written)."""
        self._summary.update(figures)

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self._summary)

    def set_result(
        self,
        *,
        file: str | None = None,
        name: str | None = None,
        keep_for: timedelta | None = None,
        summary: dict[str, Any] | None = None,
    ) -> None:
        """The job's downloadable file (a storage key and the name offered), kept for `keep_for`."""
        if file is not None:
            self._result["result_file"] = file
            self._result["result_name"] = name or file.rsplit("/", 1)[-1]
            self._result["result_expires_at"] = utcnow() + keep_for if keep_for is not None else None
        if summary:
            self._summary.update(summary)

    @property
    def result_values(self) -> dict[str, Any]:
        return dict(self._result)

    def split(self, parts: list[dict[str, Any]], total: int | None = None) -> None:
        """Run the work as parts (same kind, its `run_part`), in parallel on any worker. The job
        waits; when the last part is done its kind's `finish` runs, with this job's parameters."""
        with self.session_scope() as session:
            parent = session.get(Job, self.job_id)
            assert parent is not None
            for index, part_params in enumerate(parts):
                part = Job(
                    kind=parent.kind,
                    state=JobState.QUEUED,
                    user_id=parent.user_id,
                    actor_label=parent.actor_label,
                    region_code=parent.region_code,
                    params=part_params,
                    parent_id=parent.id,
                    part_index=index,
                    parts_done=0,
                    done=0,
                    cancel_requested=False,
                    attempts=0,
                )
                session.add(part)
                session.flush()
                self._schedule(session, part.id)
            parent.parts_total = len(parts)
            parent.parts_done = 0
            parent.total = total
            parent.state = JobState.WAITING
            parent.heartbeat_at = utcnow()
            if self._summary:
                parent.summary = self._summary
            if not parts:
                # Nothing to do in parallel: finish at once.
                self._schedule(session, parent.id)
        self.split_into = len(parts)

    def part_summaries(self) -> list[dict[str, Any]]:
        """In `finish`: each part's summary, in part order."""
        with self.session_scope() as session:
            rows = session.execute(
                select(Job.summary).where(Job.parent_id == self.job_id).order_by(Job.part_index)
            ).all()
        return [dict(row.summary or {}) for row in rows]
