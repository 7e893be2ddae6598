"""The card token: minimal ES256 JWS, carried in the QR text as digits after our verify URL."""

import base64
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from webapp.services.cards.numbers import new_card_number
from webapp.services.cards.tokens import (
    BadSignature,
    CardClaims,
    MalformedToken,
    NotACard,
    UnknownKey,
    digits_to_token,
    extract_token,
    qr_text,
    sign_card_token,
    token_to_digits,
    verify_card_token,
)

BASE_URL = "https://carte.artisanat.ma"
KEY = ec.generate_private_key(ec.SECP256R1())
KEYS = {"kid001": KEY.public_key()}


def claims(**overrides) -> CardClaims:
    values = {
        "number": new_card_number(),
        "name": "Khadija Bennani",
        "trade": "ZEL",
        "region": "03",
        "expires_at": datetime(2031, 11, 22, 23, 59, 59, tzinfo=UTC),
        "status_index": 42,
    }
    values.update(overrides)
    return CardClaims(**values)


def decode_segment(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_header_has_only_alg_and_kid():
    """No typ header: every byte counts in the QR code."""
    token = sign_card_token(claims(), "kid001", KEY)
    assert decode_segment(token.split(".")[0]) == {"alg": "ES256", "kid": "kid001"}


def test_payload_has_only_the_minimal_claims():
    """Card number, Latin name, trade, region, expiry and status index: nothing else (no CIN, no Arabic)."""
    card = claims()
    payload = decode_segment(sign_card_token(card, "kid001", KEY).split(".")[1])
    assert payload == {"cn": card.number, "n": "Khadija Bennani", "t": "ZEL", "r": "03", "exp": 1953158399, "sl": 42}


def test_a_signed_token_verifies_to_its_claims():
    """Round trip: what was signed is what verification returns."""
    card = claims()
    assert verify_card_token(sign_card_token(card, "kid001", KEY), KEYS) == card


def test_qr_text_is_the_verify_url_with_the_token_as_digits():
    """Two digits per character, code point minus 45, after PUBLIC_BASE_URL/v#."""
    token = sign_card_token(claims(), "kid001", KEY)
    text = qr_text(BASE_URL, token)
    assert text.startswith("https://carte.artisanat.ma/v#")
    digits = text.removeprefix("https://carte.artisanat.ma/v#")
    assert digits.isdigit() and len(digits) == 2 * len(token)
    assert digits_to_token(digits) == token
    assert token_to_digits("-.z") == "000177"


@pytest.mark.parametrize(
    "form",
    [
        lambda token: qr_text(BASE_URL, token),
        lambda token: token,
        lambda token: token_to_digits(token),
        lambda token: f"{BASE_URL}/v#{token}",
        lambda token: f"  {qr_text(BASE_URL, token).replace('https://carte', 'HTTPS://CARTE')}\n",
    ],
    ids=["printed-qr", "bare-token", "bare-digits", "url-with-plain-token", "upper-case-host-and-spaces"],
)
def test_scanners_accept_every_form_of_the_token(form):
    """The printed QR text, the bare token and their variants all yield the token."""
    token = sign_card_token(claims(), "kid001", KEY)
    assert extract_token(form(token), BASE_URL) == token


@pytest.mark.parametrize(
    ("scanned", "error"),
    [
        ("", MalformedToken),
        ("   ", MalformedToken),
        ("https://example.com/v#1234", NotACard),
        ("https://carte.artisanat.ma.evil.example/v#1234", NotACard),
        ("WIFI:S:souk;T:WPA;P:secret;;", NotACard),
        ("tel:+212600000000", NotACard),
        ("Bonjour, ceci est un QR code", NotACard),
        ("eyJhbGciOiJFUzI1NiJ9.eyJjbiI6", MalformedToken),
        (f"{BASE_URL}/v#12345", MalformedToken),
        (f"{BASE_URL}/v#9999", MalformedToken),
        (f"{BASE_URL}/v#", MalformedToken),
        ("x" * 5000, NotACard),
    ],
    ids=[
        "empty",
        "blank",
        "another-site",
        "look-alike-host",
        "wifi-code",
        "phone-number",
        "plain-text",
        "truncated-token",
        "odd-digits",
        "digits-out-of-range",
        "empty-fragment",
        "huge-text",
    ],
)
def test_texts_that_hold_no_token_are_refused(scanned, error):
    """Each unusable text raises the rejection that names its verdict."""
    with pytest.raises(error):
        extract_token(scanned, BASE_URL)


def test_another_key_gives_bad_signature():
    """A token signed by a different key under a known kid fails its signature."""
    token = sign_card_token(claims(), "kid001", ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(BadSignature):
        verify_card_token(token, KEYS)


def test_an_unknown_kid_gives_unknown_key():
    """A kid that is not in the keyring is an unknown key."""
    token = sign_card_token(claims(), "other1", KEY)
    with pytest.raises(UnknownKey):
        verify_card_token(token, KEYS)


def test_a_signed_json_without_card_claims_is_not_a_card():
    """Our key's signature on something else (here: no card number) is not a card."""
    import jwt

    token = jwt.encode({"hello": "world"}, KEY, algorithm="ES256", headers={"kid": "kid001", "typ": None})
    with pytest.raises(NotACard):
        verify_card_token(token, KEYS)


def test_a_token_with_a_typ_header_is_not_a_card():
    """Status lists are signed by the same keys but carry typ: they are never accepted as cards."""
    import jwt

    token = jwt.encode(claims().to_payload(), KEY, algorithm="ES256", headers={"kid": "kid001", "typ": "JWT"})
    with pytest.raises(NotACard):
        verify_card_token(token, KEYS)
