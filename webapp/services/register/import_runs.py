"""Imports started from the back office: a file is uploaded, checked by a dry run, then imported
once a person confirms (or cancelled).

The work on a national file takes longer than a web request may (a minute or more): the check and
the import run as jobs on the job workers (kind `register_import`,
webapp/services/jobs/register_import.py). The run (import_run) stays the import's own record: its
file, its report (counts, first problems, first changes); its latest job (`job_id`) holds the
progress that the progress page reads, and the cancel request.

Files go through the job storage: the upload waits under `imports/<token>.<ext>` until it is imported
or cancelled (after an interruption it is kept, so that it can be imported again); every problem
and every change found goes to the run's report files (`imports/run-<id>-problems.csv`,
`imports/run-<id>-changes.csv`), downloadable in full, while the run keeps the first ones.

A worker killed mid-import: the import commits a batch at a time and writes its counts and the
batch's last line to the run in that same transaction, so the run holds exactly what was written.
When the job's heartbeat stops, the job is marked interrupted (jobs.sweep_stale, or get_job on the
way) and the kind's on_interrupted turns the run to "interrupted" with those figures.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import ImportFileKind, ImportRun, ImportStatus, Job, JobState, User, utcnow
from webapp.services.audit import Actor
from webapp.services.errors import N_, DomainError
from webapp.services.jobs.jobs import get_job, request_cancel, submit_job
from webapp.services.jobs.storage import Storage
from webapp.services.register.imports import ImportMode, ImportReport, RowChange, RowProblem
from webapp.services.scope import RecordNotFound, Scope

KIND = "register_import"
# Problems and changes a run keeps for its report page (the whole lists are in its report files).
PROBLEMS_SHOWN = 100
CHANGES_SHOWN = 50
RECENT_RUNS = 10
IN_PROGRESS = (ImportStatus.CHECKING, ImportStatus.IMPORTING)
FINISHED = (
    ImportStatus.IMPORTED,
    ImportStatus.FAILED,
    ImportStatus.CANCELLED,
    ImportStatus.INTERRUPTED,
)
# The first line of data in a file (line 1 is the header row).
FIRST_LINE = 2


class RunNotWaiting(DomainError):
    """Only a checked file waiting for confirmation can be imported or cancelled."""

    code = "import_not_waiting"
    http_status = 409
    message = N_("This file is no longer waiting for confirmation.")


class NothingToImport(DomainError):
    code = "nothing_to_import"
    http_status = 409
    message = N_("No row of this file can be imported.")


class RunNotInterrupted(DomainError):
    """Only an interrupted run whose file is kept can be run again."""

    code = "import_not_interrupted"
    http_status = 409
    message = N_("This import can no longer be started again: upload the file again.")


def stored_name_for(kind: ImportFileKind) -> str:
    """A fresh, unguessable name for an uploaded file."""
    return f"{secrets.token_hex(16)}.{kind.value}"


def upload_key(stored_name: str) -> str:
    """The storage key of an uploaded file waiting in `imports/`."""
    return f"imports/{stored_name}"


def problems_key(run_id: int) -> str:
    return f"imports/run-{run_id}-problems.csv"


def changes_key(run_id: int) -> str:
    return f"imports/run-{run_id}-changes.csv"


def start_run(
    session: Session, user: User, scope: Scope, *, file_name: str, stored_name: str, kind: ImportFileKind, size: int
) -> ImportRun:
    """A run for a file just stored under `imports/`, waiting for its dry run (see submit_work)."""
    run = ImportRun(
        user_id=user.id,
        region_code=scope.region_code,
        file_name=file_name[:255],
        stored_name=stored_name,
        file_kind=kind,
        file_size=size,
        status=ImportStatus.CHECKING,
        strict=False,
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


def mode_of(run: ImportRun) -> ImportMode:
    """What the run's work does now: its check, or its import (strict or not)."""
    if run.status == ImportStatus.CHECKING:
        return ImportMode.DRY_RUN
    return ImportMode.STRICT if run.strict else ImportMode.IMPORT


def submit_work(session: Session, run: ImportRun, actor: Actor) -> Job:
    """Put the run's check or import on the job queue (it starts once the session commits)."""
    assert run.status in IN_PROGRESS
    job = submit_job(
        session,
        KIND,
        actor=actor,
        region_code=run.region_code,
        params={"run_id": run.id, "mode": mode_of(run).value},
        dedupe_key=f"import_run:{run.id}",
    )
    run.job_id = job.id
    session.flush()
    return job


def get_run(session: Session, run_id: int, scope: Scope, *, storage: Storage, stale_after: timedelta) -> ImportRun:
    """The run if the scope covers it (an officer: their region's runs; an administrator: all);
    RecordNotFound otherwise. A run whose job ended without saying so (its worker killed, the job
    cancelled before it started) is brought up to date on the way."""
    statement = select(ImportRun).where(ImportRun.id == run_id)
    if scope.region_code is not None:
        statement = statement.where(ImportRun.region_code == scope.region_code)
    run = session.scalar(statement)
    if run is None:
        raise RecordNotFound()
    job = job_of(session, run, storage=storage, stale_after=stale_after)
    if run.status in IN_PROGRESS and job is not None and job.is_finished:
        _follow_finished_job(session, run, job, storage)
    return run


def job_of(session: Session, run: ImportRun, *, storage: Storage, stale_after: timedelta) -> Job | None:
    """The run's latest job (marked interrupted on the way if its heartbeat stopped)."""
    if run.job_id is None:
        return None
    try:
        return get_job(
            session, run.job_id, Scope(region_code=run.region_code), storage=storage, stale_after=stale_after
        )
    except RecordNotFound:
        return None


def _follow_finished_job(session: Session, run: ImportRun, job: Job, storage: Storage) -> None:
    """The job ended and the run was not told (the kind records its own ends): say how."""
    if job.state == JobState.INTERRUPTED:
        record_interruption(session, run)
    elif job.state == JobState.CANCELLED:
        record_cancel(session, run, storage)
    elif job.state == JobState.FAILED or job.state == JobState.DONE:
        run.status, run.failure, run.finished_at = ImportStatus.FAILED, "error", utcnow()
        if not run.written:
            delete_upload(run, storage)
    session.flush()


def recent_runs(session: Session, scope: Scope, limit: int = RECENT_RUNS) -> list[ImportRun]:
    statement = select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)
    if scope.region_code is not None:
        statement = statement.where(ImportRun.region_code == scope.region_code)
    return list(session.scalars(statement))


def _reset_counts(run: ImportRun) -> None:
    """An import's figures start from nothing: its batches write them as they commit."""
    run.rows = run.created = run.updated = run.unchanged = run.refused = 0
    run.last_line, run.written, run.failure, run.finished_at = None, False, None, None


def confirm_run(session: Session, run: ImportRun, actor: Actor, *, strict: bool) -> Job:
    """The checked file is to be imported now (strict: nothing at all if any row is refused)."""
    if run.status != ImportStatus.CHECKED or run.stored_name is None:
        raise RunNotWaiting()
    if run.created + run.updated == 0:
        raise NothingToImport()
    claimed = session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == ImportStatus.CHECKED)
        .values(status=ImportStatus.IMPORTING, strict=strict)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # confirmed twice at once (a double click)
        raise RunNotWaiting()
    session.refresh(run)
    _reset_counts(run)
    return submit_work(session, run, actor)


def can_start_again(run: ImportRun) -> bool:
    """An interrupted run, or an import stopped by an error after writing rows, with its file kept."""
    stopped = run.status == ImportStatus.INTERRUPTED or (run.status == ImportStatus.FAILED and run.failure == "error")
    return stopped and run.stored_name is not None


def start_again(session: Session, run: ImportRun, actor: Actor) -> Job:
    """Run an interrupted check or import again, on the file that was kept. Safe: the import
    matches each row by RNA number or CIN, so the rows already written are found unchanged."""
    if not can_start_again(run):
        raise RunNotInterrupted()
    job = session.get(Job, run.job_id) if run.job_id is not None else None
    was_check = job is not None and (job.params or {}).get("mode") == ImportMode.DRY_RUN.value
    run.status = ImportStatus.CHECKING if was_check else ImportStatus.IMPORTING
    _reset_counts(run)
    return submit_work(session, run, actor)


def cancel_run(session: Session, run: ImportRun, storage: Storage, actor: Actor) -> None:
    """Do not go on with this file: a checked file waiting for confirmation (or an interrupted
    run's kept file) is deleted; a check or an import in progress stops at its next batch."""
    if run.status in IN_PROGRESS and run.job_id is not None:
        job = session.get(Job, run.job_id)
        if job is not None and not job.is_finished:
            request_cancel(session, job, actor)
            if job.state == JobState.CANCELLED:  # it had not started: nothing was written
                record_cancel(session, run, storage)
            return
    if can_start_again(run):
        delete_upload(run, storage)
        session.flush()
        return
    if run.status != ImportStatus.CHECKED:
        raise RunNotWaiting()
    delete_upload(run, storage)
    run.status = ImportStatus.CANCELLED
    run.finished_at = utcnow()
    session.flush()


def record_cancel(session: Session, run: ImportRun, storage: Storage) -> None:
    """A check or an import stopped on request: what its committed batches wrote stays on record,
    and the file is deleted (the person chose to stop)."""
    run.status, run.failure, run.finished_at = ImportStatus.CANCELLED, "cancelled", utcnow()
    delete_upload(run, storage)
    session.flush()


def record_interruption(session: Session, run: ImportRun) -> dict[str, Any]:
    """The run's worker stopped mid-way: its counts and last line (written with each committed
    batch) are what is in the register; the file is kept so that it can be imported again."""
    checking = run.status == ImportStatus.CHECKING
    run.status, run.failure, run.finished_at = ImportStatus.INTERRUPTED, "interrupted", utcnow()
    session.flush()
    if checking:
        return {"run_id": run.id, "mode": ImportMode.DRY_RUN.value, "rows_written": 0}
    return {
        "run_id": run.id,
        "mode": mode_of(run).value,
        "rows_written": run.rows if run.written or run.last_line else 0,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "refused": run.refused,
        "first_line": FIRST_LINE if run.last_line else None,
        "last_line": run.last_line,
    }


def delete_upload(run: ImportRun, storage: Storage) -> None:
    if run.stored_name is not None:
        storage.delete(upload_key(run.stored_name))
        run.stored_name = None


def checkpoint(session: Session, run_id: int, report: ImportReport, last_line: int) -> None:
    """In a written batch's own transaction: the run's figures so far, committed with the rows."""
    session.execute(
        update(ImportRun)
        .where(ImportRun.id == run_id)
        .values(
            rows=report.rows,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            refused=report.refused,
            written=report.created + report.updated > 0,
            last_line=last_line,
        )
    )


def record_report(run: ImportRun, report: ImportReport) -> None:
    """The last pass's report on the run: counts, the first problems and changes."""
    run.rows = report.rows
    run.created, run.updated, run.unchanged = report.created, report.updated, report.unchanged
    run.refused, run.problem_count, run.written = report.refused, report.problem_count, report.written
    run.problems = {
        "file": None,
        "stopped_at": report.stopped_at,
        "rows": [[p.line, p.column, p.message, p.params] for p in report.problems[:PROBLEMS_SHOWN]],
    }
    run.changes = [change_row(change) for change in report.changes[:CHANGES_SHOWN]]


def change_row(change: RowChange) -> list[Any]:
    """A change as the run keeps it (JSON)."""
    fields = {name: [before, after] for name, (before, after) in change.fields.items()}
    return [change.line, change.artisan_id, change.rna_number, change.name, fields]


# --- the report files ------------------------------------------------------------------------------


def problem_line(problem: RowProblem) -> list[str]:
    return [str(problem.line), problem.column or "", problem.message, json.dumps(problem.params)]


def change_lines(change: RowChange) -> Iterator[list[str]]:
    """One line per changed field: line, RNA number, artisan id, name, field, before, after (JSON)."""
    for name, (before, after) in change.fields.items():
        yield [
            str(change.line),
            change.rna_number,
            str(change.artisan_id),
            change.name,
            name,
            json.dumps(before, ensure_ascii=False),
            json.dumps(after, ensure_ascii=False),
        ]


@dataclass(frozen=True)
class ReportLine:
    line: int
    column: str | None
    message: str
    params: dict[str, Any]


def _read_lines(storage: Storage, key: str) -> Iterator[list[str]]:
    if not storage.exists(key):
        return
    with storage.open(key) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as handle:
        yield from csv.reader(handle)


def read_problems(storage: Storage, run_id: int) -> Iterator[ReportLine]:
    """Every problem of a run's last pass, from its report file (none if the file is gone)."""
    for line, column, message, params in _read_lines(storage, problems_key(run_id)):
        yield ReportLine(int(line), column or None, message, json.loads(params))


@dataclass(frozen=True)
class ChangeLine:
    line: int
    rna_number: str
    artisan_id: int
    name: str
    field: str
    before: Any
    after: Any


def read_changes(storage: Storage, run_id: int) -> Iterator[ChangeLine]:
    """Every field changed by a run's last pass, from its changes file (none if it is gone)."""
    for line, rna, artisan_id, name, field, before, after in _read_lines(storage, changes_key(run_id)):
        yield ChangeLine(int(line), rna, int(artisan_id), name, field, json.loads(before), json.loads(after))
