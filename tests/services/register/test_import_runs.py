"""Back-office import runs without the web: the background job's outcomes recorded on the run (a
check waiting for confirmation, a refused file, an unexpected error), and confirmation once only."""

from __future__ import annotations

import pytest

from tests.services.register.test_imports import person, write_csv
from webapp.models import ImportFileKind, ImportRun, ImportStatus, Role
from webapp.services.register import import_runs
from webapp.services.register.import_runs import JobSettings, RunNotWaiting, run_job
from webapp.services.scope import Scope


@pytest.fixture
def start(app, session, make_user, tmp_path):
    """A run for a CSV file written in the import folder (its content given as rows, or as text)."""
    officer = make_user(Role.OFFICER, region="03")

    def start_run(rows=None, text=None) -> tuple[ImportRun, JobSettings]:
        folder = tmp_path / "imports"
        folder.mkdir(exist_ok=True)
        stored = import_runs.stored_name_for(ImportFileKind.CSV)
        if text is not None:
            (folder / stored).write_text(text, encoding="utf-8")
        else:
            write_csv(folder / stored, rows)
        run = import_runs.start_run(
            session,
            officer,
            Scope(region_code="03"),
            file_name="fes.csv",
            stored_name=stored,
            kind=ImportFileKind.CSV,
            size=(folder / stored).stat().st_size,
        )
        session.commit()
        return run, JobSettings(import_dir=folder, max_bytes=10**7)

    return start_run


def test_a_check_waits_for_confirmation_with_its_report(app, session, start):
    """A dry run with rows to write leaves the run checked, its counts and first problems kept, the
    file kept, and every problem in the report file."""
    run, settings = start([person(1), person(2, cin="x")])
    run_job(app.extensions["database"].session_scope, run.id, settings)
    session.refresh(run)
    assert (run.status, run.created, run.refused, run.written) == (ImportStatus.CHECKED, 1, 1, False)
    assert run.problems["rows"][0][:2] == [3, "cin"]
    assert (settings.import_dir / run.stored_name).exists()
    assert [problem.line for problem in import_runs.read_problems(settings.import_dir, run.id)] == [3]


def test_a_refused_file_ends_the_run_and_deletes_the_file(app, session, start):
    """Wrong columns: the run failed with the refusal as its file problem, and the file is gone."""
    run, settings = start(text="nom;prénom\nKhadija;Bennani\n")
    stored = settings.import_dir / run.stored_name
    run_job(app.extensions["database"].session_scope, run.id, settings)
    session.refresh(run)
    assert (run.status, run.failure) == (ImportStatus.FAILED, "refused_file")
    assert run.problems["file"][0].startswith("The header row does not match the template")
    assert not stored.exists() and run.stored_name is None


def test_an_unexpected_error_never_leaves_a_run_in_progress(app, session, start, monkeypatch):
    """A bug or a lost database mid-way: the run is marked failed ("error"), not left checking."""

    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(import_runs, "import_register", broken)
    run, settings = start([person(1)])
    run_job(app.extensions["database"].session_scope, run.id, settings)
    session.refresh(run)
    assert (run.status, run.failure) == (ImportStatus.FAILED, "error")


def test_a_run_is_confirmed_once(app, session, start):
    """Confirming a checked run starts its import; confirming it again is refused (a double click
    imports once)."""
    run, settings = start([person(1)])
    run_job(app.extensions["database"].session_scope, run.id, settings)
    session.refresh(run)
    import_runs.confirm_run(session, run, strict=True)
    session.commit()
    assert (run.status, run.strict) == (ImportStatus.IMPORTING, True)
    with pytest.raises(RunNotWaiting):
        import_runs.confirm_run(session, run, strict=False)
    run_job(app.extensions["database"].session_scope, run.id, settings)
    session.refresh(run)
    assert (run.status, run.created, run.written, run.stored_name) == (ImportStatus.IMPORTED, 1, True, None)
