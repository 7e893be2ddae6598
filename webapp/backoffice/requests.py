"""The officers' tasks (issue 15, part 6): what artisans asked about their card (a lost card, a
renewal, a correction), for the officers of the artisan's region (administrators: every region).
A task's page links to the card actions and the record's edit form, and takes or closes the task;
each change says which version of the task the officer saw, so two officers never overwrite each
other unseen (a stale change is answered 409 on the task's page, nothing written)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from webapp.access import current_actor, current_scope
from webapp.backoffice.requests_forms import CloseTaskForm, TakeTaskForm, TaskListForm
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.models import CardRequest, RequestState, User
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards import requests as card_requests
from webapp.services.errors import ReasonRequired, ReasonTooLong
from webapp.services.register.artisans import MAX_ID

FORM_REFUSED = 422
TASK = f"/requests/<int(max={MAX_ID}):request_id>"
TASK_KIND_WORDS = {
    "lost": _l("Card reported lost"),
    "renewal": _l("Renewal asked"),
    "correction": _l("Details to correct"),
}
TASK_STATE_WORDS = {
    "open": _l("Open"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "declined": _l("Declined"),
}


@blueprint.context_processor
def task_vocabulary() -> dict[str, object]:
    return {"task_kind_words": TASK_KIND_WORDS, "task_state_words": TASK_STATE_WORDS}


@blueprint.get("/requests")
def requests() -> tuple[str, int]:
    """The pending tasks of the officer's region (every region for administrators), oldest first."""
    session, scope = get_session(), current_scope()
    form = TaskListForm(formdata=request.args)
    if not form.validate():
        return render_template("backoffice/requests/list.html", tasks=[], total=0, bad_cursor=True), 400
    after = int(form.after.data) if form.after.data else None
    tasks = card_requests.pending_requests(session, scope, after=after, limit=card_requests.PAGE_SIZE + 1)
    more = len(tasks) > card_requests.PAGE_SIZE
    tasks = tasks[: card_requests.PAGE_SIZE]
    context = {
        "tasks": tasks,
        "total": card_requests.count_pending_requests(session, scope),
        "show_region": scope.region_code is None,
        "next_url": url_for("backoffice.requests", after=tasks[-1].id) if more else None,
        "first_page_url": url_for("backoffice.requests") if after else None,
    }
    return render_template("backoffice/requests/list.html", **context), 200


def _task_page(task: CardRequest, status: int = 200, **context: Any) -> tuple[str, int]:
    session = get_session()
    card = task.card
    handled_by = session.get(User, task.handled_by_id) if task.handled_by_id else None
    context.setdefault("take_form", TakeTaskForm(formdata=None, version=str(task.version)))
    context.setdefault("close_form", CloseTaskForm(formdata=None, version=str(task.version)))
    return render_template(
        "backoffice/requests/task.html",
        task=task,
        card=card,
        artisan=task.artisan,
        handled_by=handled_by,
        pending=task.state in card_requests.PENDING_STATES,
        actions=card_service.allowed_actions(card),
        state=card_service.card_state(card),
        **context,
    ), status


@blueprint.get(TASK)
def task(request_id: int) -> tuple[str, int]:
    """A task: what was asked, the card, links to act on it, and the forms to take and close it."""
    return _task_page(card_requests.get_request(get_session(), request_id, current_scope()))


def _stale_refusal(error: Exception) -> str:
    if isinstance(error, (card_requests.StaleRequest, card_requests.RequestAlreadyClosed)):
        return translated_message(error)
    return translated_message(card_requests.StaleRequest())


@blueprint.post(TASK + "/take")
def take_task(request_id: int) -> Response | tuple[str, int]:
    """Take a task: it shows as in progress, under the officer's name."""
    session, scope = get_session(), current_scope()
    found = card_requests.get_request(session, request_id, scope)
    form = TakeTaskForm()
    if not form.validate_on_submit():
        return _task_page(found, FORM_REFUSED, refusal=_stale_refusal(ValueError()))
    try:
        card_requests.take_request(session, found.id, int(form.version.data), scope, current_actor())
    except (card_requests.StaleRequest, card_requests.RequestAlreadyClosed) as error:
        session.rollback()
        return _task_page(
            card_requests.get_request(session, request_id, scope), error.http_status, refusal=_stale_refusal(error)
        )
    flash(_("You are handling this task."), "success")
    return redirect(url_for("backoffice.task", request_id=found.id))


@blueprint.post(TASK + "/close")
def close_task(request_id: int) -> Response | tuple[str, int]:
    """Close a task: done, or declined with a note that the artisan reads."""
    session, scope = get_session(), current_scope()
    found = card_requests.get_request(session, request_id, scope)
    form = CloseTaskForm()
    if not form.validate_on_submit():
        refusal = _stale_refusal(ValueError()) if form.version.errors else None
        return _task_page(found, FORM_REFUSED, close_form=form, refusal=refusal)
    try:
        card_requests.close_request(
            session,
            found.id,
            int(form.version.data),
            RequestState(form.outcome.data),
            form.note.data,
            scope,
            current_actor(),
        )
    except (ReasonRequired, ReasonTooLong) as error:
        form.note.errors = [*form.note.errors, translated_message(error)]
        return _task_page(found, FORM_REFUSED, close_form=form)
    except (card_requests.StaleRequest, card_requests.RequestAlreadyClosed) as error:
        session.rollback()
        fresh = card_requests.get_request(session, request_id, scope)
        return _task_page(fresh, error.http_status, refusal=_stale_refusal(error))
    flash(_("The task is closed."), "success")
    return redirect(url_for("backoffice.requests"))
