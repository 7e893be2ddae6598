"""Bulk import of the register in the back office (its exports are jobs: backoffice/exports.py).

Upload a CSV or XLSX file -> its dry run (a report: counts, every refused row with its line, column
and reason, and each updated artisan's changes) -> confirm (strict or not) -> the import. The work
on a national file outlasts a web request: the check and the import run as jobs on the job workers
(services/register/import_runs.py, services/jobs/register_import.py); the progress page polls the
job's progress as JSON (static/js/backoffice/import-progress.js). Officers import their own
region only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask import stream_with_context as stream_with_request
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, FileSize
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response
from wtforms import BooleanField

from webapp.access import current_actor, current_scope
from webapp.backoffice import register as register_views
from webapp.backoffice.register_forms import FIELD_LABELS, ArtisanFilterForm
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import filled, handle_http_error, translated_message
from webapp.faults import long_request
from webapp.i18n import current_language
from webapp.jobs import get_queue, get_storage
from webapp.models import ImportRun, ImportStatus, Job, JobState
from webapp.security import accepts_upload
from webapp.services.errors import DomainError
from webapp.services.jobs.jobs import progress_of
from webapp.services.register import import_runs
from webapp.services.register.artisan_fields import FIELDS
from webapp.services.register.exports import SHEET_TITLE
from webapp.services.register.imports import FileTooLarge, ImportRefused, check_file, megabytes, template_rows
from webapp.services.register.reference_data import region_name
from webapp.services.spreadsheets import XLSX_MIME_TYPE, csv_chunks, file_chunks, xlsx_spool
from webapp.settings import current_settings

MAX_ID = 2**31 - 1  # ids are SQL integers: a larger number names nothing (404)
NO_STORE = {"Cache-Control": "no-store"}
PROBLEMS_ON_PAGE = import_runs.PROBLEMS_SHOWN

STATUS_LABELS = {
    ImportStatus.CHECKING: _l("Checking"),
    ImportStatus.CHECKED: _l("Waiting for confirmation"),
    ImportStatus.IMPORTING: _l("Importing"),
    ImportStatus.IMPORTED: _l("Imported"),
    ImportStatus.FAILED: _l("Not imported"),
    ImportStatus.CANCELLED: _l("Cancelled"),
    ImportStatus.INTERRUPTED: _l("Interrupted"),
}
STATUS_BADGES = {
    ImportStatus.CHECKING: "warn",
    ImportStatus.CHECKED: "warn",
    ImportStatus.IMPORTING: "warn",
    ImportStatus.IMPORTED: "valid",
    ImportStatus.FAILED: "bad",
    ImportStatus.CANCELLED: "disabled",
    ImportStatus.INTERRUPTED: "bad",
}
FAILURES = {
    "interrupted": _l("The work stopped before its end: its job worker stopped (a restart, a crash)."),
    "error": _l("The work stopped on an unexpected error. Upload the file again, or ask an administrator."),
    "nothing_to_import": _l("Nothing to import: no row would create or change an artisan."),
    "refused_file": _l("The file was refused before any row was read."),
}


class UploadForm(FlaskForm):
    file = FileField(
        _l("File (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx"], _l("A CSV file or an Excel workbook (.xlsx).")),
        ],
    )

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = translated_message(FileTooLarge(max_bytes))
        self.file.validators = [*self.file.validators, FileSize(max_bytes, message=message)]


def file_size(size: int) -> str:
    """A size limit as people read it, in their language: 200 MB, or 2 KB for small ones."""
    if size < 1024 * 1024:
        return _("%(size)s KB", size=format_decimal(size // 1024))
    return _("%(size)s MB", size=format_decimal(float(megabytes(size))))


class ConfirmForm(FlaskForm):
    strict = BooleanField(_l("Strict: write nothing at all if any row is refused"))


class ActionForm(FlaskForm):
    """A button (cancel): only the CSRF token."""


def _max_bytes() -> int:
    return int(current_settings().REGISTER_IMPORT_MAX_BYTES)


def _export_form() -> ArtisanFilterForm:
    """The register list's filters (the export of the import page offers region, trade and card)."""
    return register_views.filter_form(get_session(), current_scope())


def _index_page(form: UploadForm, status: int = 200) -> tuple[str, int]:
    scope = current_scope()
    return render_template(
        "backoffice/imports/index.html",
        form=form,
        export_form=_export_form(),
        runs=import_runs.recent_runs(get_session(), scope),
        max_size=file_size(_max_bytes()),
        fields=FIELDS,
        field_labels=FIELD_LABELS,
        status_labels=STATUS_LABELS,
        status_badges=STATUS_BADGES,
        region=scope.region_code,
        region_label=region_name(scope.region_code, current_language()) if scope.region_code else None,
    ), status


@blueprint.get("/imports")
def imports() -> tuple[str, int]:
    """Upload a file, download the template, export the register; the latest imports."""
    return _index_page(UploadForm(max_bytes=_max_bytes()))


@blueprint.post("/imports")
@long_request  # REQUEST_LONG_DEADLINE_SECONDS: a whole region's rows, or a large upload
@accepts_upload("REGISTER_IMPORT_MAX_BYTES")
def upload_import() -> Response | tuple[str, int]:
    """Store the file, start its dry run in the background and show its progress."""
    max_bytes = _max_bytes()
    form = UploadForm(max_bytes=max_bytes)
    if not form.validate_on_submit():
        return _index_page(form, 422)
    upload = form.file.data
    handle, temporary = tempfile.mkstemp(prefix="carte-upload-")
    os.close(handle)
    incoming = Path(temporary)
    try:
        upload.save(incoming)
        # The content decides, never the name: a zip signature for XLSX, text for CSV.
        kind = check_file(incoming, max_bytes)
        stored_name = import_runs.stored_name_for(kind)
        size = incoming.stat().st_size
        get_storage().put_file(import_runs.upload_key(stored_name), incoming)
    except ImportRefused as refusal:
        form.file.errors = [translated_message(refusal)]
        return _index_page(form, 422)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
        incoming.unlink(missing_ok=True)
    session = get_session()
    run = import_runs.start_run(
        session,
        current_user,
        current_scope(),
        file_name=Path(upload.filename or "register").name,
        stored_name=stored_name,
        kind=kind,
        size=size,
    )
    # The check goes on the job queue when this request's transaction commits.
    import_runs.submit_work(session, run, current_actor())
    return redirect(url_for("backoffice.import_run", run_id=run.id))


@blueprint.errorhandler(RequestEntityTooLarge)
def _upload_too_large(error: RequestEntityTooLarge) -> tuple[Response | str, int]:
    """A file over the limit, on the upload page (the body was refused before it was read)."""
    if request.endpoint != "backoffice.upload_import":
        return handle_http_error(error)
    form = UploadForm(formdata=None, max_bytes=_max_bytes())
    form.file.errors = [translated_message(FileTooLarge(_max_bytes()))]
    page, _status = _index_page(form)
    return page, 413


def _run(run_id: int) -> ImportRun:
    queue = get_queue()
    return import_runs.get_run(
        get_session(), run_id, current_scope(), storage=queue.storage, stale_after=queue.stale_after
    )


def _job(run: ImportRun) -> Job | None:
    return get_session().get(Job, run.job_id) if run.job_id is not None else None


@blueprint.get(f"/imports/<int(max={MAX_ID}):run_id>")
def import_run(run_id: int) -> str:
    """The run's progress while it works, its report once it is done."""
    run = _run(run_id)
    if run.status in import_runs.IN_PROGRESS:
        return render_template(
            "backoffice/imports/progress.html", run=run, progress=_progress(run), action_form=ActionForm()
        )
    problems = (run.problems or {}).get("rows", [])
    file_problem = (run.problems or {}).get("file")
    return render_template(
        "backoffice/imports/report.html",
        run=run,
        problems=[(line, column, filled(message, params)) for line, column, message, params in problems],
        file_problem=filled(*file_problem) if file_problem else None,
        stopped_at=(run.problems or {}).get("stopped_at"),
        failure=FAILURES.get(run.failure or ""),
        stopped=_stopped(run),
        can_start_again=import_runs.can_start_again(run),
        changes=_changes(run),
        confirm_form=ConfirmForm(),
        action_form=ActionForm(),
        field_labels=FIELD_LABELS,
        status_labels=STATUS_LABELS,
        status_badges=STATUS_BADGES,
    )


def _stopped(run: ImportRun) -> str | None:
    """What an import stopped mid-way (interrupted, cancelled, failed) had written, in words."""
    if run.status not in (ImportStatus.INTERRUPTED, ImportStatus.CANCELLED, ImportStatus.FAILED):
        return None
    if run.status == ImportStatus.FAILED and run.failure != "error":
        return None
    if not run.last_line:
        if run.status == ImportStatus.INTERRUPTED:
            return _("Nothing was written to the register.")
        return None
    return _(
        "Stopped after %(rows)s rows of the file (lines %(first)s to %(last)s): %(created)s artisans "
        "registered and %(updated)s updated are written (%(unchanged)s already up to date, %(refused)s "
        "refused). The rows after line %(last)s were not imported.",
        rows=format_decimal(run.rows),
        first=format_decimal(import_runs.FIRST_LINE),
        last=format_decimal(run.last_line),
        created=format_decimal(run.created),
        updated=format_decimal(run.updated),
        unchanged=format_decimal(run.unchanged),
        refused=format_decimal(run.refused),
    )


def _changes(run: ImportRun) -> list[dict[str, Any]]:
    """The run's first updates, each field's value before and after in the reader's language."""
    session = get_session()
    return [
        {
            "line": line,
            "rna_number": rna_number,
            "name": name,
            "fields": [
                (
                    str(FIELD_LABELS.get(field, field)),
                    register_views.display_value(session, field, before),
                    register_views.display_value(session, field, after),
                )
                for field, (before, after) in fields.items()
            ],
        }
        for line, _artisan_id, rna_number, name, fields in run.changes or []
    ]


def _progress(run: ImportRun) -> dict[str, Any]:
    """How far the run's job is (the job row is the one place progress is kept)."""
    job = _job(run)
    done, total = 0, None
    if job is not None:
        progress = progress_of(get_session(), job)
        done, total = progress.done, progress.total
    if job is not None and job.state == JobState.QUEUED:
        text = _("Waiting for a job worker to start the work…")
    elif total:
        text = _(
            "%(done)s of about %(total)s rows",
            done=format_decimal(min(done, total)),
            total=format_decimal(total),
        )
    else:
        text = _("%(done)s rows", done=format_decimal(done))
    return {
        "rows_done": done,
        "rows_total": total,
        "percent": min(100, done * 100 // total) if total else None,
        "text": text,
    }


@blueprint.get(f"/imports/<int(max={MAX_ID}):run_id>/status")
def import_status(run_id: int) -> Response:
    """The run's state as JSON, for the progress page's script."""
    run = _run(run_id)
    state = {
        "status": run.status.value,
        "finished": run.status not in import_runs.IN_PROGRESS,
        "url": url_for("backoffice.import_run", run_id=run.id),
    } | _progress(run)
    response = jsonify(state)
    response.headers.update(NO_STORE)
    return response


@blueprint.post(f"/imports/<int(max={MAX_ID}):run_id>/confirm")
def confirm_import(run_id: int) -> Response:
    """Import the checked file now (strict or not)."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    run = _run(run_id)
    try:
        import_runs.confirm_run(get_session(), run, current_actor(), strict=bool(form.strict.data))
    except DomainError as refusal:
        flash(translated_message(refusal), "error")
    return redirect(url_for("backoffice.import_run", run_id=run_id))


@blueprint.post(f"/imports/<int(max={MAX_ID}):run_id>/again")
def import_again(run_id: int) -> Response:
    """Run an interrupted check or import again on the kept file (rows already written are found
    unchanged: nothing is written twice)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    run = _run(run_id)
    try:
        import_runs.start_again(get_session(), run, current_actor())
    except DomainError as refusal:
        flash(translated_message(refusal), "error")
    return redirect(url_for("backoffice.import_run", run_id=run_id))


@blueprint.post(f"/imports/<int(max={MAX_ID}):run_id>/cancel")
def cancel_import(run_id: int) -> Response:
    """Do not import the checked file (it is deleted), or stop the check or import in progress
    at its next batch."""
    if not ActionForm().validate_on_submit():
        abort(400)
    run = _run(run_id)
    working = run.status in import_runs.IN_PROGRESS
    try:
        import_runs.cancel_run(get_session(), run, get_storage(), current_actor())
    except DomainError as refusal:
        flash(translated_message(refusal), "error")
        return redirect(url_for("backoffice.import_run", run_id=run_id))
    if working:
        flash(_("The work stops at its next batch; the report says what was written."), "success")
        return redirect(url_for("backoffice.import_run", run_id=run_id))
    flash(_("The file was not imported, and it was deleted."), "success")
    return redirect(url_for("backoffice.imports"))


@blueprint.get(f"/imports/<int(max={MAX_ID}):run_id>/problems.csv")
@long_request  # REQUEST_LONG_DEADLINE_SECONDS: a whole region's rows, or a large upload
def import_problems(run_id: int) -> Response:
    """Every problem of the run's last check or import, in the reader's language."""
    run = _run(run_id)
    lines = import_runs.read_problems(get_storage(), run.id)
    header = [_("Line"), _("Column"), _("Problem")]
    # A spreadsheet cell holds one value: no isolates, but region names, not codes.
    rows = (
        [problem.line, problem.column or "", filled(problem.message, problem.params, isolated=False)]
        for problem in lines
    )
    return _csv_download(header, rows, f"import-{run.id}-problems.csv")


@blueprint.get(f"/imports/<int(max={MAX_ID}):run_id>/changes.csv")
@long_request  # REQUEST_LONG_DEADLINE_SECONDS: a whole region's rows, or a large upload
def import_changes(run_id: int) -> Response:
    """Every field the run's last check or import changes on an artisan already registered: one
    line per field, values as the import file writes them."""
    run = _run(run_id)
    lines = import_runs.read_changes(get_storage(), run.id)
    header = [_("Line"), _("RNA number"), _("Name"), _("Column"), _("Before"), _("After")]
    rows = (
        [change.line, change.rna_number, change.name, change.field, _cell(change.before), _cell(change.after)]
        for change in lines
    )
    return _csv_download(header, rows, f"import-{run.id}-changes.csv")


def _cell(value: Any) -> Any:
    """A value as the import file writes it (programmes joined by semicolons)."""
    if value is None:
        return ""
    return ";".join(value) if isinstance(value, list) else value


def _csv_download(header: list[str], rows: Iterator[list[Any]], filename: str) -> Response:
    return Response(
        stream_with_request(csv_chunks(header, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


@blueprint.get("/imports/template.<any(csv, xlsx):extension>")
def import_template(extension: str) -> Response:
    """The file to fill in: the register's columns and an example row."""
    header, rows = template_rows()
    filename = f"register-template.{extension}"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if extension == "xlsx":
        return Response(
            file_chunks(xlsx_spool(header, rows, SHEET_TITLE)), mimetype=XLSX_MIME_TYPE, headers=disposition
        )
    return Response("".join(csv_chunks(header, rows)), mimetype="text/csv", headers=disposition)
