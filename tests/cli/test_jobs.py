"""`flask --app wsgi jobs ...`: list, show, cancel, sweep, purge-files, and a worker refused in
immediate mode."""

from __future__ import annotations

from datetime import timedelta

from webapp.models import JobState, utcnow


def test_jobs_list_and_show_say_what_each_job_did(runner, session, make_job):
    """A job's line gives its kind, state and progress; show adds its figures and error."""
    job = make_job(
        session,
        "register_export",
        state=JobState.FAILED,
        done=3,
        total=9,
        summary={"rows": 3},
        error_code="error",
        error=["Stopped at %(line)s", {"line": 4}],
    )
    session.commit()
    listed = runner.invoke(args=["jobs", "list"])
    assert listed.exit_code == 0 and "register_export" in listed.output and "3/9" in listed.output
    shown = runner.invoke(args=["jobs", "show", str(job.id)])
    assert "rows: 3" in shown.output and "Stopped at 4" in shown.output


def test_jobs_cancel_stops_a_running_job_at_its_next_step(runner, session, make_job):
    """Cancel on a running job asks it to stop; on a finished one it says why not (exit 1)."""
    running = make_job(session, "register_export")
    done = make_job(session, "register_export", state=JobState.DONE)
    session.commit()
    result = runner.invoke(args=["jobs", "cancel", str(running.id)])
    assert result.exit_code == 0 and "stops at its next step" in result.output
    refused = runner.invoke(args=["jobs", "cancel", str(done.id)])
    assert refused.exit_code == 1 and "can no longer be cancelled" in refused.output


def test_jobs_sweep_marks_silent_jobs_interrupted(runner, session, make_job):
    """The sweep command does what the workers' periodic sweep does."""
    make_job(session, "register_export", heartbeat_at=utcnow() - timedelta(hours=1))
    session.commit()
    result = runner.invoke(args=["jobs", "sweep"])
    assert result.exit_code == 0 and "1 interrupted" in result.output


def test_a_worker_is_refused_when_jobs_run_where_they_are_submitted(runner):
    """In immediate mode there is no queue to take jobs from: the command says so."""
    result = runner.invoke(args=["jobs", "worker"])
    assert result.exit_code == 1 and "immediate" in result.output
