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

`read_bundle` reads a bundle as the verifier apps do (rules B1-B5), with the same checks in the same
order as static/js/lib/card-verifier.js; the bundle vector of docs/card-token-vectors.json runs
through both.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode
from sqlalchemy.orm import Session

from webapp.models import Offer, Organisation, QuotaPeriod, utcnow
from webapp.services.cards.tokens import CardClaims, TokenRejected
from webapp.services.errors import N_, DomainError
from webapp.services.partners.eligibility import ELIGIBILITY_BITS, eligibility_subject, served_eligibility_list
from webapp.services.partners.offers import applicable_offers
from webapp.services.partners.rules import moroccan_today
from webapp.services.trust.jws import read_signed_payload
from webapp.services.trust.signing_keys import Keyring
from webapp.services.trust.status_list import (
    BITS,
    StatusList,
    StatusListUnusable,
    current_status_list,
    expires_at,
    read_status_list_token,
)

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
    # The bundle's exp: a verifier relies on it until then (a copy may be served until then too).
    expires_at: datetime | None = None


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


# A bundle shorter than this is not worth carrying an offer's list: the offer waits for its rebuild.
_MIN_LIST_LIFE = timedelta(hours=1)


def current_bundle(
    session: Session,
    keyring: Keyring,
    settings: BundleSettings,
    organisation: Organisation | None,
    now: datetime | None = None,
    *,
    ask_rebuild: Callable[[int], None] = lambda _offer_id: None,
) -> SignedBundle:
    """The bundle for the public (organisation None) or for one partner organisation's staff.

    Offers' eligibility lists are the last ones signed (a request never builds one: a stale list is
    served while the `eligibility_lists` job rebuilds it, asked for with `ask_rebuild(offer_id)`).
    An offer whose list is not built yet, or has less than an hour left, is left out until it is;
    the bundle's `max_age` never outlasts a list it carries (rule B4).
    """
    now = now or utcnow()
    max_age = settings.public_max_age
    if organisation is not None:
        max_age = timedelta(hours=organisation.kind.max_bundle_age_hours)
    # The lists inside must outlive the bundle: no list may expire while the app still relies on it.
    max_age = min(max_age, settings.list_validity)
    offers: list[dict[str, Any]] = []
    if organisation is not None:
        for offer in applicable_offers(session, organisation.id, moroccan_today(now)):
            eligibility = served_eligibility_list(
                session, offer, validity=settings.list_validity, now=now, ask_rebuild=ask_rebuild
            )
            expires = expires_at(eligibility.signed_token) if eligibility is not None else None
            if eligibility is None or expires is None or expires - now < _MIN_LIST_LIFE:
                ask_rebuild(offer.id)
                continue
            if expires - now < max_age:
                # Whole hours: the content tag (the ETag) stays the same from one request to the next.
                max_age = timedelta(hours=(expires - now) // timedelta(hours=1))
            offers.append(_offer_entry(offer, eligibility.signed_token))
    status_list = current_status_list(
        session,
        keyring.require_signer,  # asked only if the list must be signed again
        subject=f"{settings.public_base_url}/statuslists/1",
        validity=settings.list_validity,
        ttl_seconds=settings.list_ttl_seconds,
        now=now,
        min_remaining=max_age,
    )
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
    signer = keyring.require_signer()  # the bundle itself is signed on every request
    token = jwt.encode(payload, signer.private_key, algorithm="ES256", headers={"kid": signer.kid, "typ": TOKEN_TYPE})
    return SignedBundle(token, content_tag, max_age, datetime.fromtimestamp(payload["exp"], UTC))


# --- Reading a bundle, as a verifier app does (docs/card-token.md section 12) ---


class BundleUnusable(DomainError):
    """A bundle a verifier must not rely on; `reason` says why (a code), `detail` a list's own reason."""

    code = "bundle_unusable"
    http_status = 502
    message = N_("The trust bundle cannot be used (%(reason)s): cards cannot be verified offline.")

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason=reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class BundleOffer:
    id: int
    name: dict[str, str]
    benefit: dict[str, str]
    quota: dict[str, Any] | None
    fields: list[Any]
    valid_until: str | None
    eligibility: StatusList


@dataclass(frozen=True)
class Bundle:
    audience: str
    issued_at: datetime
    expires_at: datetime
    max_age: timedelta
    keys: dict[str, ec.EllipticCurvePublicKey]  # rule B5: the keys the app trusts after this bundle
    jwks: dict[str, Any]
    status_list: StatusList
    offers: tuple[BundleOffer, ...]


_COORDINATE_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANGUAGES = ("fr", "ar", "en")
QUOTA_PERIODS = frozenset(period.value for period in QuotaPeriod)


def _is_integer(value: Any) -> bool:
    return type(value) is int  # a JSON integer literal (rule C8): not a bool, not 3.0


def import_jwks(jwks: Any) -> dict[str, ec.EllipticCurvePublicKey]:
    """The ES256 keys of a JWK Set by kid; a key of another kind, or not a P-256 point, is left out
    (as WebCrypto's importKey refuses it in the browser)."""
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    for jwk in entries if isinstance(entries, list) else []:
        if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            continue
        kid, x, y = jwk.get("kid"), jwk.get("x"), jwk.get("y")
        if not (
            isinstance(kid, str) and all(isinstance(value, str) and _BASE64URL.fullmatch(value) for value in (x, y))
        ):
            continue
        try:
            coordinates = [base64url_decode(value) for value in (x, y)]  # type: ignore[arg-type]
            if any(len(coordinate) != _COORDINATE_BYTES for coordinate in coordinates):
                continue  # RFC 7518 6.2.1.2: the full 32 bytes, as WebCrypto requires
            numbers = ec.EllipticCurvePublicNumbers(*(int.from_bytes(c, "big") for c in coordinates), ec.SECP256R1())
            keys[kid] = numbers.public_key()  # type: ignore[index]
        except (binascii.Error, ValueError):
            continue  # not base64url, or not a point of the curve
    return keys


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(language), str) for language in _LANGUAGES)


def _is_day(value: Any) -> bool:
    """A real calendar day written YYYY-MM-DD (2027-02-30 is not one)."""
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _offer_shaped(entry: Any) -> bool:
    """Rule B6: the members the app reads, each of its type; other members are ignored (rule B7)."""
    if not isinstance(entry, dict):
        return False
    quota, valid_until, fields = entry.get("quota"), entry.get("valid_until"), entry.get("fields")
    return (
        _is_integer(entry.get("id"))
        and entry["id"] >= 0
        and _texts(entry.get("name"))
        and _texts(entry.get("benefit"))
        and (valid_until is None or _is_day(valid_until))
        and (
            quota is None
            or (
                isinstance(quota, dict)
                and _is_integer(quota.get("count"))
                and quota["count"] >= 1
                and quota.get("period") in QUOTA_PERIODS
            )
        )
        and isinstance(fields, list)
        and all(isinstance(field, dict) for field in fields)
        and isinstance(entry.get("eligibility"), str)
    )


def _offers_shaped(offers: Any) -> bool:
    """An array of offers (rule B6), each id once: two entries for one offer would give two answers."""
    if not isinstance(offers, list) or not all(_offer_shaped(entry) for entry in offers):
        return False
    return len({entry["id"] for entry in offers}) == len(offers)


def read_bundle(
    token: str, trusted_keys: Mapping[str, ec.EllipticCurvePublicKey], *, public_base_url: str, now: datetime
) -> Bundle:
    """Rules B1-B5: a bundle the app may rely on, or BundleUnusable with the reason."""
    payload = read_signed_payload(  # B1: typ, alg, a key the app already trusts, the signature
        token, trusted_keys, token_type=TOKEN_TYPE, refusal=BundleUnusable, wrong_type="not_a_bundle"
    )
    if payload.get("iss") != public_base_url:
        raise BundleUnusable("not_a_bundle")
    issued, expires, max_age = payload.get("iat"), payload.get("exp"), payload.get("max_age")
    jwks, offers = payload.get("jwks"), payload.get("offers")
    shaped = (
        isinstance(payload.get("aud"), str)
        and all(_is_integer(value) for value in (issued, expires, max_age))
        and max_age >= 0  # type: ignore[operator]
        and expires == issued + max_age  # type: ignore[operator]
        and isinstance(jwks, dict)
        and isinstance(jwks.get("keys"), list)
        and isinstance(payload.get("status_list"), str)
        and _offers_shaped(offers)
    )
    if not shaped:  # B2
        raise BundleUnusable("malformed")
    if int(now.timestamp()) >= expires:  # type: ignore[operator]
        raise BundleUnusable("expired")  # B3: the app says "cannot confirm", never "valid"
    keys = import_jwks(jwks)  # B4: the lists inside are read with the bundle's own keys

    def read_list(list_token: str, subject: str, bits: int, reason: str) -> StatusList:
        try:
            return read_status_list_token(list_token, keys, subject=subject, now=now, bits=bits)
        except StatusListUnusable as refusal:
            raise BundleUnusable(reason, refusal.reason) from None

    status_list = read_list(payload["status_list"], f"{public_base_url}/statuslists/1", BITS, "status_list_unusable")
    read_offers = tuple(
        BundleOffer(
            id=entry["id"],
            name=entry["name"],
            benefit=entry["benefit"],
            quota=entry["quota"],
            fields=entry["fields"],
            valid_until=entry["valid_until"],
            eligibility=read_list(
                entry["eligibility"],
                eligibility_subject(public_base_url, entry["id"]),
                ELIGIBILITY_BITS,
                "eligibility_list_unusable",
            ),
        )
        for entry in offers  # type: ignore[union-attr]
    )
    return Bundle(
        audience=payload["aud"],
        issued_at=datetime.fromtimestamp(issued, UTC),  # type: ignore[arg-type]
        expires_at=datetime.fromtimestamp(expires, UTC),  # type: ignore[arg-type]
        max_age=timedelta(seconds=max_age),  # type: ignore[arg-type]
        keys=keys,
        jwks=jwks,  # type: ignore[arg-type]
        status_list=status_list,
        offers=read_offers,
    )


@dataclass(frozen=True)
class OfflineScan:
    """What a verifier app shows for a scan: the verdict ("cannot_confirm" too), the card's claims when
    it passed steps 1-6, and each offer of the bundle with eligible or not."""

    verdict: str
    claims: CardClaims | None
    offers: tuple[tuple[int, bool], ...]


def verify_with_bundle(
    scanned: str,
    *,
    public_base_url: str,
    verifying_keys: Mapping[str, ec.EllipticCurvePublicKey],
    bundle: Bundle | None,
    now: datetime,
) -> OfflineScan:
    """Section 8 from a bundle, as the browser module's verifyScan: no usable bundle (expired, or none),
    and a card that passes steps 1-6 is "cannot_confirm" (rules S5, B3); an offer is eligible only for
    a valid card whose bit is 1 at the card's index (rule B5)."""
    # The verification module imports this package's lists.
    from webapp.services.verification import read_scan, verdict_for_scan

    offers = bundle.offers if bundle is not None else ()
    not_eligible = tuple((offer.id, False) for offer in offers)
    try:
        scan = read_scan(scanned, public_base_url, dict(verifying_keys))
    except TokenRejected as rejection:
        return OfflineScan(rejection.verdict, None, not_eligible)
    claims = scan.claims
    if bundle is None:
        return OfflineScan("cannot_confirm", claims, not_eligible)
    listed = bundle.status_list
    device_status = listed.status(claims.device_index) if claims.device_index is not None else None
    # A live code's window against the app's clock, its `ds` in the bundle's list (section 13).
    result = verdict_for_scan(scan, listed.status(claims.status_index), device_status, now)
    verdict = result.verdict.value
    if result.claims is None:
        return OfflineScan(verdict, None, not_eligible)
    eligible = tuple(
        (offer.id, verdict == "valid" and offer.eligibility.is_set(claims.status_index)) for offer in offers
    )
    return OfflineScan(verdict, claims, eligible)
