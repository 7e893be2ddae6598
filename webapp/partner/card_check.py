"""Check a card by its number (/partner/check): is it valid, and which of our offers may its holder
use? For managers and counter agents alike (the same answer as GET /api/v1/eligibility), when there
is no phone app at hand or the printed code is damaged."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from webapp.db import get_session
from webapp.partner.views import blueprint
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.partners.eligibility import card_standing
from webapp.services.verification import Verdict
from webapp.verdicts import VERDICT_TEXTS


@blueprint.get("/check")
def check_card() -> tuple[str, int]:
    typed = request.args.get("card", "").strip()[:40]
    context: dict[str, object] = {"typed": typed}
    status = 200
    if typed:
        number = normalize_card_number(typed)
        standing = card_standing(get_session(), current_user.organisation_id, number) if number else None
        if standing is None:
            context["problem"] = "format"
            status = 422
        elif standing.card is None:
            context["problem"] = "unknown"
            status = 404
        else:
            verdict = Verdict.VALID if standing.state == "active" else Verdict(standing.state)
            context |= {
                "card": standing.card,
                "verdict": verdict.value,
                "verdict_text": VERDICT_TEXTS[verdict],
                "standings": standing.offers,
            }
    return render_template("partner/check.html", **context), status
