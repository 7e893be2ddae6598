"""The register import through a real job worker (`flask --app wsgi jobs worker`, a process of its
own on a queue file of the test's own), killed with SIGKILL mid-import: once its heartbeat is stale
the sweep marks the job interrupted, and the run says exactly which rows are in the register; the
import started again on a fresh worker completes the register without a duplicate. On SQLite (a
file) or PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.fixtures.jobs import wait_for, worker_config
from tests.services.register.test_imports import person, write_csv
from webapp.models import Artisan, AuditEvent, ImportFileKind, ImportRun, ImportStatus, Job, JobState, Role
from webapp.services.audit import Actor
from webapp.services.jobs.jobs import sweep_stale
from webapp.services.register import import_runs
from webapp.services.scope import Scope

ROWS = 20_000  # ten batches: the worker is killed between the first and the last


def test_a_worker_killed_mid_import_leaves_an_honest_run_and_a_safe_rerun(
    app, make_app, make_user, worker_process, tmp_path
):
    """SIGKILL between two batches: the run reports the rows of its committed batches (lines 2 to
    N+1), which are exactly the artisans in the database; a fresh worker imports the kept file
    again, and the register holds every row once."""
    officer = make_user(Role.OFFICER, region="03")
    rows = [person(serial) for serial in range(1, ROWS + 1)]
    path = write_csv(tmp_path / "registre-fes.csv", rows)
    submitter = make_app(**worker_config(tmp_path))
    database, queue = submitter.extensions["database"], submitter.extensions["jobs"]
    actor = Actor(f"user:{officer.id}", officer.id)

    stored, size = import_runs.stored_name_for(ImportFileKind.CSV), path.stat().st_size
    queue.storage.put_file(import_runs.upload_key(stored), path)
    with submitter.app_context(), database.session_scope() as session:
        run = import_runs.start_run(
            session,
            officer,
            Scope(region_code="03"),
            file_name=path.name,
            stored_name=stored,
            kind=ImportFileKind.CSV,
            size=size,
        )
        run.status = ImportStatus.IMPORTING  # checked already: the import itself
        job_id = import_runs.submit_work(session, run, actor).id
        run_id = run.id

    def job_values(*columns: Any) -> Any:
        with database.session_scope() as session:
            return session.execute(select(*columns).where(Job.id == job_id)).one()

    worker = worker_process()
    wait_for(lambda: job_values(Job.done).done > 0, seconds=30, what="the worker's first batch")
    done, total = job_values(Job.done, Job.total)
    assert 0 < done < total, f"the import should be mid-way ({done} of {total})"
    worker.kill()

    with submitter.app_context():
        marked = wait_for(
            lambda: _sweep(database, queue),
            seconds=20,
            what="the job's heartbeat to go stale",
        )
    assert marked == 1
    with database.session_scope() as session:
        run = session.get(ImportRun, run_id)
        job = session.get(Job, job_id)
        in_register = set(session.scalars(select(Artisan.rna_number)))
        assert (job.state, run.status, run.failure) == (JobState.INTERRUPTED, ImportStatus.INTERRUPTED, "interrupted")
        assert 0 < run.created < ROWS and run.updated == 0
        # Exactly the rows of the committed batches: lines 2 to last_line of the file.
        assert run.last_line == run.rows + 1 and run.created == run.rows
        assert in_register == {row["rna_number"] for row in rows[: run.rows]}
        figures = {"created": run.created, "rows_written": run.rows, "first_line": 2, "last_line": run.last_line}
        assert figures.items() <= job.summary.items()
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.interrupted"))
        assert event.reason == "register_import" and figures.items() <= event.after.items()
        assert queue.storage.exists(import_runs.upload_key(run.stored_name))
        written_before = run.created

    with submitter.app_context(), database.session_scope() as session:
        import_runs.start_again(session, session.get(ImportRun, run_id), actor)
    worker_process()

    def finished() -> ImportRun | None:
        with database.session_scope() as session:
            found = session.get(ImportRun, run_id)
            session.expunge(found)
            return found if found.status not in import_runs.IN_PROGRESS else None

    run = wait_for(finished, seconds=60, what="the import started again to finish")
    assert (run.status, run.created, run.unchanged) == (ImportStatus.IMPORTED, ROWS - written_before, written_before)
    with database.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Artisan)) == ROWS
        assert session.scalar(select(func.count(func.distinct(Artisan.rna_number)))) == ROWS


def _sweep(database: Any, queue: Any) -> int:
    with database.session_scope() as session:
        return sweep_stale(session, queue.storage, stale_after=queue.stale_after)
