"""Jobs in the back office: the latest jobs of the reader's scope, one job's progress (polled as
JSON by static/js/backoffice/job-progress.js), its cancellation and its result file.

Jobs run on workers (webapp/services/jobs/): these screens only read the `job` table and the job
storage. An officer sees their region's jobs, an administrator every job; another region's job
answers 404 like one that does not exist. Other screens show a job's progress with the macro
`job_progress(job, progress)` of templates/_macros/jobs.html (the import run, the print batch),
fed by `job_status` below (a template global), the same dictionary as the status JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, send_file, url_for
from flask_babel import format_decimal, lazy_pgettext, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from webapp import formats
from webapp.access import current_actor, current_scope
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.jobs import get_queue, get_storage
from webapp.models import Job, JobState, User, utcnow
from webapp.services.errors import DomainError
from webapp.services.jobs.jobs import JobProgress, get_job, progress_of, recent_jobs, request_cancel
from webapp.services.jobs.kinds import job_kinds
from webapp.services.jobs.storage import Storage

MAX_ID = 2**31 - 1  # ids are SQL integers: a larger number names nothing (404)
NO_STORE = {"Cache-Control": "no-store"}
JOBS_SHOWN = 50

STATE_LABELS = {
    JobState.QUEUED: _l("Waiting for a worker"),
    JobState.RUNNING: _l("Running"),
    JobState.WAITING: _l("Running in parts"),
    JobState.DONE: _l("Finished"),
    JobState.FAILED: _l("Failed"),
    JobState.CANCELLED: lazy_pgettext("job", "Cancelled"),
    JobState.INTERRUPTED: _l("Interrupted"),
}
STATE_BADGES = {
    JobState.QUEUED: "warn",
    JobState.RUNNING: "warn",
    JobState.WAITING: "warn",
    JobState.DONE: "valid",
    JobState.FAILED: "bad",
    JobState.CANCELLED: "none",
    JobState.INTERRUPTED: "bad",
}
# When a job failed with no message of its own (error_code only).
FAILURES = {
    "interrupted": _l("The work stopped before its end (its worker stopped). It is safe to run it again."),
    "error": _l("The work stopped on an unexpected error. Try again, or ask an administrator."),
}
# Who asked, when no person did.
ACTORS = {"cli": _l("A command (command line)"), "system": _l("The system")}


class ActionForm(FlaskForm):
    """A button (cancel, export): only the CSRF token."""


def kind_label(kind: str) -> str:
    """The kind of job in the reader's language ("Register export")."""
    known = job_kinds().get(kind)
    return _(known.label) if known else kind


def file_size(size: int) -> str:
    """A file's size as people read it, in their language: 12 KB, 3.4 MB."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(max(1, round(size / 1024))))
    return _("%(size)s MB", size=format_decimal(round(size / (1024 * 1024), 1)))


def _retention_days(job: Job) -> int:
    if job.result_expires_at is None or job.finished_at is None:
        return 0
    return max(1, round((job.result_expires_at - job.finished_at).total_seconds() / 86400))


def result_of(job: Job, storage: Storage, now: datetime | None = None) -> dict[str, Any] | None:
    """The job's result file as a screen shows it: {"size", "until"} while it is kept, {"gone":
    text} once deleted (after its retention, or by hand); None when the job has no result file."""
    if not job.result_file and not job.result_name:
        return None
    now = now or utcnow()
    expired = job.result_expires_at is not None and job.result_expires_at <= now
    if job.result_file and not expired and storage.exists(job.result_file):
        return {
            "name": job.result_name,
            "size": file_size(storage.size(job.result_file)),
            "until": formats.moment(job.result_expires_at) if job.result_expires_at else None,
            "url": url_for("backoffice.job_download", job_id=job.id),
        }
    days = _retention_days(job)
    if days:
        gone = ngettext(
            "The file was deleted after %(num)s day, as every result file is.",
            "The file was deleted after %(num)s days, as every result file is.",
            days,
        )
    else:
        gone = _("The file is no longer kept.")
    return {"name": job.result_name, "gone": gone}


def error_text(job: Job) -> str | None:
    """Why the job failed or stopped, in the reader's language (its message is stored untranslated)."""
    if job.error:
        message, params = job.error[0], (job.error[1] if len(job.error) > 1 else None) or {}
        return _(message, **params)
    if job.state in (JobState.FAILED, JobState.INTERRUPTED):
        return str(FAILURES.get(job.error_code or "error", FAILURES["error"]))
    return None


def progress_text(job: Job, progress: JobProgress) -> str:
    """How far the job is, in words: "1,200 of 3,000", the parts when it runs in parts."""
    if job.state == JobState.QUEUED:
        return _("Waiting for a worker to start it.")
    if progress.total:
        text = _(
            "%(done)s of %(total)s",
            done=format_decimal(min(progress.done, progress.total)),
            total=format_decimal(progress.total),
        )
    elif progress.done:
        text = _("%(done)s so far", done=format_decimal(progress.done))
    else:
        text = _("Starting…") if not job.is_finished else ""
    if progress.parts_total:
        parts = _("part %(done)s of %(total)s done", done=progress.parts_done, total=progress.parts_total)
        text = f"{text} · {parts}" if text else parts
    return text


@blueprint.app_template_global("job_status")
def job_status(job: Job, progress: JobProgress | None = None) -> dict[str, Any]:
    """What a screen shows of a job and what the status JSON answers: its state in words, its
    progress (done, total, percent, text), whether it is finished and where its page is."""
    progress = progress or progress_of(get_session(), job)
    stopping = job.cancel_requested and not job.is_finished
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": kind_label(job.kind),
        "state": job.state.value,
        "state_label": _("Stopping…") if stopping else str(STATE_LABELS[job.state]),
        "badge": STATE_BADGES[job.state],
        "finished": job.is_finished,
        "cancellable": not job.is_finished and not job.cancel_requested,
        "done": progress.done,
        "total": progress.total,
        "percent": progress.percent,
        "parts_done": progress.parts_done,
        "parts_total": progress.parts_total,
        "text": progress_text(job, progress),
        "error": error_text(job),
        "url": url_for("backoffice.job", job_id=job.id),
        "status_url": url_for("backoffice.job_status", job_id=job.id),
    }


def asked_by(job: Job, people: dict[int, User]) -> str:
    """Who asked for the job: a person's name, else what the audit trail calls the command or system."""
    if job.user_id is not None and job.user_id in people:
        return people[job.user_id].display_name
    return str(ACTORS.get(job.actor_label, job.actor_label))


def _people(jobs: list[Job]) -> dict[int, User]:
    ids = {job.user_id for job in jobs if job.user_id is not None}
    if not ids:
        return {}
    return {user.id: user for user in get_session().scalars(select(User).where(User.id.in_(ids)))}


def _job(job_id: int) -> Job:
    """The job if the reader's scope covers it (404 otherwise); one whose worker died is marked
    interrupted on the way."""
    queue = get_queue()
    return get_job(get_session(), job_id, current_scope(), stale_after=queue.stale_after, storage=queue.storage)


@blueprint.get("/jobs")
def jobs() -> str:
    """The latest jobs of the reader's scope (an officer: their region's; an administrator: all)."""
    session = get_session()
    found = recent_jobs(session, current_scope(), limit=JOBS_SHOWN)
    people = _people(found)
    rows = [(job, job_status(job, progress_of(session, job)), asked_by(job, people)) for job in found]
    return render_template("backoffice/jobs/index.html", rows=rows)


@blueprint.get(f"/jobs/<int(max={MAX_ID}):job_id>")
def job(job_id: int) -> str:
    """One job: its progress while it works, then its outcome and its result file."""
    found = _job(job_id)
    people = _people([found])
    return render_template(
        "backoffice/jobs/job.html",
        job=found,
        progress=progress_of(get_session(), found),
        asked_by=asked_by(found, people),
        result=result_of(found, get_storage()),
        summary_rows=(found.summary or {}).get("rows"),
        action_form=ActionForm(),
    )


@blueprint.get(f"/jobs/<int(max={MAX_ID}):job_id>/status", endpoint="job_status")
def job_status_json(job_id: int) -> Response:
    """The job's state as JSON, for the progress block's script."""
    response = jsonify(job_status(_job(job_id)))
    response.headers.update(NO_STORE)
    return response


@blueprint.post(f"/jobs/<int(max={MAX_ID}):job_id>/cancel")
def cancel_job(job_id: int) -> Response:
    """Stop the job: at once if it has not started, at its next progress step if it runs."""
    if not ActionForm().validate_on_submit():
        abort(400)
    found = _job(job_id)
    try:
        request_cancel(get_session(), found, current_actor())
    except DomainError as refusal:
        flash(translated_message(refusal), "error")
    else:
        flash(_("The job was asked to stop."), "success")
    return redirect(url_for("backoffice.job", job_id=job_id))


@blueprint.get(f"/jobs/<int(max={MAX_ID}):job_id>/download")
def job_download(job_id: int) -> Response | tuple[str, int]:
    """The job's result file, while it is kept (410 once deleted)."""
    found = _job(job_id)
    storage = get_storage()
    result = result_of(found, storage)
    if result is None:
        abort(404)
    if "gone" in result:
        return render_template("backoffice/jobs/gone.html", job=found, result=result), 410
    assert found.result_file is not None
    extension = found.result_file.rsplit(".", 1)[-1].lower()
    response = send_file(
        storage.local_path(found.result_file),
        mimetype=DOWNLOAD_TYPES.get(extension, "application/octet-stream"),
        as_attachment=True,
        download_name=found.result_name or found.result_file.rsplit("/", 1)[-1],
        max_age=0,
    )
    response.headers.update(NO_STORE)
    return response


DOWNLOAD_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "zip": "application/zip",
}
