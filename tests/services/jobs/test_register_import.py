"""The register import as a job (kind register_import), run in immediate mode on the test database
(SQLite, or PostgreSQL with TEST_DATABASE_URL): the check waiting for confirmation, a refused file,
an unexpected error, confirmation once only; a worker killed mid-import leaves a run that says
exactly what was written (audited, the file kept) and an import started again that writes nothing
twice; a cancelled import stops at a batch and says what it wrote."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures.imports import stored_upload
from tests.services.register.test_imports import person, write_csv
from webapp.models import Artisan, AuditEvent, ImportRun, ImportStatus, Job, JobState, Role, utcnow
from webapp.services.audit import Actor
from webapp.services.jobs import register_import
from webapp.services.jobs.context import JobContext
from webapp.services.jobs.jobs import sweep_stale
from webapp.services.register import import_runs
from webapp.services.register.import_runs import RunNotWaiting

ROWS = 5_000  # two and a half batches of 2,000


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing of the job's code runs after it (no except, no finally of ours)."""


@pytest.fixture
def storage(app):
    return app.extensions["jobs"].storage


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, region="03")


@pytest.fixture
def start(session, officer, storage, tmp_path):
    """A run for a CSV file put in the storage (its content given as rows, or as text), its check
    submitted: in immediate mode it has run when this returns."""

    def start_run(rows: list[dict[str, Any]] | None = None, text: str | None = None) -> ImportRun:
        path = tmp_path / f"upload-{utcnow().timestamp()}.csv"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        else:
            write_csv(path, rows or [])
        run = stored_upload(session, officer, storage, path)
        import_runs.submit_work(session, run, actor(officer))
        session.commit()
        session.refresh(run)
        return run

    return start_run


def actor(user) -> Actor:
    return Actor(f"user:{user.id}", user.id)


def count_artisans(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Artisan)) or 0


def distinct_rna_numbers(session) -> int:
    return session.scalar(select(func.count(func.distinct(Artisan.rna_number)))) or 0


def many(count: int = ROWS) -> list[dict[str, Any]]:
    return [person(serial) for serial in range(1, count + 1)]


def test_a_check_waits_for_confirmation_with_its_report(session, start, storage):
    """A dry run with rows to write leaves the run checked, its counts and first problems kept, the
    file kept, every problem in the report file; the job is done with the figures."""
    run = start([person(1), person(2, cin="x")])
    assert (run.status, run.created, run.refused, run.written) == (ImportStatus.CHECKED, 1, 1, False)
    assert run.problems["rows"][0][:2] == [3, "cin"]
    assert storage.exists(import_runs.upload_key(run.stored_name))
    assert [problem.line for problem in import_runs.read_problems(storage, run.id)] == [3]
    job = session.get(Job, run.job_id)
    assert (job.kind, job.state, job.params) == (
        "register_import",
        JobState.DONE,
        {"run_id": run.id, "mode": "dry_run"},
    )
    assert (job.done, job.summary["created"], job.summary["refused"]) == (2, 1, 1)


def test_a_refused_file_ends_the_run_and_deletes_the_file(session, start, storage):
    """Wrong columns: the run failed with the refusal as its file problem, and the file is gone."""
    run = start(text="nom;prénom\nKhadija;Bennani\n")
    assert (run.status, run.failure) == (ImportStatus.FAILED, "refused_file")
    assert run.problems["file"][0].startswith("The header row does not match the template")
    assert run.stored_name is None and list(storage.local_path("imports").glob("*.csv")) == []


def test_an_unexpected_error_never_leaves_a_run_in_progress(session, start, monkeypatch):
    """A bug or a lost database mid-way: the run is marked failed ("error"), the job failed too."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(register_import, "import_register", broken)
    run = start([person(1)])
    assert (run.status, run.failure) == (ImportStatus.FAILED, "error")
    assert (session.get(Job, run.job_id).state, session.get(Job, run.job_id).error_code) == (JobState.FAILED, "error")


def test_a_run_is_confirmed_once(session, start, officer, storage):
    """Confirming a checked run imports it (in a job of its own); confirming it again is refused
    (a double click imports once)."""
    run = start([person(1)])
    check_job = run.job_id
    import_runs.confirm_run(session, run, actor(officer), strict=True)
    with pytest.raises(RunNotWaiting):
        import_runs.confirm_run(session, run, actor(officer), strict=False)
    session.commit()
    session.refresh(run)
    assert run.job_id != check_job and session.get(Job, run.job_id).params["mode"] == "strict"
    assert (run.status, run.created, run.written, run.stored_name) == (ImportStatus.IMPORTED, 1, True, None)
    assert count_artisans(session) == 1


def test_the_check_keeps_the_first_changes_and_writes_them_all(session, start, officer, storage, monkeypatch):
    """Each updated artisan's changes: the first ones on the run, all of them in its changes file."""
    monkeypatch.setattr(import_runs, "CHANGES_SHOWN", 2)
    run = start([person(serial) for serial in range(1, 5)])
    import_runs.confirm_run(session, run, actor(officer), strict=False)
    session.commit()
    run = start([person(serial, phone="0700000000") for serial in range(1, 5)])
    assert (run.status, run.updated) == (ImportStatus.CHECKED, 4)
    assert [change[0] for change in run.changes] == [2, 3]
    assert run.changes[0][2:] == ["RNA-03-0000001", "Khadija Bennani", {"phone": ["+212612345678", "+212700000000"]}]
    lines = list(import_runs.read_changes(storage, run.id))
    assert [(line.line, line.field, line.before, line.after) for line in lines] == [
        (serial + 1, "phone", "+212612345678", "+212700000000") for serial in range(1, 5)
    ]


def die_after(monkeypatch, rows: int) -> None:
    """The worker is killed when the import reports `rows` done (after their batches committed)."""
    original = JobContext.progress

    def progress(self, done, total=None, **options):
        if done >= rows:
            raise WorkerKilled()
        return original(self, done, total, **options)

    monkeypatch.setattr(JobContext, "progress", progress)


def test_a_killed_import_says_exactly_what_it_wrote_and_runs_again_safely(
    app, session, start, officer, storage, monkeypatch
):
    """Killed after two batches: once its heartbeat is stale the sweep marks the job interrupted and
    the run says what is in the register (4,000 rows, lines 2 to 4,001), audited with the figures,
    the file kept; started again, the import writes the rest and nothing twice."""
    run = start(many())
    assert run.status == ImportStatus.CHECKED and run.created == ROWS
    die_after(monkeypatch, 4_000)
    with pytest.raises(WorkerKilled):
        import_runs.confirm_run(session, run, actor(officer), strict=False)
        session.commit()
    session.close()  # the exception left the commit (after it) half-way
    monkeypatch.undo()
    session.expire_all()
    job = session.get(Job, run.job_id)
    assert job.state == JobState.RUNNING  # nobody knows yet
    assert count_artisans(session) == 4_000

    assert sweep_stale(session, storage, stale_after=timedelta(seconds=120), now=utcnow() + timedelta(minutes=3)) == 1
    session.commit()
    session.expire_all()
    run, job = session.get(ImportRun, run.id), session.get(Job, job.id)
    assert (job.state, run.status, run.failure) == (JobState.INTERRUPTED, ImportStatus.INTERRUPTED, "interrupted")
    assert (run.rows, run.created, run.updated, run.last_line, run.written) == (4_000, 4_000, 0, 4_001, True)
    assert run.created == count_artisans(session)
    figures = {
        "run_id": run.id,
        "rows_written": 4_000,
        "created": 4_000,
        "updated": 0,
        "first_line": 2,
        "last_line": 4_001,
    }
    assert figures.items() <= job.summary.items()
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.interrupted"))
    assert event.reason == "register_import" and figures.items() <= event.after.items()
    assert import_runs.can_start_again(run) and storage.exists(import_runs.upload_key(run.stored_name))

    import_runs.start_again(session, run, actor(officer))
    session.commit()
    session.refresh(run)
    assert (run.status, run.created, run.updated, run.unchanged) == (ImportStatus.IMPORTED, 1_000, 0, 4_000)
    assert count_artisans(session) == ROWS and distinct_rna_numbers(session) == ROWS
    assert run.stored_name is None


def test_a_killed_check_is_interrupted_with_nothing_written_and_checks_again(session, start, storage, monkeypatch):
    """A check killed mid-way wrote nothing; started again, it checks the file anew."""
    die_after(monkeypatch, 2_000)
    with pytest.raises(WorkerKilled):
        start(many())
    session.close()  # the exception left the commit (after it) half-way
    monkeypatch.undo()
    run = session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
    sweep_stale(session, storage, stale_after=timedelta(seconds=120), now=utcnow() + timedelta(minutes=3))
    session.commit()
    session.refresh(run)
    assert (run.status, run.written, run.last_line) == (ImportStatus.INTERRUPTED, False, None)
    assert session.get(Job, run.job_id).summary["rows_written"] == 0 and count_artisans(session) == 0
    import_runs.start_again(session, run, Actor("cli"))
    session.commit()
    session.refresh(run)
    assert (run.status, run.created) == (ImportStatus.CHECKED, ROWS)


def test_a_cancelled_import_stops_at_a_batch_and_says_what_it_wrote(session, start, officer, storage, monkeypatch):
    """Cancel asked while importing: the work stops at the next batch boundary; the run says what
    its committed batches wrote, the job is cancelled and audited, and the file is deleted."""
    run = start(many())
    original = JobContext.progress

    def progress(self, done, total=None, **options):
        if done >= 2_000:
            with self.session_scope() as other:
                other.get(Job, self.job_id).cancel_requested = True
            options["force"] = True
        return original(self, done, total, **options)

    monkeypatch.setattr(JobContext, "progress", progress)
    import_runs.confirm_run(session, run, actor(officer), strict=False)
    session.commit()
    session.refresh(run)
    job = session.get(Job, run.job_id)
    assert (job.state, run.status, run.failure) == (JobState.CANCELLED, ImportStatus.CANCELLED, "cancelled")
    assert (run.created, run.last_line) == (2_000, 2_001) and count_artisans(session) == 2_000
    assert run.stored_name is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.cancelled"))
    assert (event.after["created"], event.after["last_line"]) == (2_000, 2_001)


def test_a_queued_check_cancelled_before_it_starts_deletes_the_file(session, officer, storage, tmp_path):
    """Cancelled while still queued (no worker took it): the run is cancelled at once."""
    path = write_csv(tmp_path / "fes.csv", [person(1)])
    run = stored_upload(session, officer, storage, path)
    stored = run.stored_name
    import_runs.submit_work(session, run, actor(officer))
    import_runs.cancel_run(session, run, storage, actor(officer))
    session.commit()
    assert (run.status, run.stored_name) == (ImportStatus.CANCELLED, None)
    assert session.get(Job, run.job_id).state == JobState.CANCELLED
    assert not storage.exists(import_runs.upload_key(stored))
