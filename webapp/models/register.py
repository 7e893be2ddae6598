"""The register's own bookkeeping: a counter of changes to artisans' attributes, and the bulk
imports run from the back office (their state, shared by every worker)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import enum_column
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.user import User


class RegisterState(Base):
    """One row: a version bumped whenever artisans are written (created or their attributes changed).

    Eligibility lists read artisans' attributes: they are rebuilt when this version or the status
    list's changes. A row of its own, so that bumping it never waits on the status list's row lock
    (held while cards are issued)."""

    __tablename__ = "register_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artisans_version: Mapped[int] = mapped_column(Integer, default=0)


class ImportFileKind(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ImportStatus(enum.StrEnum):
    """An uploaded file's way: checked (dry run), then imported on confirmation, or cancelled."""

    CHECKING = "checking"
    CHECKED = "checked"  # the dry run's report is ready; the file waits for confirmation
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"  # the file was refused, or the work stopped (see `failure`)
    CANCELLED = "cancelled"


class ImportRun(Base):
    """A file uploaded in the back office, its dry run and its import. The work runs in a
    background thread of one worker; this row is how every worker (and the progress page) sees it."""

    __tablename__ = "import_run"
    __table_args__ = (CheckConstraint("rows_done >= 0", name="rows_done_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The region the run may write (the officer's); None for an administrator's national import.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    # The file's name under the import folder (random), while it is kept.
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_kind: Mapped[ImportFileKind] = mapped_column(enum_column(ImportFileKind, length=8))
    file_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus, length=16), index=True)
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first problems, for the report page: {"file": [message, params] | null,
    # "rows": [[line, column, message, params], ...]} (messages untranslated: shown in the reader's language).
    problems: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    written: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the work stopped, when it failed ("interrupted", "error").
    failure: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Touched as the work goes: a run that stops being touched was interrupted (its worker ended).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
