"""The verification API: POST /api/v1/verify {"qr": "..."} -> a verdict in the caller's language."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, jsonify, request
from flask_login import current_user
from werkzeug.wrappers import Response

from webapp.access import PARTNER_SYSTEM, check_api_scope, is_partner_caller, partner_access, public, roles_required
from webapp.api.schemas import EligibilityQuery, RedemptionRequestBody, Refusal, VerifyRequest, parse, reads_json
from webapp.card_checks import note_partner_check
from webapp.db import get_database, get_session
from webapp.extensions import csrf, hot_path_limit
from webapp.i18n import current_language
from webapp.keyring import current_keyring
from webapp.models import PARTNER_ROLES, Organisation, utcnow
from webapp.services.audit import Actor
from webapp.services.cards.checks import note_check
from webapp.services.cards.holders import CardVerdict, card_verdict
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.cards.tokens import TokenRejected
from webapp.services.partners.api_keys import SCOPE_ELIGIBILITY, SCOPE_REDEEM, SCOPE_VERIFY
from webapp.services.partners.eligibility import OfferStanding, card_standing, offers_for_card
from webapp.services.partners.redemptions import (
    Recorder,
    RedemptionRequest,
    claim_idempotency_key,
    record_redemption,
    redemption_json,
    request_fingerprint,
    store_idempotent_answer,
)
from webapp.services.register.reference_data import region_name, trade_name
from webapp.services.verification import (
    Verdict,
    VerificationResult,
    read_card,
    status_changed_on,
    verify_scanned_text,
)
from webapp.settings import current_settings
from webapp.verdicts import verdict_message

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
# JSON API, no cookie authentication: CSRF tokens do not apply.
csrf.exempt(blueprint)


def _verify_limit() -> str:
    return current_settings().VERIFY_RATE_LIMIT


@blueprint.post("/verify")
@reads_json(VerifyRequest)
@public
@hot_path_limit(_verify_limit, scope="verify")
def verify() -> tuple[Response, int]:
    checked_at = utcnow()
    try:
        body = parse(VerifyRequest, request.get_json(force=True, silent=True))
    except Refusal as refusal:
        return _answer(VerificationResult(Verdict.MALFORMED), checked_at, error=refusal.code), 400
    partner = is_partner_caller()
    if partner:
        check_api_scope(SCOPE_VERIFY)
    # A pooled connection, no ORM session: the verdict is read-only. An anonymous check adds one to the
    # card's count for the month, one statement committed on its own; a partner's is recorded in the
    # request's transaction below. A failure to record is logged, never answered
    # (webapp/services/cards/checks.py).
    with get_database().engine.connect() as connection:
        result = verify_scanned_text(
            connection,
            body.qr,
            public_base_url=current_settings().PUBLIC_BASE_URL,
            verifying_keys=current_keyring().verifying_keys,
            now=checked_at,
        )
        # Rule A3: the date of the change that made the card revoked or suspended, only when the card at
        # the token's index is the token's own (under rule L4 it is another card's: not shown, and the
        # check is nobody's to record).
        own_card = result.claims is not None and result.own_index
        changed_on = status_changed_on(connection, result.claims.number, result.verdict) if own_card else None
        if own_card and not partner:
            note_check(connection, result.claims.number, None, checked_at)
    answer = _answer(result, checked_at, status_since=changed_on)
    if partner:
        if own_card:
            note_partner_check(result.claims.number, "scan", body.place, checked_at)
        # Rule A4: a valid card's standing; under rule L4 (its index holds another card) neither card's.
        valid_number = result.claims.number if result.verdict == Verdict.VALID and own_card else None
        standings = offers_for_card(get_session(), current_user.organisation_id, valid_number, checked_at)
        answer = _with_json(answer, offers=[offer_json(standing) for standing in standings])
    return answer, 200


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


def offer_json(standing: OfferStanding) -> dict[str, Any]:
    """One of the caller's offers for one card, in the caller's language (DESIGN decision 7: the
    failed conditions' labels, never the holder's attributes)."""
    language = current_language()
    return {
        "id": standing.offer.id,
        "name": standing.offer.name(language),
        "benefit": standing.offer.benefit(language),
        "eligible": standing.eligibility.eligible,
        "failed": [label.get(language) or label["fr"] for label in standing.eligibility.failed],
        "remaining": standing.remaining,
    }


def _with_json(response: Response, **members: Any) -> Response:
    """The JSON response with more members (the verdict first, the partner's offers after)."""
    response.set_data(json.dumps(response.get_json() | members, ensure_ascii=False, separators=(",", ":")))
    return response


def _redemption_limit() -> str:
    return current_settings().REDEMPTION_RATE_LIMIT


@blueprint.post("/redemptions")
@reads_json(RedemptionRequestBody)
@partner_access(SCOPE_REDEEM)
@hot_path_limit(_redemption_limit, scope="redemptions")  # capacity only
def record_redemption_view() -> tuple[Response, int]:
    """Record that a card holder used one of the caller's offers (Idempotency-Key required)."""
    body = request.get_json(force=True, silent=True)
    try:
        members = parse(RedemptionRequestBody, body)
    except Refusal as refusal:
        return _refusal(refusal.code, refusal.message), 400
    request_made = RedemptionRequest(
        card=members.card,
        offer_id=members.offer,
        fields=members.fields,
        made_at=members.made_at,
        offline=members.offline,
    )
    session = get_session()
    organisation_id = current_user.organisation_id
    key = request.headers.get("Idempotency-Key")
    fingerprint = request_fingerprint(request.method, request.path, body)
    replay = claim_idempotency_key(session, organisation_id, key, fingerprint)
    if replay is not None:
        # The first answer again, headers included (only accepted redemptions are stored: a refusal
        # rolls its claim back).
        response = jsonify(replay.response)
        response.headers["Idempotent-Replayed"] = "true"
        response.headers["Location"] = _redemption_location(replay.response["id"])
        return response, replay.status_code
    settings = current_settings()
    verifying_keys = current_keyring().verifying_keys

    def read_scanned(text: str) -> str | None:
        try:
            return read_card(text, settings.PUBLIC_BASE_URL, verifying_keys).number
        except TokenRejected:
            return None

    recorded = record_redemption(session, request_made, _recorder(), read_scanned=read_scanned)
    answer = redemption_json(recorded.redemption, recorded.remaining)
    store_idempotent_answer(session, organisation_id, key or "", 201, answer)
    response = jsonify(answer)
    response.headers["Location"] = _redemption_location(recorded.redemption.id)
    return response, 201


def _redemption_location(redemption_id: int) -> str:
    return f"/api/v1/redemptions/{redemption_id}"


def _refusal(code: str, message: str, status: int = 400) -> Response:
    response = jsonify(error=code, reason=message, message=message)
    response.status_code = status
    return response


def _recorder() -> Recorder:
    if current_user.role == PARTNER_SYSTEM:
        return Recorder(
            Actor(f"api_key:{current_user.api_key_prefix}"),
            current_user.organisation_id,
            api_key_id=current_user.api_key_id,
        )
    return Recorder(
        Actor(f"user:{current_user.id}", current_user.id), current_user.organisation_id, user_id=current_user.id
    )


@blueprint.get("/eligibility")
@partner_access(SCOPE_ELIGIBILITY)
def eligibility() -> Response:
    """For lenders' systems: is this card valid, and which of our offers may its holder use?"""
    try:
        query = parse(EligibilityQuery, request.args.to_dict())
        canonical = normalize_card_number(query.card)
    except Refusal as refusal:
        return _refusal(refusal.code, refusal.message)
    if canonical is None:  # the check character is wrong
        code, message = EligibilityQuery.REFUSALS[""]
        return _refusal(code, str(message))
    now = utcnow()
    standing = card_standing(get_session(), current_user.organisation_id, canonical, now)
    if standing.card is not None:
        note_partner_check(canonical, "number", query.place, now)
    answer: dict[str, Any] = {
        "card": {"number": canonical, "valid": standing.state == "active", "state": standing.state},
        "offers": [offer_json(offer) for offer in standing.offers],
        "checked_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    if standing.card is not None and current_user.role in PARTNER_ROLES:
        # A number proves nothing about the person at the counter: partner staff (the verifier app)
        # get the holder's name in both scripts to compare with that person and their ID, as the
        # card's face would show it. A partner system (a lender's key) sees eligibility only.
        answer["holder"] = _holder_json(card_verdict(get_session(), standing.card, now))
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = current_language()
    return response


def card_json(
    number: str,
    name: str,
    trade: str,
    region: str,
    expires: date,
    *,
    name_ar: str | None = None,
    status_since: date | None = None,
) -> dict[str, Any]:
    """A card as the API shows it (the `Card` schema), in the caller's language: from a verified token
    (POST /verify) or from the register (the holder of a number, for partner staff)."""
    language = current_language()
    card = {
        "number": number,
        "name": name,
        "trade": trade,
        "trade_name": trade_name(trade, language),
        "region": region,
        "region_name": region_name(region, language),
        "expires": expires.isoformat(),  # the date in Morocco, as printed on the card
    }
    if name_ar:
        card["name_ar"] = name_ar
    if status_since is not None:
        card["status_since"] = status_since.isoformat()  # revoked or suspended on that day
    return card


def _holder_json(found: CardVerdict) -> dict[str, Any]:
    """The holder of a card read from the register, as the `Card` schema shows a verified card."""
    artisan = found.card.artisan
    return card_json(
        found.card.number,
        artisan.name_latin,
        artisan.trade_code,
        artisan.region_code,
        found.expiry_date,
        name_ar=artisan.name_ar,
        status_since=found.status_since,
    )


def _answer(
    result: VerificationResult, checked_at: Any, error: str | None = None, status_since: date | None = None
) -> Response:
    language = current_language()
    answer: dict[str, Any] = {"verdict": result.verdict.value, "reason": verdict_message(result.verdict)}
    if error:
        answer["error"] = error
    if result.claims is not None:
        claims = result.claims
        answer["card"] = card_json(
            claims.number,
            claims.name,
            claims.trade,
            claims.region,
            claims.expiry_date,
            name_ar=result.name_ar,
            status_since=status_since,
        )
    if result.presentation is not None:
        answer["presentation"] = result.presentation  # "live" from the holder's phone, or "printed"
    if result.replay is not None:
        answer["replay"] = result.replay  # why a live code is replayed: "window" or "device_replaced"
    answer["checked_at"] = checked_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Language"] = language
    return response
