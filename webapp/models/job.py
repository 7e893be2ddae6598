"""Long work run by the job workers (DESIGN decision 12): one row per job, the one place where
screens and commands read its progress, ask to cancel it and see how it ended.

The queue (Huey) carries only a job's id; everything else is here, so a job survives a worker that
dies: its heartbeat stops, and the sweep marks it interrupted with what it had written."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.artisan import enum_column
from webapp.models.base import Base, UTCDateTime, utcnow


class JobState(enum.StrEnum):
    QUEUED = "queued"  # waiting for a worker
    RUNNING = "running"
    WAITING = "waiting"  # split into parts that run on any worker; finishes after the last part
    DONE = "done"
    FAILED = "failed"  # see error_code / error
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its heartbeat stopped (the worker was killed): summary says what it wrote


FINISHED_STATES = frozenset({JobState.DONE, JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED})
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING, JobState.WAITING})


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("done >= 0", name="done_non_negative"),
        CheckConstraint("parts_done >= 0", name="parts_done_non_negative"),
        CheckConstraint("(parent_id IS NULL) = (part_index IS NULL)", name="part_has_parent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[JobState] = mapped_column(enum_column(JobState, length=16), index=True, default=JobState.QUEUED)
    # Who asked: a signed-in person (user_id), or a command or the system (label only).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(120))
    # The region it acts in (an officer's); None for national work.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    # What the kind needs (ids, filters, storage keys): never a file's contents.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # At most one queued or running job per key (a double click, a rebuild asked by many requests).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), index=True)
    # A part of a split job (rendered in parallel on any worker).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    part_index: Mapped[int | None] = mapped_column(Integer)
    parts_total: Mapped[int | None] = mapped_column(Integer)
    parts_done: Mapped[int] = mapped_column(Integer, default=0)
    # Progress in the kind's unit (rows, cards).
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    # The kind's figures for screens and commands (and, when interrupted, what it had written).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The downloadable result: its storage key, the name offered, and until when it is kept.
    result_file: Mapped[str | None] = mapped_column(String(255))
    result_name: Mapped[str | None] = mapped_column(String(255))
    result_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How it failed: a reason code, and [untranslated message, params] shown in the reader's language.
    error_code: Mapped[str | None] = mapped_column(String(60))
    error: Mapped[list[Any] | None] = mapped_column(JSON)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched by the work as it goes: a running job whose heartbeat stops was interrupted.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_finished(self) -> bool:
        return self.state in FINISHED_STATES

    @property
    def is_part(self) -> bool:
        return self.parent_id is not None
