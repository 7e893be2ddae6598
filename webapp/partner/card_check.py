"""Check a card by its number (/partner/check): is it valid, and which of our offers may its holder
use? For managers and counter agents alike (the same answer as GET /api/v1/eligibility), when there
is no phone app at hand or the printed code is damaged."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.card_checks import note_partner_check
from webapp.db import get_session
from webapp.models import utcnow
from webapp.partner.views import blueprint
from webapp.services.cards.checks import clean_place
from webapp.services.cards.holders import card_verdict, holder_photo
from webapp.services.cards.numbers import card_number_problem, normalize_card_number
from webapp.services.partners.eligibility import card_standing
from webapp.verdicts import VERDICT_TEXTS, card_face


@blueprint.get("/check")
def check_card() -> tuple[str, int]:
    typed = request.args.get("card", "").strip()[:40]
    # Where the agent says they are (optional): kept in the form for the next card, recorded with
    # the check as clean_place stores it (the holder sees it in "Who checked my card").
    place = clean_place(request.args.get("place")) or ""
    context: dict[str, object] = {"typed": typed, "place": place}
    status = 200
    if typed:
        number = normalize_card_number(typed)
        standing = card_standing(get_session(), current_user.organisation_id, number) if number else None
        if standing is None:
            # As on the public /check: a mistyped check character says "check for a typo".
            context["problem"] = card_number_problem(typed) or "format"
            status = 422
        elif standing.card is None:
            context["problem"] = "unknown"
            status = 404
        else:
            now = utcnow()
            note_partner_check(standing.card.number, "number", place or None, now)
            found = card_verdict(get_session(), standing.card, now)  # the card standing read
            context |= {
                "card": standing.card,
                "verdict": found.verdict.value,
                "verdict_text": VERDICT_TEXTS[found.verdict],
                "standings": standing.offers,
                **card_face(found, with_photo=True),  # partner staff only, on this blueprint
            }
    return render_template("partner/check.html", **context), status


@blueprint.get("/cards/<number>/photo")
def card_holder_photo(number: str) -> Response:
    """The holder's photo from the register, so partner staff can tie a card in force to the person
    in front of them (the verdict page and the verifier app show it online). Never cached: it is
    personal data, and a phone may be shared."""
    canonical = normalize_card_number(number)
    photo = holder_photo(get_session(), canonical, utcnow()) if canonical else None
    if photo is None:
        abort(404)
    response = Response(photo, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, no-store"
    return response
