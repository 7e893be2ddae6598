"""The trust bundle (DESIGN decision 5): everything a verifier app needs to verify cards offline,
in one signed token (`typ: "bundle+jwt"`), specified in docs/card-token.md section 12.

    {"iss", "aud", "iat", "exp", "max_age",
     "jwks": {"keys": [...]},            # every key that verifies cards
     "status_list": "<statuslist+jwt>",  # the card status list, as /statuslists/1 serves it
     "offers": [ ... ]}                  # partner staff only: their offers that apply today,
                                         # each with its eligibility list token

`max_age` is how long the app may rely on the bundle for its audience (a lender's staff 24 h, a
transporter's 72 h, the public 7 days...): past `iat + max_age` it never says "valid". `exp` is
that same limit, so a bundle's own signature check refuses a stale one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.orm import Session

from webapp.models import Offer, Organisation, utcnow
from webapp.services.partners.eligibility import current_eligibility_list
from webapp.services.partners.offers import applicable_offers
from webapp.services.partners.rules import moroccan_today
from webapp.services.trust.signing_keys import Keyring
from webapp.services.trust.status_list import current_status_list

TOKEN_TYPE = "bundle+jwt"
PUBLIC_AUDIENCE = "public"


@dataclass(frozen=True)
class BundleSettings:
    public_base_url: str
    public_max_age: timedelta
    list_validity: timedelta
    list_ttl_seconds: int


@dataclass(frozen=True)
class SignedBundle:
    token: str
    # Changes only when what the bundle says changes (not its signing time): the HTTP ETag, so an
    # app that already holds the content gets 304 and no new download.
    content_tag: str
    max_age: timedelta


def audience_of(organisation: Organisation | None) -> str:
    return PUBLIC_AUDIENCE if organisation is None else f"partner:{organisation.slug}"


def _offer_entry(offer: Offer, eligibility_token: str) -> dict[str, Any]:
    texts = {
        what: {language: getattr(offer, f"{what}_{language}") for language in ("fr", "ar", "en")}
        for what in ("name", "benefit")
    }
    return {
        "id": offer.id,
        **texts,
        "valid_until": offer.valid_until.isoformat() if offer.valid_until else None,
        "quota": {"count": offer.quota_count, "period": offer.quota_period.value} if offer.quota_period else None,
        "fields": offer.fields,
        "eligibility": eligibility_token,
    }


def current_bundle(
    session: Session,
    keyring: Keyring,
    settings: BundleSettings,
    organisation: Organisation | None,
    now: datetime | None = None,
) -> SignedBundle:
    """The bundle for the public (organisation None) or for one partner organisation's staff."""
    now = now or utcnow()
    signer = keyring.require_signer()
    max_age = settings.public_max_age
    if organisation is not None:
        max_age = timedelta(hours=organisation.kind.max_bundle_age_hours)
    # The lists inside must outlive the bundle: no list may expire while the app still relies on it.
    max_age = min(max_age, settings.list_validity)
    lists = {
        "public_base_url": settings.public_base_url,
        "validity": settings.list_validity,
        "ttl_seconds": settings.list_ttl_seconds,
        "now": now,
        "min_remaining": max_age,
    }
    status_list = current_status_list(
        session,
        signer,
        subject=f"{settings.public_base_url}/statuslists/1",
        validity=settings.list_validity,
        ttl_seconds=settings.list_ttl_seconds,
        now=now,
        min_remaining=max_age,
    )
    offers: list[dict[str, Any]] = []
    if organisation is not None:
        for offer in applicable_offers(session, organisation.id, moroccan_today(now)):
            eligibility = current_eligibility_list(session, offer, signer, **lists)
            offers.append(_offer_entry(offer, eligibility.signed_token))
    content = {
        "iss": settings.public_base_url,
        "aud": audience_of(organisation),
        "max_age": int(max_age.total_seconds()),
        "jwks": {"keys": keyring.published_jwks},
        "status_list": status_list.token,
        "offers": offers,
    }
    content_tag = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()[:32]
    payload = {**content, "iat": int(now.timestamp()), "exp": int((now + max_age).timestamp())}
    token = jwt.encode(payload, signer.private_key, algorithm="ES256", headers={"kid": signer.kid, "typ": TOKEN_TYPE})
    return SignedBundle(token, content_tag, max_age)
