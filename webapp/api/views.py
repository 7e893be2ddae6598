"""The verification API: POST /api/v1/verify {"qr": "..."} -> a verdict in the caller's language."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import PARTNER_SYSTEM, public, roles_required
from webapp.db import get_database, get_session
from webapp.extensions import csrf, limiter
from webapp.i18n import current_language
from webapp.keyring import current_keyring
from webapp.models import Organisation, utcnow
from webapp.services.register.reference_data import region_name, trade_name
from webapp.services.verification import Verdict, VerificationResult, verify_scanned_text
from webapp.settings import current_settings
from webapp.verdicts import verdict_message

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
# JSON API, no cookie authentication: CSRF tokens do not apply.
csrf.exempt(blueprint)


def _verify_limit() -> str:
    return current_settings().VERIFY_RATE_LIMIT


@blueprint.post("/verify")
@public
@limiter.limit(_verify_limit)
def verify() -> tuple[Response, int]:
    checked_at = utcnow()
    body = request.get_json(force=True, silent=True)
    scanned = body.get("qr") if isinstance(body, dict) else None
    if not isinstance(scanned, str):
        error = "invalid_json" if not isinstance(body, dict) else "missing_qr"
        return _answer(VerificationResult(Verdict.MALFORMED), checked_at, error=error), 400
    # Read-only: a pooled connection, no ORM session or transaction to commit.
    with get_database().engine.connect() as connection:
        result = verify_scanned_text(
            connection,
            scanned,
            public_base_url=current_settings().PUBLIC_BASE_URL,
            verifying_keys=current_keyring().verifying_keys,
            now=checked_at,
        )
    return _answer(result, checked_at), 200


@blueprint.get("/me")
@roles_required(PARTNER_SYSTEM)
def who_am_i() -> Response:
    """For a partner's developer: which organisation and key the API sees (checks a key works)."""
    organisation = get_session().get(Organisation, current_user.organisation_id)
    assert organisation is not None  # the foreign key guarantees it
    response = jsonify(
        organisation={
            "id": organisation.id,
            "slug": organisation.slug,
            "name": organisation.name,
            "kind": organisation.kind_code,
        },
        api_key={"prefix": current_user.api_key_prefix, "scopes": sorted(current_user.scopes)},
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _answer(result: VerificationResult, checked_at: Any, error: str | None = None) -> Response:
    language = current_language()
    answer: dict[str, Any] = {"verdict": result.verdict.value, "reason": verdict_message(result.verdict)}
    if error:
        answer["error"] = error
    if result.claims is not None:
        claims = result.claims
        answer["card"] = {
            "number": claims.number,
            "name": claims.name,
            "trade": claims.trade,
            "trade_name": trade_name(claims.trade, language),
            "region": claims.region,
            "region_name": region_name(claims.region, language),
            "expires": claims.expiry_date.isoformat(),  # the date in Morocco, as printed on the card
        }
    answer["checked_at"] = checked_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return response
