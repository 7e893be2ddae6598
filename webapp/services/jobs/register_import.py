"""Job kind `register_import`: the check (dry run) or the import of a file uploaded in the back
office (webapp/services/register/import_runs.py keeps the run: its file, report and counts).

Its parameters: {"run_id", "mode"}. The upload is read from the job storage; every problem and
every change goes to the run's report files as it is found (flat memory for 622,000 rows). An
import commits a batch at a time and writes the run's counts in each batch's own transaction, so
that when the worker is killed, `on_interrupted` tells exactly what is in the register. A cancel
stops the work at the next batch (the progress report that follows a commit).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import ImportRun, ImportStatus, Job, utcnow
from webapp.services.audit import Actor
from webapp.services.errors import N_
from webapp.services.jobs.context import JobCancelled, JobContext
from webapp.services.jobs.kinds import JobKind
from webapp.services.jobs.storage import Storage
from webapp.services.register import import_runs
from webapp.services.register.imports import (
    ImportRefused,
    ImportReport,
    ImportRequest,
    RowChange,
    import_register,
)
from webapp.services.scope import Scope

log = logging.getLogger(__name__)


def run(ctx: JobContext) -> None:
    """The run's check or import, as its status says (nothing if it moved on meanwhile)."""
    run_id = int(ctx.params["run_id"])
    with ctx.session_scope() as session:
        found = session.get(ImportRun, run_id)
        if found is None or found.status not in import_runs.IN_PROGRESS or found.stored_name is None:
            return
        mode = import_runs.mode_of(found)
        request = ImportRequest(
            path=ctx.storage.local_path(import_runs.upload_key(found.stored_name)),
            file_name=found.file_name,
            actor=Actor(f"user:{found.user_id}", found.user_id),
            scope=Scope(region_code=found.region_code),
            mode=mode,
            max_bytes=int(ctx.settings.REGISTER_IMPORT_MAX_BYTES),
        )
    ctx.add_summary(run_id=run_id, mode=mode.value)
    try:
        with (
            _csv_writer(ctx.storage, import_runs.problems_key(run_id)) as problems,
            _csv_writer(ctx.storage, import_runs.changes_key(run_id)) as changes,
        ):
            report = import_register(
                ctx.session_scope,
                request,
                progress=ctx.progress,
                on_problem=lambda problem: problems(import_runs.problem_line(problem)),
                on_change=lambda change: _write_change(changes, change),
                checkpoint=lambda session, so_far, line: import_runs.checkpoint(session, run_id, so_far, line),
            )
    except ImportRefused as refusal:
        _finish(ctx, run_id, failure="refused_file", file_problem=[refusal.message, refusal.params])
        return
    except JobCancelled:
        with ctx.session_scope() as session:
            cancelled = session.get(ImportRun, run_id)
            if cancelled is not None:
                import_runs.record_cancel(session, cancelled, ctx.storage)
                ctx.add_summary(**_figures(cancelled))
        raise
    except Exception:  # a bug, the database gone: the run must not stay "in progress" forever
        _finish(ctx, run_id, failure="error")
        raise
    _finish(ctx, run_id, report=report)


def _write_change(write: Callable[[list[str]], None], change: RowChange) -> None:
    for line in import_runs.change_lines(change):
        write(line)


@contextmanager
def _csv_writer(storage: Storage, key: str) -> Iterator[Callable[[list[str]], None]]:
    """Rows written to a report file in the storage (in place of the last pass's only once complete)."""
    with storage.writer(key) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")  # type: ignore[arg-type]
        try:
            yield csv.writer(text).writerow
            text.flush()
        finally:
            text.detach()  # the storage's writer closes the file


def _figures(run: ImportRun) -> dict[str, Any]:
    return {
        "rows": run.rows,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "refused": run.refused,
        "last_line": run.last_line,
    }


def _finish(
    ctx: JobContext,
    run_id: int,
    *,
    report: ImportReport | None = None,
    file_problem: list[Any] | None = None,
    failure: str | None = None,
) -> None:
    """Record how the work ended. A dry run with rows to write waits for confirmation (CHECKED,
    the file kept); anything else is final and the file is deleted (kept after an import that
    failed mid-way, like an interrupted one, so that it can be imported again)."""
    with ctx.session_scope() as session:
        found = session.get(ImportRun, run_id)
        if found is None:
            return
        now = utcnow()
        if report is not None:
            import_runs.record_report(found, report)
            ctx.add_summary(**_figures(found))
            if found.status == ImportStatus.IMPORTING:
                found.status = ImportStatus.IMPORTED
            elif report.created + report.updated > 0:
                found.status = ImportStatus.CHECKED
                return
            else:
                found.status, found.failure = ImportStatus.FAILED, "nothing_to_import"
        else:
            found.status, found.failure = ImportStatus.FAILED, failure or "refused_file"
            if file_problem is not None:
                found.problems = {"file": file_problem, "stopped_at": None, "rows": []}
            ctx.add_summary(**_figures(found))
            if found.written:
                found.finished_at = now
                return
        found.finished_at = now
        import_runs.delete_upload(found, ctx.storage)


def on_interrupted(session: Session, job: Job, storage: Storage) -> dict[str, Any]:
    """The worker was killed: the run says what its committed batches wrote, keeps its file."""
    found = session.get(ImportRun, int((job.params or {}).get("run_id", 0)))
    if found is None or found.job_id != job.id or found.status not in import_runs.IN_PROGRESS:
        return {}
    return import_runs.record_interruption(session, found)


KIND = JobKind(
    name=import_runs.KIND,
    label=N_("Register import"),
    run=run,
    on_interrupted=on_interrupted,
)
