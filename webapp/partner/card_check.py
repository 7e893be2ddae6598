"""Check a card by its number (/partner/check): is it valid, and which of our offers may its holder
use? For managers and counter agents alike (the same answer as GET /api/v1/eligibility), when there
is no phone app at hand or the printed code is damaged."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from webapp.db import get_session
from webapp.models import utcnow
from webapp.partner.views import blueprint
from webapp.services.cards.lifecycle import CardNotFound, card_state, get_card
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.partners.eligibility import offers_for_card
from webapp.services.verification import Verdict
from webapp.verdicts import VERDICT_TEXTS


@blueprint.get("/check")
def check_card() -> tuple[str, int]:
    typed = request.args.get("card", "").strip()[:40]
    context: dict[str, object] = {"typed": typed}
    status = 200
    if typed:
        if normalize_card_number(typed) is None:
            context["problem"] = "format"
            status = 422
        else:
            try:
                card = get_card(get_session(), typed)
            except CardNotFound:
                context["problem"] = "unknown"
                status = 404
            else:
                now = utcnow()
                state = card_state(card, now)
                valid_number = card.number if state == "active" else None
                verdict = Verdict.VALID if state == "active" else Verdict(state)
                context |= {
                    "card": card,
                    "verdict": verdict.value,
                    "verdict_text": VERDICT_TEXTS[verdict],
                    "standings": offers_for_card(get_session(), current_user.organisation_id, valid_number, now),
                }
    return render_template("partner/check.html", **context), status
