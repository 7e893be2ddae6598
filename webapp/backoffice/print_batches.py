"""Print batches in the back office (issue 16, part 3): the list, a new batch (how many cards it
would hold is shown before it is made), a batch's page (its files' rendering, downloads, the next
states) and the downloads. An officer sees their region's batches only (another's: 404); an
administrator every batch, and chooses a region or the whole country for a new one.

The files are rendered by the batch's job on the workers (webapp/services/jobs/print_batches.py);
these views only read the tables and the job storage."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import IntegerField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from webapp.access import current_actor, current_scope
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.i18n import current_language
from webapp.jobs import get_storage
from webapp.models import Job, PrintBatch, PrintBatchState, Region
from webapp.services.errors import DomainError
from webapp.services.jobs.jobs import progress_of
from webapp.services.printing import batches
from webapp.services.register.artisans import MAX_ID
from webapp.services.register.reference_data import region_name
from webapp.services.scope import RecordNotFound
from webapp.settings import current_settings

BATCH = "/print-batches/<int:batch_id>"
BATCHES_SHOWN = 50
CARDS_SHOWN = 100

SELECTION_WORDS = {
    batches.SelectionKind.NEW.value: _l("Issued cards never printed"),
    batches.SelectionKind.REPLACEMENTS.value: _l("Replacement cards never printed"),
    batches.SelectionKind.REGION.value: _l("Every card in force of the region (printed ones again)"),
    batches.SelectionKind.NUMBERS.value: _l("These card numbers"),
}
STATE_WORDS = {
    PrintBatchState.PREPARED.value: _l("Prepared"),
    PrintBatchState.SENT_TO_PRINTER.value: _l("At the printer"),
    PrintBatchState.PRINTED.value: _l("Printed"),
    PrintBatchState.DELIVERED.value: _l("Delivered"),
    PrintBatchState.RETURNED.value: _l("Returned undelivered"),
}
STATE_BADGES = {
    PrintBatchState.PREPARED.value: "warn",
    PrintBatchState.SENT_TO_PRINTER.value: "submitted",
    PrintBatchState.PRINTED.value: "submitted",
    PrintBatchState.DELIVERED.value: "valid",
    PrintBatchState.RETURNED.value: "bad",
}
# The button that moves a batch to each state.
MARK_WORDS = {
    PrintBatchState.SENT_TO_PRINTER.value: _l("Mark as sent to the printer"),
    PrintBatchState.PRINTED.value: _l("Mark as printed"),
    PrintBatchState.DELIVERED.value: _l("Mark as delivered"),
    PrintBatchState.RETURNED.value: _l("Mark as returned undelivered"),
}
REFUSAL_WORDS = {
    batches.NOT_FOUND: _l("no such card"),
    batches.OTHER_REGION: _l("a card of another region"),
    batches.NOT_PRINTABLE: _l("revoked, suspended or expired: not printed"),
    batches.IN_BATCH: _l("already in a batch at the printer"),
}
FILES = {
    "cards": ("application/pdf", "cards.pdf"),
    "letters": ("application/pdf", "letters.pdf"),
    "manifest": ("text/csv", "manifest.csv"),
}


class BatchForm(FlaskForm):
    """What to put in a new batch; `confirm` says the officer saw the count and wants it made."""

    selection = SelectField(
        _l("Cards"),
        choices=[SelectChoice(value, label) for value, label in SELECTION_WORDS.items()],
        validators=[InputRequired()],
        default=batches.SelectionKind.NEW.value,
    )
    region_code = SelectField(_l("Region"), choices=[], validate_choice=False, default="")
    limit = IntegerField(
        _l("At most (cards)"), validators=[Optional(), NumberRange(min=1, max=batches.MAX_BATCH_CARDS)]
    )
    # Bounded far above what a batch takes: the service says "at most 10,000 numbers".
    numbers = TextAreaField(_l("Card numbers, one a line"), validators=[Optional()])


class MarkForm(FlaskForm):
    """A state button: only the CSRF token."""


@blueprint.context_processor
def print_vocabulary() -> dict[str, object]:
    return {
        "batch_state_words": STATE_WORDS,
        "batch_state_badges": STATE_BADGES,
        "selection_words": SELECTION_WORDS,
    }


def _region_choices(form: BatchForm) -> None:
    language = current_language()
    codes = get_session().scalars(select(Region.code).order_by(Region.code))
    form.region_code.choices = [
        SelectChoice("", _("Every region")),
        *(SelectChoice(code, f"{code} · {region_name(code, language)}") for code in codes),
    ]


def _request_of(form: BatchForm) -> batches.BatchRequest:
    kind = batches.SelectionKind(form.selection.data)
    numbers = batches.parse_numbers(form.numbers.data or "") if kind == batches.SelectionKind.NUMBERS else ()
    region = (form.region_code.data or None) if form.region_code is not None else None
    return batches.BatchRequest(kind=kind, region_code=region, numbers=numbers, limit=form.limit.data)


@blueprint.get("/print-batches")
def print_batches() -> str:
    """The reader's batches, newest first, with their states."""
    session, scope = get_session(), current_scope()
    return render_template(
        "backoffice/print/batches.html",
        batches=batches.list_batches(session, scope, limit=BATCHES_SHOWN),
        total=batches.count_batches(session, scope),
        show_region=scope.region_code is None,
    )


@blueprint.route("/print-batches/new", methods=["GET", "POST"])
def new_print_batch() -> Response | tuple[str, int]:
    """Choose cards; the answer says how many the batch would hold (and which typed numbers are left
    out) before the officer confirms it. Confirmed: the batch is made and its files rendered."""
    scope = current_scope()
    form = BatchForm()
    if scope.region_code is None:
        _region_choices(form)
    else:
        del form.region_code
    plan = None
    status = 200
    if form.validate_on_submit():
        session = get_session()
        try:
            wanted = _request_of(form)
            if request.form.get("confirm") == "yes":
                batch, plan = batches.prepare_batch(session, wanted, scope, current_actor())
                batches.start_rendering(session, batch, current_actor())
                flash(_("Batch %(number)s is prepared: its files are being rendered.", number=batch.id), "success")
                return redirect(url_for("backoffice.print_batch", batch_id=batch.id))
            plan = batches.plan_batch(session, wanted, scope)
        except DomainError as refusal:
            form.form_errors.append(translated_message(refusal))
            status = refusal.http_status
    elif form.is_submitted():
        status = 422
    return render_template(
        "backoffice/print/new.html",
        form=form,
        plan=plan,
        refusal_words=REFUSAL_WORDS,
        region=region_name(scope.region_code, current_language()) if scope.region_code else None,
    ), status


def _batch(batch_id: int) -> PrintBatch:
    if batch_id > MAX_ID:
        raise RecordNotFound()
    return batches.get_batch(get_session(), batch_id, current_scope())


@blueprint.get(BATCH)
def print_batch(batch_id: int) -> str:
    """A batch: its state and history, its files (rendering, ready, deleted), the next states."""
    session = get_session()
    batch = _batch(batch_id)
    job = session.get(Job, batch.job_id) if batch.job_id else None
    context: dict[str, Any] = {
        "batch": batch,
        "job": job,
        "progress": progress_of(session, job) if job is not None else None,
        "cards": batches.batch_cards(session, batch, limit=CARDS_SHOWN),
        "cards_shown": CARDS_SHOWN,
        "next_states": [state.value for state in batches.TRANSITIONS[batch.state]],
        "mark_words": MARK_WORDS,
        "form": MarkForm(),
        "retention_days": current_settings().PRINT_BATCH_RETENTION_DAYS,
        "region": region_name(batch.region_code, current_language()) if batch.region_code else None,
    }
    return render_template("backoffice/print/batch.html", **context)


@blueprint.post(BATCH + "/mark/<any(sent_to_printer, printed, delivered, returned):state>")
def mark_print_batch(batch_id: int, state: str) -> Response:
    """Move the batch to its next state (409 for a state out of order)."""
    batch = _batch(batch_id)
    form = MarkForm()
    if not form.validate_on_submit():
        flash(_("The form expired: try again."), "error")
        return redirect(url_for("backoffice.print_batch", batch_id=batch.id))
    batches.mark_batch(get_session(), batch, PrintBatchState(state), current_actor())
    flash(_("Batch %(number)s: %(state)s.", number=batch.id, state=STATE_WORDS[state]), "success")
    return redirect(url_for("backoffice.print_batch", batch_id=batch.id))


@blueprint.post(BATCH + "/render-again")
def render_print_batch_again(batch_id: int) -> Response:
    """Render the files again after the rendering failed, was stopped or its worker was killed."""
    batch = _batch(batch_id)
    if not MarkForm().validate_on_submit():
        flash(_("The form expired: try again."), "error")
        return redirect(url_for("backoffice.print_batch", batch_id=batch.id))
    batches.render_again(get_session(), batch, current_actor())
    flash(_("Batch %(number)s: its files are being rendered again.", number=batch.id), "success")
    return redirect(url_for("backoffice.print_batch", batch_id=batch.id))


@blueprint.get(BATCH + "/<any(cards, letters, manifest):file>")
def print_batch_file(batch_id: int, file: str) -> Response:
    """One of the batch's files (409 while rendering, 410 once deleted)."""
    batch = _batch(batch_id)
    settings = current_settings()
    key = batches.batch_file(batch, file, settings.PRINT_BATCH_RETENTION_DAYS)
    mimetype, name = FILES[file]
    response = send_file(
        get_storage().local_path(key),
        mimetype=mimetype,
        as_attachment=True,
        download_name=f"batch-{batch.id}-{name}",
    )
    response.headers["Cache-Control"] = "no-store"  # the letters hold activation codes
    return response
