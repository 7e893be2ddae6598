"""Activation codes in the back office (issue 15, part 1, the officer's side): the code of a card
just issued (or of the new card of a replacement) is shown once on the page that answers the
officer's confirmation, and an officer can issue a new code for a card of their region (earlier
codes then stop working). A code is never stored in clear (webapp/services/cards/activation.py),
never put in a cookie or a flash message, and its page is not cached (no-store)."""

from __future__ import annotations

from datetime import datetime

from flask import make_response, render_template
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from webapp.access import current_actor, current_scope
from webapp.backoffice.views import blueprint
from webapp.db import get_session
from webapp.errors import translated_message
from webapp.models import ActivationCode, Artisan, Card, utcnow
from webapp.services.cards import activation
from webapp.services.cards import lifecycle as card_service
from webapp.services.register import artisans as register
from webapp.services.register.artisans import MAX_ID
from webapp.services.scope import RecordNotFound
from webapp.settings import current_settings

CARD = f"/artisans/<int(max={MAX_ID}):artisan_id>/cards/<string(length=10):number>"
NO_STORE = {"Cache-Control": "no-store"}


class ActivationCodeForm(FlaskForm):
    """Empty: the confirmation button, with its CSRF token."""


def issue_code(session: Session, card: Card) -> tuple[str, datetime]:
    """A new activation code for the card (the earlier ones end), and when it expires."""
    policy = activation.ActivationPolicy.from_settings(current_settings())
    code = activation.issue_activation_code(session, card, current_actor(), policy)
    expires_at = session.scalar(
        select(ActivationCode.expires_at).where(
            ActivationCode.card_id == card.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.superseded_at.is_(None),
        )
    )
    return code, expires_at or utcnow()


def code_page(artisan: Artisan, card: Card, code: str, expires_at: datetime, *, new_card: bool) -> Response:
    """The page that shows a code, this once: never cached, never shown again."""
    page = render_template(
        "backoffice/register/activation_code.html",
        artisan=artisan,
        card=card,
        code=code,
        expires_at=expires_at,
        new_card=new_card,
    )
    return make_response(page, 200, NO_STORE)


@blueprint.route(CARD + "/activation-code", methods=["GET", "POST"])
def activation_code(artisan_id: int, number: str) -> Response | tuple[str, int]:
    """Confirm, then issue a new activation code for a card in force of the officer's region."""
    session = get_session()
    found = register.get_artisan(session, artisan_id, current_scope())
    card = session.scalar(select(Card).where(Card.number == number, Card.artisan_id == found.id))
    if card is None:
        raise RecordNotFound()
    form = ActivationCodeForm()
    refusal, status = None, 200
    if form.validate_on_submit():
        try:
            code, expires_at = issue_code(session, card)
        except activation.NoCodeForCard as error:
            refusal, status = translated_message(error), error.http_status
        else:
            return code_page(found, card, code, expires_at, new_card=False)
    can_confirm = activation.in_force(card, utcnow())
    if refusal is None and not can_confirm:
        refusal = translated_message(activation.NoCodeForCard(card, card_service.card_state(card)))
    page = render_template(
        "backoffice/register/activation_confirm.html",
        form=form,
        artisan=found,
        card=card,
        refusal=refusal,
        can_confirm=can_confirm,
        validity_days=current_settings().ACTIVATION_CODE_VALIDITY_DAYS,
    )
    return page, status
