"""Imports started from the back office: a file is uploaded, checked by a dry run, then imported
once a person confirms (or cancelled).

The work on a national file takes longer than a web request may (a minute or more), so it runs
in a background thread of the worker that received the file; its state lives in the import_run
table, where every worker (and the progress page) reads it. The file waits in the import folder
until it is imported or cancelled, then is deleted; every problem found goes to a report file
next to it (run-<id>-problems.csv), downloadable in full, while the run keeps the first ones.

A worker that ends (restart, crash) takes its thread with it: a run whose state has not moved for
STALE_AFTER is marked interrupted when someone looks at it.
"""

from __future__ import annotations

import csv
import json
import logging
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import ImportFileKind, ImportRun, ImportStatus, User, utcnow
from webapp.services.audit import Actor
from webapp.services.errors import N_, DomainError
from webapp.services.register.imports import (
    ImportMode,
    ImportRefused,
    ImportReport,
    ImportRequest,
    RowProblem,
    SessionScope,
    import_register,
)
from webapp.services.scope import RecordNotFound, Scope

log = logging.getLogger(__name__)

# Problems a run keeps for its report page (the whole list is in its report file).
PROBLEMS_SHOWN = 100
# Progress is written to the run at most this often (each write is a small transaction).
PROGRESS_EVERY_SECONDS = 1.0
# A run in progress whose state has not moved for this long was interrupted (its worker ended):
# a batch takes well under a second, a slow one a few seconds.
STALE_AFTER = timedelta(minutes=2)
RECENT_RUNS = 10
IN_PROGRESS = (ImportStatus.CHECKING, ImportStatus.IMPORTING)
FINISHED = (ImportStatus.IMPORTED, ImportStatus.FAILED, ImportStatus.CANCELLED)


class RunNotWaiting(DomainError):
    """Only a checked file waiting for confirmation can be imported or cancelled."""

    code = "import_not_waiting"
    http_status = 409
    message = N_("This file is no longer waiting for confirmation.")


class NothingToImport(DomainError):
    code = "nothing_to_import"
    http_status = 409
    message = N_("No row of this file can be imported.")


def stored_name_for(kind: ImportFileKind) -> str:
    """A fresh, unguessable name for an uploaded file in the import folder."""
    return f"{secrets.token_hex(16)}.{kind.value}"


def problems_path(import_dir: Path, run_id: int) -> Path:
    return import_dir / f"run-{run_id}-problems.csv"


def start_run(
    session: Session, user: User, scope: Scope, *, file_name: str, stored_name: str, kind: ImportFileKind, size: int
) -> ImportRun:
    """A run for a file just stored in the import folder, waiting for its dry run."""
    run = ImportRun(
        user_id=user.id,
        region_code=scope.region_code,
        file_name=file_name[:255],
        stored_name=stored_name,
        file_kind=kind,
        file_size=size,
        status=ImportStatus.CHECKING,
        strict=False,
        rows_done=0,
        rows=0,
        created=0,
        updated=0,
        unchanged=0,
        refused=0,
        problem_count=0,
        written=False,
    )
    session.add(run)
    session.flush()
    return run


def get_run(session: Session, run_id: int, scope: Scope, now: datetime | None = None) -> ImportRun:
    """The run if the scope covers it (an officer: their region's runs; an administrator: all);
    RecordNotFound otherwise. A run whose worker ended is marked interrupted on the way."""
    statement = select(ImportRun).where(ImportRun.id == run_id)
    if scope.region_code is not None:
        statement = statement.where(ImportRun.region_code == scope.region_code)
    run = session.scalar(statement)
    if run is None:
        raise RecordNotFound()
    _mark_if_interrupted(session, run, now or utcnow())
    return run


def recent_runs(session: Session, scope: Scope, limit: int = RECENT_RUNS) -> list[ImportRun]:
    statement = select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)
    if scope.region_code is not None:
        statement = statement.where(ImportRun.region_code == scope.region_code)
    return list(session.scalars(statement))


def _mark_if_interrupted(session: Session, run: ImportRun, now: datetime) -> None:
    if run.status in IN_PROGRESS and now - run.updated_at > STALE_AFTER:
        run.status = ImportStatus.FAILED
        run.failure = "interrupted"
        run.finished_at = now
        session.flush()


def confirm_run(session: Session, run: ImportRun, *, strict: bool) -> ImportRun:
    """The checked file is to be imported now (strict: nothing at all if any row is refused)."""
    if run.status != ImportStatus.CHECKED or run.stored_name is None:
        raise RunNotWaiting()
    if run.created + run.updated == 0:
        raise NothingToImport()
    claimed = session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == ImportStatus.CHECKED)
        .values(status=ImportStatus.IMPORTING, strict=strict, rows_done=0, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # confirmed twice at once (a double click): one import only
        raise RunNotWaiting()
    session.refresh(run)
    return run


def cancel_run(session: Session, run: ImportRun, import_dir: Path) -> None:
    """The checked file is not imported: it is deleted."""
    if run.status != ImportStatus.CHECKED:
        raise RunNotWaiting()
    _delete_upload(run, import_dir)
    run.status = ImportStatus.CANCELLED
    run.finished_at = utcnow()
    session.flush()


def _delete_upload(run: ImportRun, import_dir: Path) -> None:
    if run.stored_name is not None:
        (import_dir / run.stored_name).unlink(missing_ok=True)
        run.stored_name = None


@dataclass(frozen=True)
class JobSettings:
    import_dir: Path
    max_bytes: int


def run_job(session_scope: SessionScope, run_id: int, settings: JobSettings) -> None:
    """The background work of a run: its dry run (CHECKING) or its import (IMPORTING). Meant for a
    thread: it opens its own sessions, and any failure ends in the run's state, never silently."""
    with session_scope() as session:
        run = session.get(ImportRun, run_id)
        if run is None or run.status not in IN_PROGRESS or run.stored_name is None:
            return
        user_label, user_id = f"user:{run.user_id}", run.user_id
        mode = ImportMode.DRY_RUN
        if run.status == ImportStatus.IMPORTING:
            mode = ImportMode.STRICT if run.strict else ImportMode.IMPORT
        request = ImportRequest(
            path=settings.import_dir / run.stored_name,
            file_name=run.file_name,
            actor=Actor(user_label, user_id),
            scope=Scope(region_code=run.region_code),
            mode=mode,
            max_bytes=settings.max_bytes,
        )
    progress = _ProgressWriter(session_scope, run_id)
    report_path = problems_path(settings.import_dir, run_id)
    try:
        with report_path.open("w", encoding="utf-8", newline="") as report_file:
            writer = csv.writer(report_file)

            def keep(problem: RowProblem) -> None:
                writer.writerow([problem.line, problem.column or "", problem.message, json.dumps(problem.params)])

            report = import_register(session_scope, request, progress=progress, on_problem=keep)
    except ImportRefused as refusal:
        _finish(session_scope, run_id, settings, failure="refused_file", file_problem=[refusal.message, refusal.params])
        return
    except Exception:  # a bug, the database gone: the run must not stay "in progress" forever
        log.exception("import run %s failed", run_id)
        _finish(session_scope, run_id, settings, failure="error", rows_done=progress.done)
        return
    _finish(session_scope, run_id, settings, report=report)


class _ProgressWriter:
    """Writes a run's progress (rows done, total) at most once a second, in its own transaction."""

    def __init__(self, session_scope: SessionScope, run_id: int) -> None:
        self.session_scope = session_scope
        self.run_id = run_id
        self.done = 0
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        self.done = done
        if time.monotonic() - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = time.monotonic()
        with self.session_scope() as session:
            session.execute(
                update(ImportRun)
                .where(ImportRun.id == self.run_id)
                .values(rows_done=done, rows_total=total, updated_at=utcnow())
            )


def _finish(
    session_scope: SessionScope,
    run_id: int,
    settings: JobSettings,
    *,
    report: ImportReport | None = None,
    file_problem: list[Any] | None = None,
    failure: str | None = None,
    rows_done: int = 0,
) -> None:
    """Record how the work ended. A dry run with rows to write waits for confirmation (CHECKED,
    the file kept); anything else is final and the file is deleted."""
    with session_scope() as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            return
        now = utcnow()
        run.updated_at = now
        if report is not None:
            _record_report(run, report)
            if run.status == ImportStatus.IMPORTING:
                run.status = ImportStatus.IMPORTED
            elif report.created + report.updated > 0:
                run.status = ImportStatus.CHECKED
                return
            else:
                run.status, run.failure = ImportStatus.FAILED, "nothing_to_import"
        else:
            run.status, run.failure, run.rows_done = ImportStatus.FAILED, failure or "refused_file", rows_done
            if file_problem is not None:
                run.problems = {"file": file_problem, "stopped_at": None, "rows": []}
        run.finished_at = now
        _delete_upload(run, settings.import_dir)


def _record_report(run: ImportRun, report: ImportReport) -> None:
    run.rows = run.rows_done = run.rows_total = report.rows
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.refused, run.problem_count, run.written = report.refused, report.problem_count, report.written
    run.problems = {
        "file": None,
        "stopped_at": report.stopped_at,
        "rows": [[p.line, p.column, p.message, p.params] for p in report.problems[:PROBLEMS_SHOWN]],
    }


@dataclass(frozen=True)
class ReportLine:
    line: int
    column: str | None
    message: str
    params: dict[str, Any]


def read_problems(import_dir: Path, run_id: int) -> Iterator[ReportLine]:
    """Every problem of a run's last pass, from its report file (none if the file is gone)."""
    path = problems_path(import_dir, run_id)
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for line, column, message, params in csv.reader(handle):
            yield ReportLine(int(line), column or None, message, json.loads(params))
