"""The register's own bookkeeping: a counter of changes to artisans' attributes, and the bulk
imports run from the back office (their file and report; their work runs as a job)."""

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


class RnaCounter(Base):
    """The last serial given in a region's RNA numbers (RNA-03-0001234: region 03, serial 1234).

    One row per region, moved on under its row lock by services/register/numbers.py, so that two
    officers registering at once never get the same number; a number given to a registration that
    is then rolled back is skipped (gaps are allowed, duplicates never). Created by migration 0023
    from the highest number of each region, and kept above the numbers imports bring."""

    __tablename__ = "rna_counter"
    __table_args__ = (CheckConstraint("last_serial >= 0", name="last_serial_not_negative"),)

    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer)


class ImportFileKind(enum.StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ImportStatus(enum.StrEnum):
    """An uploaded file's way: checked (dry run), then imported on confirmation, or cancelled."""

    CHECKING = "checking"
    CHECKED = "checked"  # the dry run's report is ready; the file waits for confirmation
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"  # the file was refused, or the work stopped on an error (see `failure`)
    CANCELLED = "cancelled"
    # Its worker stopped mid-way (killed, lost): the counts and `last_line` say exactly what was
    # written, and the file is kept so that it can be imported again (an upsert: safe to rerun).
    INTERRUPTED = "interrupted"


class ImportRun(Base):
    """A file uploaded in the back office, its dry run and its import: the import's own record
    (file, report, counts). The work runs as a job (kind register_import) on a job worker; its
    progress is on the job row (`job_id`: the run's latest job)."""

    __tablename__ = "import_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The region the run may write (the officer's); None for an administrator's national import.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    # The file's name under `imports/` in the job storage (random), while it is kept.
    stored_name: Mapped[str | None] = mapped_column(String(64), unique=True)
    file_kind: Mapped[ImportFileKind] = mapped_column(enum_column(ImportFileKind, length=8))
    file_size: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus, length=16), index=True)
    strict: Mapped[bool] = mapped_column(Boolean, default=False)
    # The latest job of the run (its check, its import, an import started again): its progress.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    # Rows read and the counts: the last pass's report. During an import they are written in each
    # batch's own transaction (with `last_line`, the file's last line of that batch), so that an
    # interrupted import's run says exactly what is in the register.
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    problem_count: Mapped[int] = mapped_column(Integer, default=0)
    # The first problems, for the report page: {"file": [message, params] | null,
    # "rows": [[line, column, message, params], ...]} (messages untranslated: shown in the reader's language).
    problems: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The first updates with what they change, for the report page: [[line, artisan_id, rna_number,
    # name, {field: [before, after]}], ...] (all of them in the run's changes file).
    changes: Mapped[list[Any] | None] = mapped_column(JSON)
    last_line: Mapped[int | None] = mapped_column(Integer)
    written: Mapped[bool] = mapped_column(Boolean, default=False)
    # Why the work stopped, when it failed or was interrupted ("error", "interrupted", "cancelled").
    failure: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
