"""GET /offers/<id>/eligibility: an offer's signed eligibility list, for its own partner only.

A Token Status List of 1 bit per card (1 = eligible), indexed like the card status list
(docs/offers.md, "Eligibility lists"). Another partner's offer answers 404, like a missing one.
A list not built yet (a new offer) answers 503 `eligibility_list_pending` with Retry-After.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, request
from werkzeug.wrappers import Response

from webapp.access import current_scope, partner_access
from webapp.db import get_session
from webapp.models import utcnow
from webapp.services.partners.api_keys import SCOPE_VERIFY
from webapp.services.partners.eligibility import EligibilityListPending, served_eligibility_list
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.partners.offers import MAX_OFFER_ID, get_offer, offer_applies
from webapp.services.partners.rules import moroccan_today
from webapp.services.scope import RecordNotFound
from webapp.services.trust.status_list import TOKEN_TYPE
from webapp.settings import current_settings

blueprint = Blueprint("offer_lists", __name__, url_prefix="/offers")


@blueprint.get(f"/<int(max={MAX_OFFER_ID}):offer_id>/eligibility")  # a larger number is no offer: 404
# Rule A5 of docs/card-token.md: the verify scope, not eligibility. The list is offline verification
# material, the same token the trust bundle carries (GET /api/v1/bundle, verify scope): asking for
# another scope here would refuse a key what it already gets in its bundle. The eligibility scope is
# GET /api/v1/eligibility, one card's answer by its number.
@partner_access(SCOPE_VERIFY)
def eligibility_list(offer_id: int) -> Response:
    """The signed list with ETag and a private max-age (it tells who may use this partner's offer)."""
    session = get_session()
    offer = get_offer(session, offer_id, current_scope())
    now = utcnow()
    if not offer_applies(offer, moroccan_today(now)):
        raise RecordNotFound()  # a draft, paused or out-of-window offer has no list to publish
    settings = current_settings()
    # Never built here (8-10 s at 622,000 cards): the last signed list, even if the register changed
    # since; a stale one is rebuilt by the eligibility_lists job, asked for when this request commits.
    stale: list[int] = []
    state = served_eligibility_list(
        session,
        offer,
        validity=timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS),
        now=now,
        ask_rebuild=stale.append,
    )
    if state is None:
        # Its rebuild was asked for when the offer was approved, and the periodic check asks again
        # for any list missing (a 503 rolls this request back: it could not keep an ask of its own).
        raise EligibilityListPending()
    if stale:
        ask_rebuild(session, offer.id)
    response = Response(state.signed_token, mimetype=f"application/{TOKEN_TYPE}")
    response.set_etag(hashlib.sha256(state.signed_token.encode("ascii")).hexdigest()[:32])
    response.last_modified = state.signed_at
    response = response.make_conditional(request)
    response.cache_control.private = True
    response.cache_control.max_age = settings.STATUS_LIST_MAX_AGE_SECONDS
    response.vary.add("Authorization")
    response.vary.add("Cookie")
    return response
