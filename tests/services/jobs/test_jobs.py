"""The job table's service and how a job runs (immediate mode: a job runs when its submitting
transaction commits), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.fixtures.support import TEST_ACTOR
from webapp.models import AuditEvent, Job, JobState, utcnow
from webapp.services.errors import ReasonRequired
from webapp.services.jobs.jobs import (
    JobNotCancellable,
    UnknownJobKind,
    get_job,
    progress_of,
    purge_expired_files,
    recent_jobs,
    request_cancel,
    requeue_forgotten,
    submit_job,
    sweep_stale,
)
from webapp.services.scope import RecordNotFound, Scope


def counting(ctx):
    """Counts to the `to` parameter, reporting progress and a figure."""
    for done in range(1, ctx.params["to"] + 1):
        ctx.progress(done, ctx.params["to"])
    ctx.add_summary(counted=ctx.params["to"])


@pytest.fixture
def jobs(app):
    return app.extensions["jobs"]


def test_a_job_runs_when_its_transaction_commits(session, job_kind):
    """A submitted job is run once committed: done, with its progress and figures."""
    job_kind("count", counting)
    job = submit_job(session, "count", actor=TEST_ACTOR, params={"to": 5})
    assert job.state == JobState.QUEUED
    session.commit()
    session.refresh(job)
    assert (job.state, job.done, job.total, job.summary) == (JobState.DONE, 5, 5, {"counted": 5})
    assert job.started_at is not None and job.finished_at is not None and job.attempts == 1


def test_a_rolled_back_submission_leaves_no_job_and_runs_nothing(session, job_kind):
    """A request that fails after submitting leaves neither a row nor a run."""
    ran = []
    job_kind("count", lambda ctx: ran.append(ctx.job_id))
    submit_job(session, "count", actor=TEST_ACTOR)
    session.rollback()
    session.commit()
    assert ran == [] and session.scalar(select(Job)) is None


def test_an_unknown_kind_is_refused(session):
    """Only the kinds the workers know can be submitted."""
    with pytest.raises(UnknownJobKind):
        submit_job(session, "no-such-kind", actor=TEST_ACTOR)


def test_a_dedupe_key_returns_the_job_already_waiting(session, job_kind):
    """A second submission with the key of a queued job is that job, not a new one."""
    job_kind("count", counting)
    first = submit_job(session, "count", actor=TEST_ACTOR, params={"to": 1}, dedupe_key="k", enqueue=False)
    second = submit_job(session, "count", actor=TEST_ACTOR, params={"to": 1}, dedupe_key="k", enqueue=False)
    assert first.id == second.id


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (ReasonRequired(), "reason_required", ["A reason is required: say why, in a few words.", {}]),
        (RuntimeError("bug"), "error", None),
    ],
)
def test_a_failing_job_says_why(session, job_kind, error, code, message):
    """A refusal fails the job with its code and untranslated message; a bug with "error"."""

    def fail(ctx):
        ctx.progress(3, 10, force=True)
        raise error

    job_kind("fail", fail)
    job = submit_job(session, "fail", actor=TEST_ACTOR)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.FAILED and job.error_code == code and job.done == 3
    if message is not None:
        assert job.error == message
    else:
        assert "unexpected error" in job.error[0]


def test_a_queued_job_is_cancelled_at_once(session, job_kind):
    """Cancelling a job no worker took yet ends it, audited; a worker then skips it."""
    ran = []
    job_kind("count", lambda ctx: ran.append(1))
    job = submit_job(session, "count", actor=TEST_ACTOR, enqueue=False)
    request_cancel(session, job, TEST_ACTOR)
    session.commit()
    assert job.state == JobState.CANCELLED
    assert session.scalar(select(AuditEvent.action).where(AuditEvent.action == "job.cancel")) == "job.cancel"
    with pytest.raises(JobNotCancellable):
        request_cancel(session, job, TEST_ACTOR)


def test_a_running_job_stops_at_its_next_progress_report(app, session, job_kind):
    """A cancel asked while the job runs stops it at its next progress report, with what it did."""

    def cancelled_midway(ctx):
        ctx.progress(4, 10, force=True)
        with ctx.session_scope() as other:  # someone else presses "cancel" now
            request_cancel(other, other.get(Job, ctx.job_id), TEST_ACTOR)
        ctx.progress(5, 10, force=True)
        raise AssertionError("the job should have stopped")

    job_kind("slow", cancelled_midway)
    job = submit_job(session, "slow", actor=TEST_ACTOR)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.CANCELLED and job.done == 5
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["job.cancel", "job.cancelled"]


def test_a_split_job_runs_its_parts_then_finishes(session, job_kind):
    """Parts run (on any worker), the parent sums their progress and finishes with their figures."""

    def plan(ctx):
        ctx.split([{"from": 0, "to": 3}, {"from": 3, "to": 7}, {"from": 7, "to": 8}], total=8)

    def part(ctx):
        ctx.progress(ctx.params["to"] - ctx.params["from"])
        ctx.add_summary(rows=list(range(ctx.params["from"], ctx.params["to"])))

    def finish(ctx):
        rows = [row for summary in ctx.part_summaries() for row in summary["rows"]]
        ctx.add_summary(rows=rows)

    job_kind("split", plan, run_part=part, finish=finish)
    job = submit_job(session, "split", actor=TEST_ACTOR)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.DONE and job.summary == {"rows": list(range(8))}
    assert (job.parts_done, job.parts_total) == (3, 3)
    progress = progress_of(session, job)
    assert (progress.done, progress.total, progress.percent) == (8, 8, 100)
    assert recent_jobs(session, Scope()) == [job]  # parts are not listed


def test_a_failing_part_fails_the_whole_job(session, job_kind):
    """One part refused: the job fails with its reason and does not finish."""
    finished = []

    def part(ctx):
        if ctx.part_index == 1:
            raise ReasonRequired()

    job_kind("split", lambda ctx: ctx.split([{}, {}, {}]), run_part=part, finish=lambda ctx: finished.append(1))
    job = submit_job(session, "split", actor=TEST_ACTOR)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.FAILED and job.error_code == "reason_required" and finished == []


def test_a_job_whose_heartbeat_stopped_is_marked_interrupted_with_what_it_wrote(app, session, job_kind, make_job):
    """The sweep marks a silent job interrupted, records what it had written, and audits it."""
    job_kind("import", lambda ctx: None, on_interrupted=lambda s, job, storage: {"rows_written": job.done})
    silent = make_job(session, "import", done=4000, heartbeat_at=utcnow() - timedelta(minutes=5))
    alive = make_job(session, "import", done=10)
    session.commit()
    storage = app.extensions["jobs"].storage
    assert sweep_stale(session, storage, stale_after=timedelta(minutes=2)) == 1
    session.commit()
    assert silent.state == JobState.INTERRUPTED and alive.state == JobState.RUNNING
    assert silent.summary["rows_written"] == 4000 and silent.error_code == "interrupted"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.interrupted"))
    assert event.after == {"job": silent.id, "done": 4000, "rows_written": 4000} and event.reason == "import"


def test_reading_a_silent_job_marks_it_interrupted(app, session, job_kind, make_job):
    """The job page sees the truth without waiting for the periodic sweep."""
    job_kind("import", lambda ctx: None)
    silent = make_job(session, "import", heartbeat_at=utcnow() - timedelta(minutes=5))
    session.commit()
    storage = app.extensions["jobs"].storage
    job = get_job(session, silent.id, Scope(), stale_after=timedelta(minutes=2), storage=storage)
    assert job.state == JobState.INTERRUPTED


def test_a_split_job_is_interrupted_when_one_of_its_parts_is(app, session, job_kind, make_job):
    """A part's worker killed: the part and its parent are interrupted, the other parts stopped."""
    job_kind("split", lambda ctx: None)
    parent = make_job(session, "split", state=JobState.WAITING, parts_total=2)
    make_job(session, "split", parent_id=parent.id, part_index=0, heartbeat_at=utcnow() - timedelta(minutes=5))
    other = make_job(session, "split", parent_id=parent.id, part_index=1)
    session.commit()
    sweep_stale(session, app.extensions["jobs"].storage, stale_after=timedelta(minutes=2))
    session.commit()
    assert parent.state == JobState.INTERRUPTED and other.cancel_requested


def test_a_forgotten_queued_job_is_put_on_the_queue_again(session, job_kind, make_job):
    """A job the queue lost (Redis down at submission) runs once the sweep finds it."""
    job_kind("count", counting)
    lost = make_job(session, "count", state=JobState.QUEUED, params={"to": 2}, created_at=utcnow() - timedelta(hours=1))
    session.commit()
    assert requeue_forgotten(session, older_than=timedelta(minutes=2)) == [lost.id]
    session.commit()
    session.refresh(lost)
    assert lost.state == JobState.DONE and lost.attempts == 2


def test_expired_result_files_are_deleted_and_the_job_remembers(app, session, job_kind, make_job):
    """A file past its time is deleted; the job keeps its name and date (the screen says it is gone)."""
    storage = app.extensions["jobs"].storage
    with storage.writer("jobs/1/old.csv") as handle:
        handle.write(b"a,b\n")
    with storage.writer("jobs/2/new.csv") as handle:
        handle.write(b"a,b\n")
    old = make_job(
        session,
        state=JobState.DONE,
        result_file="jobs/1/old.csv",
        result_name="old.csv",
        result_expires_at=utcnow() - timedelta(days=1),
    )
    new = make_job(
        session,
        state=JobState.DONE,
        result_file="jobs/2/new.csv",
        result_name="new.csv",
        result_expires_at=utcnow() + timedelta(days=1),
    )
    session.commit()
    assert purge_expired_files(session, storage) == 1
    assert old.result_file is None and old.result_name == "old.csv" and not storage.exists("jobs/1/old.csv")
    assert new.result_file == "jobs/2/new.csv" and storage.exists("jobs/2/new.csv")


def test_an_officer_sees_only_their_regions_jobs(session, job_kind, make_job):
    """Another region's job is not found, exactly like one that does not exist."""
    job_kind("count", counting)
    theirs = make_job(session, "count", region_code="03")
    mine = make_job(session, "count", region_code="06")
    session.commit()
    assert get_job(session, mine.id, Scope(region_code="06")).id == mine.id
    with pytest.raises(RecordNotFound):
        get_job(session, theirs.id, Scope(region_code="06"))
    assert recent_jobs(session, Scope(region_code="06")) == [mine]
