"""GET /offers/<id>/eligibility: an offer's signed eligibility list, for its own partner only.

A Token Status List of 1 bit per card (1 = eligible), indexed like the card status list
(docs/offers.md, "Eligibility lists"). Another partner's offer answers 404, like a missing one.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import Blueprint, request
from werkzeug.wrappers import Response

from webapp.access import current_scope, partner_access
from webapp.db import get_session
from webapp.faults import long_request
from webapp.keyring import current_keyring
from webapp.models import utcnow
from webapp.services.partners.api_keys import SCOPE_VERIFY
from webapp.services.partners.eligibility import current_eligibility_list
from webapp.services.partners.offers import MAX_OFFER_ID, get_offer, offer_applies
from webapp.services.partners.rules import moroccan_today
from webapp.services.scope import RecordNotFound
from webapp.services.trust.status_list import TOKEN_TYPE
from webapp.settings import current_settings

blueprint = Blueprint("offer_lists", __name__, url_prefix="/offers")


@blueprint.get(f"/<int(max={MAX_OFFER_ID}):offer_id>/eligibility")  # a larger number is no offer: 404
@long_request  # signed again when stale: 622,000 cards outlast the short deadline (a job in issue 16)
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
    state = current_eligibility_list(
        session,
        offer,
        current_keyring().require_signer,  # asked only if the list must be signed again
        public_base_url=settings.PUBLIC_BASE_URL,
        validity=timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS),
        ttl_seconds=settings.STATUS_LIST_MAX_AGE_SECONDS,
        now=now,
    )
    response = Response(state.signed_token, mimetype=f"application/{TOKEN_TYPE}")
    response.set_etag(hashlib.sha256(state.signed_token.encode("ascii")).hexdigest()[:32])
    response.last_modified = state.signed_at
    response = response.make_conditional(request)
    response.cache_control.private = True
    response.cache_control.max_age = settings.STATUS_LIST_MAX_AGE_SECONDS
    response.vary.add("Authorization")
    response.vary.add("Cookie")
    return response
