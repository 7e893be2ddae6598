"""The published test vectors (docs/card-token-vectors.json) hold for this implementation."""

import base64
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest

from webapp.services.cards.tokens import (
    TokenRejected,
    digits_to_token,
    extract_token,
    qr_text,
    verify_card_token,
)
from webapp.services.trust import status_list
from webapp.services.trust.signing_keys import jwk_thumbprint, public_key_from_jwk

DOCS = Path(__file__).resolve().parents[3] / "docs"
VECTORS = json.loads((DOCS / "card-token-vectors.json").read_text(encoding="utf-8"))
KEY = VECTORS["test_key"]
KEYS = {KEY["public_jwk"]["kid"]: public_key_from_jwk(KEY["public_jwk"])}
BASE_URL = VECTORS["public_base_url"]


def test_kid_is_the_thumbprint_prefix():
    """kid = first 6 characters of the RFC 7638 thumbprint of the test key."""
    assert jwk_thumbprint(KEY["public_jwk"]) == KEY["rfc7638_thumbprint"]
    assert KEY["public_jwk"]["kid"] == KEY["rfc7638_thumbprint"][:6]


def test_private_and_public_jwk_are_one_key():
    """The private JWK's d matches the public x, y (a verifier can sign its own test tokens)."""
    private = jwt.PyJWK(KEY["private_jwk"], algorithm="ES256")
    token = jwt.encode({"a": 1}, private.key, algorithm="ES256")
    assert jwt.decode(token, KEYS[KEY["public_jwk"]["kid"]], algorithms=["ES256"]) == {"a": 1}


def test_the_valid_card_vector_verifies():
    """The token verifies with the test key, to the documented claims and header."""
    card = VECTORS["valid_card"]
    claims = verify_card_token(card["token"], KEYS)
    assert jwt.get_unverified_header(card["token"]) == card["header"]
    assert claims.to_payload() == card["claims"]
    assert claims.expires_at > datetime(2026, 11, 22, tzinfo=UTC)


def test_the_qr_text_vector():
    """The QR text is the verify URL plus the token's digits, and decodes back to the token."""
    card = VECTORS["valid_card"]
    assert qr_text(BASE_URL, card["token"]) == card["qr_text"]
    assert digits_to_token(card["qr_text"].removeprefix(BASE_URL + "/v#")) == card["token"]
    assert extract_token(card["qr_text"], BASE_URL) == card["token"]


@pytest.mark.parametrize("vector", VECTORS["rejected"], ids=[v["name"] for v in VECTORS["rejected"]])
def test_rejected_vectors(vector):
    """Each rejected input gives its documented verdict."""
    scanned = vector.get("qr_text") or vector["token"]
    with pytest.raises(TokenRejected) as rejection:
        verify_card_token(extract_token(scanned, BASE_URL), KEYS)
    assert rejection.value.verdict == vector["verdict"]


def test_the_status_list_vector():
    """The documented lst decodes to the documented statuses."""
    example = VECTORS["status_list_example"]
    lst = example["lst"]
    packed = zlib.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)))
    assert len(packed) == example["size"] * example["bits"] // 8
    for index in range(example["size"]):
        assert status_list.read_status(packed, index) == example["statuses"].get(str(index), 0)


def test_the_document_shows_the_vectors():
    """docs/card-token.md embeds the same token and QR text as the JSON file."""
    document = (DOCS / "card-token.md").read_text(encoding="utf-8")
    assert VECTORS["valid_card"]["token"] in document
    assert VECTORS["valid_card"]["qr_text"] in document
    assert VECTORS["status_list_example"]["lst"] in document
