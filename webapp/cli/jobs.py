"""`flask --app wsgi jobs ...`: run a job worker, and see, cancel and sweep jobs.

A worker is one process taking jobs from the queue (JOB_QUEUE_URL); start several to go faster
(one per core: printing is CPU work). Ctrl-C or SIGTERM lets the job in hand finish its current
step... and a job whose worker is killed outright is marked interrupted by the sweep."""

from __future__ import annotations

import logging
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup

from webapp.cli.operations import cli_actor, flask_command, operation
from webapp.db import get_database
from webapp.jobs import get_queue
from webapp.models import Job, JobState
from webapp.services.jobs.jobs import (
    progress_of,
    purge_expired_files,
    recent_jobs,
    request_cancel,
    requeue_forgotten,
    sweep_stale,
)
from webapp.services.scope import RecordNotFound, Scope

jobs_cli = AppGroup("jobs", help="Job workers and the jobs they run.")
# How long `follow` waits for a worker to take a queued job before it says how to start one.
NO_WORKER_HINT_SECONDS = 10


@jobs_cli.command("worker")
@click.option("--threads", default=1, show_default=True, help="Jobs run at once by this process.")
@click.option("--no-periodic", is_flag=True, help="Leave the periodic sweeps to other workers.")
def jobs_worker(threads: int, no_periodic: bool) -> None:
    """Take jobs from the queue and run them, until Ctrl-C or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    queue = get_queue()
    if queue.huey.immediate:
        raise click.ClickException("JOB_QUEUE_URL is 'immediate': jobs run where they are submitted, not on a worker")
    consumer = queue.huey.create_consumer(workers=threads, worker_type="thread", periodic=not no_periodic)
    click.echo(f"Job worker on {current_app.extensions['settings'].JOB_QUEUE_URL.split('@')[-1]} ({threads} at once)")
    consumer.run()


def _line(job: Job, done: int, total: int | None) -> str:
    progress = f"{done}/{total}" if total else str(done)
    return f"{job.id:>6}  {job.kind:<20} {job.state.value:<12} {progress:<16} {job.actor_label}"


@jobs_cli.command("list")
@click.option("--limit", default=20, show_default=True)
def jobs_list(limit: int) -> None:
    """The latest jobs: id, kind, state, progress, who asked."""
    with operation() as session:
        for job in recent_jobs(session, Scope(), limit=limit):
            progress = progress_of(session, job)
            click.echo(_line(job, progress.done, progress.total))


@jobs_cli.command("show")
@click.argument("job_id", type=int)
def jobs_show(job_id: int) -> None:
    """One job: its state, progress, figures, result file and error."""
    with operation() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise RecordNotFound()
        progress = progress_of(session, job)
        click.echo(_line(job, progress.done, progress.total))
        if job.parts_total:
            click.echo(f"parts: {job.parts_done}/{job.parts_total}")
        for name, value in (job.summary or {}).items():
            click.echo(f"{name}: {value}")
        if job.result_file:
            click.echo(f"file: {get_queue().storage.local_path(job.result_file)}")
        if job.error:
            click.echo(f"error ({job.error_code}): {job.error[0] % job.error[1] if job.error[1] else job.error[0]}")


@jobs_cli.command("cancel")
@click.argument("job_id", type=int)
def jobs_cancel(job_id: int) -> None:
    """Stop a job: a queued one at once, a running one at its next step."""
    with operation() as session:
        job = session.get(Job, job_id)
        if job is None or job.parent_id is not None:
            raise RecordNotFound()
        request_cancel(session, job, cli_actor())
        click.echo(f"job {job.id}: {job.state.value}" + (" (stops at its next step)" if job.cancel_requested else ""))


@jobs_cli.command("sweep")
def jobs_sweep() -> None:
    """Mark interrupted the jobs whose worker died; put forgotten queued jobs on the queue again."""
    queue = get_queue()
    with operation() as session:
        marked = sweep_stale(session, queue.storage, stale_after=queue.stale_after)
        requeued = requeue_forgotten(session, older_than=queue.stale_after)
    click.echo(f"{marked} interrupted, {len(requeued)} put on the queue again")


@jobs_cli.command("purge-files")
def jobs_purge_files() -> None:
    """Delete result files kept past their time (exports, print batches)."""
    with operation() as session:
        count = purge_expired_files(session, get_queue().storage)
    click.echo(f"{count} files deleted")


def follow(job_id: int, *, in_process: bool = False, quiet: bool = False) -> Job:
    """Wait for a submitted job to end, printing its progress on one line (a command that submits a
    job and waits). `in_process`: run it here instead (a machine with no worker). Ctrl-C stops the
    waiting, not the job. Exits with status 1 if the job did not end done."""
    queue = get_queue()
    if in_process:
        queue.run(job_id)
        # Its parts (a split job): run each here, then its finish.
        while _run_next_part_here(job_id):
            pass
    started = time.monotonic()
    hinted = False
    database = get_database()
    while True:
        with database.session_scope() as session:
            job = session.get(Job, job_id)
            assert job is not None
            progress = progress_of(session, job)
            session.expunge(job)
        if not quiet:
            total = f"/{progress.total}" if progress.total else ""
            percent = f" ({progress.percent}%)" if progress.percent is not None else ""
            click.echo(f"\rjob {job_id} {job.state.value}: {progress.done}{total}{percent}   ", nl=False, err=True)
        if job.is_finished:
            if not quiet:
                click.echo("", err=True)
            break
        if not hinted and job.state == JobState.QUEUED and time.monotonic() - started > NO_WORKER_HINT_SECONDS:
            hinted = True
            click.echo(
                f"\nNo worker has taken job {job_id} yet: start one with `{flask_command()} jobs worker`, "
                "or run the command again with --in-process.",
                err=True,
            )
        time.sleep(0.5)
    if job.state != JobState.DONE:
        message = job.error[0] % job.error[1] if job.error and job.error[1] else (job.error or [job.state.value])[0]
        click.echo(f"job {job_id} {job.state.value}: {message}", err=True)
        sys.exit(1)
    return job


def _run_next_part_here(job_id: int) -> bool:
    """Run one queued part of a split job, or its finish, in this process; False when none is left."""
    queue = get_queue()
    with get_database().session_scope() as session:
        parent = session.get(Job, job_id)
        if parent is None or parent.state != JobState.WAITING:
            return False
        part_id = session.query(Job.id).filter(Job.parent_id == job_id, Job.state == JobState.QUEUED).limit(1).scalar()
    queue.run(part_id if part_id is not None else job_id)
    return True
