"""The artisan's requests: the list of their requests with each one's state, and one page per kind
(what will happen, then the button). Views parse, call the service and render; a refusal (a
request of this kind pending already, no card in force, a description missing or too long) is
answered on the page, with nothing written."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp import formats
from webapp.access import current_actor, restrict_blueprint
from webapp.card_requests.forms import RequestForm
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.forms_once import created as once_created
from webapp.forms_once import replayed
from webapp.models import Artisan, Card, CardRequest, CardStatus, RequestKind, Role
from webapp.services.cards import lifecycle
from webapp.services.cards import requests as card_requests
from webapp.services.errors import ReasonRequired, ReasonTooLong

blueprint = Blueprint("card_requests", __name__, url_prefix="/card/requests")
restrict_blueprint(blueprint, Role.ARTISAN)

FORM_REFUSED = 422
KINDS = ", ".join(kind.value for kind in RequestKind)
STATE_WORDS = {
    "open": _l("Waiting for the chamber"),
    "in_progress": _l("Being handled"),
    "done": _l("Done"),
    "declined": _l("Declined"),
}
KIND_TITLES = {
    "lost": _l("I lost my card"),
    "renewal": _l("Renew my card"),
    "correction": _l("My details are wrong"),
}
CARD_STATE_WORDS = {
    "active": _l("Valid"),
    "suspended": _l("Suspended"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}


def _artisan() -> Artisan:
    artisan = get_session().get(Artisan, current_user.artisan_id)
    assert artisan is not None  # the database: an artisan's account always has its record
    return artisan


@blueprint.context_processor
def vocabulary() -> dict[str, object]:
    return {
        "request_state_words": STATE_WORDS,
        "request_kind_titles": KIND_TITLES,
        "card_state_words": CARD_STATE_WORDS,
    }


@blueprint.get("/")
def index() -> str:
    """The artisan's card in force, the three requests, and every request made with its state."""
    session = get_session()
    artisan = _artisan()
    card = card_requests.card_in_force(session, artisan.id)
    requests = card_requests.artisan_requests(session, artisan.id)
    return render_template(
        "card/requests.html",
        card=card,
        state=lifecycle.card_state(card) if card else None,
        lost_reported=card is not None and card.status_reason == lifecycle.LOST_REPORTED,
        requests=requests,
        pending_kinds=_not_offered(card, requests),
    )


def _not_offered(card: Card | None, requests: list[CardRequest]) -> set[str]:
    """A request already pending is not offered again (its state shows in the list); but "lost"
    stays offered while the card is valid (made valid again meanwhile): it suspends the card."""
    pending = {item.kind.value for item in requests if item.state in card_requests.PENDING_STATES}
    if card is not None and card.status == CardStatus.ACTIVE:
        pending.discard(RequestKind.LOST.value)
    return pending


@blueprint.route(f"/new/<any({KINDS}):kind>", methods=["GET", "POST"])
def new_request(kind: str) -> Response | tuple[str, int]:
    """What the request does, then the button (and for a correction, the words)."""
    session = get_session()
    artisan = _artisan()
    card = card_requests.card_in_force(session, artisan.id)
    form = RequestForm()
    refusal = None
    status = 200
    if form.validate_on_submit():
        if (replay := replayed(form, "card_requests.new_request", url_for("card_requests.index"))) is not None:
            return replay
        try:
            submitted = card_requests.submit_request(
                session,
                artisan,
                RequestKind(kind),
                current_actor(),
                detail=form.detail.data,
                requested_by_id=current_user.id,
            )
        except (ReasonRequired, ReasonTooLong) as error:
            form.detail.errors = [*form.detail.errors, translated_message(error)]
            status = FORM_REFUSED
        except card_requests.DuplicateRequest as error:
            refusal, status = _duplicate_message(error), error.http_status
        except card_requests.NoCardInForce as error:
            refusal, status = translated_message(error), error.http_status
        else:
            once_created(form, url_for("card_requests.index"))
            flash(_done_message(submitted), "success")
            return redirect(url_for("card_requests.index"))
    elif request.method == "POST":
        status = FORM_REFUSED
    page = render_template("card/request_form.html", form=form, kind=kind, card=card, refusal=refusal)
    return page, status


def _duplicate_message(error: card_requests.DuplicateRequest) -> str:
    """The service's message, with the first request's date as the reader writes dates."""
    existing = error.existing
    kind = _(card_requests.KIND_WORDS[existing.kind])
    return _(error.message, kind=kind, date=formats.day(existing.created_at))


def _done_message(submitted: card_requests.Submitted) -> str:
    day = formats.day(submitted.request.created_at)
    if not submitted.created:
        return _(
            "Your card is suspended again. You had already reported it lost on %(date)s: the chamber has that request.",
            date=day,
        )
    if submitted.request.kind == RequestKind.LOST:
        return _("Your card is suspended: nobody can use it any more. The chamber will contact you for a new one.")
    return _("Your request is sent to the chamber of your region. Its state shows below.")
