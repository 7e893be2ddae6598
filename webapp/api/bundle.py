"""GET /api/v1/bundle: the signed trust bundle a verifier app keeps to verify offline
(docs/card-token.md section 12). Anyone gets the public bundle; partner staff and partner systems
(verify scope) get their organisation's, with their offers and eligibility lists."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import check_api_scope, is_partner_caller, public
from webapp.api.views import blueprint
from webapp.db import get_session
from webapp.extensions import hot_path_limit
from webapp.faults import long_request
from webapp.keyring import current_keyring
from webapp.models import Organisation, utcnow
from webapp.services.partners.api_keys import SCOPE_VERIFY
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.trust.bundle import TOKEN_TYPE, BundleSettings, SignedBundle, audience_of, current_bundle
from webapp.services.trust.signing_keys import SigningKeyError
from webapp.settings import current_settings


def _bundle_limit() -> str:
    return current_settings().VERIFY_RATE_LIMIT


@blueprint.get("/bundle")
@long_request  # the status list is signed again when stale (eligibility lists are built by jobs)
@public
@hot_path_limit(_bundle_limit, scope="bundle")  # capacity only
def bundle() -> Response:
    """The bundle with an ETag of its content: an app that holds it already gets 304."""
    session = get_session()
    organisation = None
    if is_partner_caller():
        check_api_scope(SCOPE_VERIFY)
        organisation = session.get(Organisation, current_user.organisation_id)
    settings = current_settings()
    try:
        signed = current_bundle(
            session,
            current_keyring(),
            BundleSettings(
                public_base_url=settings.PUBLIC_BASE_URL,
                public_max_age=timedelta(hours=settings.PUBLIC_BUNDLE_MAX_AGE_HOURS),
                list_validity=timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS),
                list_ttl_seconds=settings.STATUS_LIST_MAX_AGE_SECONDS,
            ),
            organisation,
            # Lists are never built here: a stale one is rebuilt by a job, asked for as this commits.
            ask_rebuild=lambda offer_id: ask_rebuild(session, offer_id),
        )
        _last_signed()[audience_of(organisation)] = signed
    except SigningKeyError as refusal:
        signed = _last_signed_still_valid(audience_of(organisation), refusal)
    response = Response(signed.token, mimetype=f"application/{TOKEN_TYPE}")
    response.set_etag(signed.content_tag)
    response = response.make_conditional(request)
    # Always revalidated (a revoked card must reach the phones at their next refresh); a partner's
    # bundle is for that partner only.
    response.cache_control.no_cache = True
    if organisation is None:
        response.cache_control.public = True
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response.cache_control.private = True
        response.vary.add("Authorization")
        response.vary.add("Cookie")
    return response


def _last_signed() -> dict[str, SignedBundle]:
    """The last bundle this worker signed for each audience (kept in memory: a bundle is signed on
    every request, and stays good until its exp)."""
    return current_app.extensions.setdefault("last_signed_bundles", {})


def _last_signed_still_valid(audience: str, refusal: SigningKeyError) -> SignedBundle:
    """Signing is unavailable (the key's file missing or unreadable): the last bundle signed for
    this audience while it is unexpired, else the refusal saying what is wrong with the key."""
    last = _last_signed().get(audience)
    if last is None or last.expires_at is None or last.expires_at <= utcnow():
        raise refusal
    current_app.logger.error("bundle for %s not signed again: serving the last signed one (%s)", audience, refusal)
    return last
