"""The bundle vector of docs/card-token-vectors.json (docs/card-token.md section 12) holds for the
server's reader: the same vector runs through the browser module in tests/js/card-verifier.test.mjs."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from webapp.services.trust.bundle import BundleUnusable, import_jwks, read_bundle, verify_with_bundle

DOCS = Path(__file__).resolve().parents[3] / "docs"
VECTORS = json.loads((DOCS / "card-token-vectors.json").read_text(encoding="utf-8"))
BUNDLE = VECTORS["bundle"]
BASE_URL = VECTORS["public_base_url"]
NOW = datetime.fromtimestamp(VECTORS["verified_at_unix"], UTC)
TRUSTED = import_jwks(BUNDLE["trusted_jwks"])


def read(token: str, now: datetime = NOW):
    return read_bundle(token, TRUSTED, public_base_url=BASE_URL, now=now)


def test_the_bundle_vector_is_usable():
    """Audience, times, keys (the next key too), the status list and both offers with their lists."""
    bundle = read(BUNDLE["token"])
    payload = BUNDLE["payload"]
    assert bundle.audience == payload["aud"] == "partner:barid-al-maghrib"
    assert int(bundle.expires_at.timestamp()) == payload["exp"] == payload["iat"] + payload["max_age"]
    assert set(bundle.keys) == {key["kid"] for key in payload["jwks"]["keys"]}
    assert [offer.id for offer in bundle.offers] == [entry["id"] for entry in payload["offers"]]
    assert bundle.offers[0].quota == {"count": 20, "period": "month"} and bundle.offers[1].valid_until is None


@pytest.mark.parametrize("scan", BUNDLE["scans"], ids=[scan["name"] for scan in BUNDLE["scans"]])
def test_each_scan_with_the_bundle(scan):
    """With the bundle's keys, status list and offers, each scan gets its verdict and eligibility."""
    bundle = read(BUNDLE["token"])
    result = verify_with_bundle(
        scan["text"], public_base_url=BASE_URL, verifying_keys=bundle.keys, bundle=bundle, now=NOW
    )
    assert result.verdict == scan["verdict"]
    assert [{"id": offer_id, "eligible": eligible} for offer_id, eligible in result.offers] == scan["offers"]


@pytest.mark.parametrize(
    "scan", BUNDLE["scans_without_bundle"], ids=[scan["name"] for scan in BUNDLE["scans_without_bundle"]]
)
def test_each_scan_without_a_usable_bundle(scan):
    """Past the bundle's exp, a card that passes steps 1-6 cannot be confirmed, never valid (rule B3)."""
    keys = read(BUNDLE["token"]).keys
    with pytest.raises(BundleUnusable):
        read(BUNDLE["token"], now=datetime.fromtimestamp(BUNDLE["payload"]["exp"], UTC))
    result = verify_with_bundle(scan["text"], public_base_url=BASE_URL, verifying_keys=keys, bundle=None, now=NOW)
    assert result.verdict == scan["verdict"] and result.offers == ()


@pytest.mark.parametrize("vector", BUNDLE["rejected"], ids=[vector["name"] for vector in BUNDLE["rejected"]])
def test_bundles_an_app_must_not_rely_on(vector):
    """Unknown kid, wrong typ or issuer, inconsistent times, expired, damaged, a bad list inside: refused."""
    at = datetime.fromtimestamp(vector["at"], UTC) if vector["at"] is not None else NOW
    with pytest.raises(BundleUnusable) as refusal:
        read(vector["token"], now=at)
    assert (refusal.value.reason, refusal.value.detail) == (vector["reason"], vector["detail"])


@pytest.mark.parametrize(
    "scan", BUNDLE["scans_never_usable"], ids=[scan["name"] for scan in BUNDLE["scans_never_usable"]]
)
def test_each_scan_after_a_bundle_that_was_never_usable(scan):
    """Rule B9: a bundle read past its exp teaches no key: the app keeps its trusted keys and has no list."""
    with pytest.raises(BundleUnusable):
        read(BUNDLE["token"], now=datetime.fromtimestamp(BUNDLE["payload"]["exp"], UTC))
    result = verify_with_bundle(scan["text"], public_base_url=BASE_URL, verifying_keys=TRUSTED, bundle=None, now=NOW)
    assert result.verdict == scan["verdict"]


@pytest.mark.parametrize("vector", BUNDLE["accepted"], ids=[vector["name"] for vector in BUNDLE["accepted"]])
def test_bundles_with_members_the_document_does_not_name_are_read(vector):
    """Rule B7: unnamed members of the payload, an offer or a quota are ignored, the bundle is usable."""
    bundle = read(vector["token"])
    assert set(bundle.keys) == {key["kid"] for key in BUNDLE["payload"]["jwks"]["keys"]}
    assert [offer.id for offer in bundle.offers] == [entry["id"] for entry in BUNDLE["payload"]["offers"]]


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "kid": "p", "x": "A" * 64, "y": "A" * 64},
        {"kty": "EC", "crv": "P-256", "kid": 7, "x": "A" * 43, "y": "A" * 43},
        {"kty": "EC", "crv": "P-256", "kid": "short", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-256", "kid": "off the curve", "x": "A" * 43, "y": "A" * 43},
    ],
)
def test_keys_that_verify_nothing_are_left_out(jwk):
    """Only ES256 keys (P-256, 32-byte coordinates, a point of the curve) are imported."""
    good = VECTORS["jwks"]["keys"][0]
    assert list(import_jwks({"keys": [jwk, good]})) == [good["kid"]]
