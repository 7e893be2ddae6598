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


@pytest.mark.parametrize("digits", ["78", "0099", "99" * 10, "0a", "1 ", "00-1"])
def test_digits_that_are_no_base64url_character_are_malformed(digits):
    """A pair above 77, or a pair that is not two digits, is no token character: malformed."""
    with pytest.raises(MalformedToken):
        digits_to_token(digits)


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


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: dict, payload_json: str, key: ec.EllipticCurvePrivateKey = KEY) -> str:
    """A token with exactly this header and these payload bytes, correctly signed with ES256."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = f"{b64(json.dumps(header, separators=(',', ':')).encode())}.{b64(payload_json.encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def payload_json(**overrides) -> str:
    payload = claims().to_payload()
    payload.update(overrides)
    return json.dumps({k: v for k, v in payload.items() if v is not DROP}, separators=(",", ":"))


DROP = object()
GOOD_HEADER = {"alg": "ES256", "kid": "kid001"}


@pytest.mark.parametrize(
    ("shape", "error"),
    [
        ("{base}/v", MalformedToken),
        ("{base}/v#", MalformedToken),
        ("{base}/v#{digits_cut}", MalformedToken),
        ("{base}/v/#{digits}", NotACard),
        ("{base}/V#{digits}", NotACard),
        ("{base}/v?lang=ar#{digits}", NotACard),
        ("{base}/#{digits}", NotACard),
        ("{base}/x#{digits}", NotACard),
        ("{base}#{digits}", NotACard),
        ("{base}", NotACard),
        ("{base}.evil.example/v#{digits}", NotACard),
        ("http://carte.artisanat.ma/v#{digits}", NotACard),
        ("https://carte.artisanat.ma:443/v#{digits}", NotACard),
    ],
    ids=[
        "our-url-no-fragment",
        "our-url-empty-fragment",
        "our-url-cut-digits",
        "trailing-slash",
        "upper-case-path",
        "query",
        "root-path",
        "other-path",
        "no-path",
        "bare-origin",
        "look-alike-host",
        "http-scheme",
        "explicit-port",
    ],
)
def test_url_shapes_get_their_rejection(shape, error):
    """Our URL: PUBLIC_BASE_URL + exactly "/v" + a fragment; incomplete is malformed, other pages not_a_card."""
    digits = token_to_digits(sign_card_token(claims(), "kid001", KEY))
    scanned = shape.format(base=BASE_URL, digits=digits, digits_cut=digits[:-4])
    with pytest.raises(error):
        verify_card_token(extract_token(scanned, BASE_URL), KEYS)


@pytest.mark.parametrize(
    "scanned",
    ["HTTPS://Carte.Artisanat.MA/v#{digits}", "\r\n{base}/v#{digits}\r\n", "\t{base}/v#{token}"],
    ids=["scheme-and-host-any-case", "line-ends", "tab-and-plain-token"],
)
def test_our_url_in_any_case_and_with_surrounding_whitespace(scanned):
    """Scheme and host compare case-insensitively; leading and trailing whitespace is trimmed."""
    token = sign_card_token(claims(), "kid001", KEY)
    assert extract_token(scanned.format(base=BASE_URL, digits=token_to_digits(token), token=token), BASE_URL) == token


def test_a_truncated_signature_is_malformed_not_forged():
    """A signature shorter (or longer) than 86 characters is an incomplete code: scan again."""
    token = sign_card_token(claims(), "kid001", KEY)
    for damaged in (token[:-1], token[:-20], token + "A"):
        with pytest.raises(MalformedToken):
            verify_card_token(damaged, KEYS)


@pytest.mark.parametrize(
    ("header", "error"),
    [
        ({"alg": "ES256", "kid": "kid001", "typ": "JWT"}, NotACard),
        ({"alg": "ES256", "kid": "kid001", "crit": ["b64"], "b64": False}, NotACard),
        ({"alg": "ES256", "kid": "kid001", "b64": True}, NotACard),
        ({"alg": "ES256", "kid": "kid001", "jku": "https://evil.example/jwks.json"}, NotACard),
        ({"alg": "ES256", "kid": "kid001", "x5u": "https://evil.example/cert.pem"}, NotACard),
        ({"alg": "ES256", "kid": "kid001", "cty": "JWT"}, NotACard),
        ({"alg": "ES256"}, NotACard),
        ({"alg": "ES256", "kid": 1}, NotACard),
        ({"alg": "ES256", "kid": None}, NotACard),
        ({"kid": "kid001"}, BadSignature),
        ({"alg": "ES384", "kid": "kid001"}, BadSignature),
        ({"alg": "es256", "kid": "kid001"}, BadSignature),
        ({"alg": "ES256", "kid": "KID001"}, UnknownKey),
    ],
    ids=[
        "typ",
        "crit-b64",
        "b64",
        "jku",
        "x5u",
        "cty",
        "no-kid",
        "kid-number",
        "kid-null",
        "no-alg",
        "alg-es384",
        "alg-lower-case",
        "kid-other-case",
    ],
)
def test_header_members_other_than_alg_and_kid_are_refused(header, error):
    """The header is exactly alg ES256 and a string kid: alg first (bad_signature), then the members (not_a_card)."""
    with pytest.raises(error):
        verify_card_token(raw_token(header, payload_json()), KEYS)


@pytest.mark.parametrize(
    "payload",
    [
        payload_json(cn="K7M2Q9XH4W"),
        payload_json(cn="k7m2q9xh4v"),
        payload_json(cn="K7M2Q-9XH4V"),
        payload_json(cn="K7M2Q9XH4"),
        payload_json(cn=12345),
        payload_json(n=""),
        payload_json(n="A" * 41),
        payload_json(n=None),
        payload_json(t="XYZ"),
        payload_json(t="zel"),
        payload_json(r="13"),
        payload_json(r="3"),
        payload_json(r=3),
        payload_json(exp=1953158399.0),
        payload_json(exp="1953158399"),
        payload_json(exp=True),
        payload_json(exp=-1),
        payload_json(exp=253402300800),
        payload_json(sl=-1),
        payload_json(sl=3.0),
        payload_json(sl=True),
        payload_json(sl=False),
        payload_json(sl="42"),
        payload_json(sl=None),
        payload_json(sl=DROP),
        payload_json(exp=DROP),
        payload_json(extra="x"),
        '{"cn":"K7M2Q9XH4V","n":"A","t":"ZEL","r":"03","exp":1953158399,"sl":4.2e1}',
        "[1,2,3]",
        '"a card"',
    ],
    ids=[
        "cn-bad-check-character",
        "cn-lower-case",
        "cn-with-dash",
        "cn-too-short",
        "cn-number",
        "n-empty",
        "n-41-characters",
        "n-null",
        "t-not-in-table",
        "t-lower-case",
        "r-not-in-table",
        "r-one-digit",
        "r-number",
        "exp-float",
        "exp-string",
        "exp-boolean",
        "exp-negative",
        "exp-after-year-9999",
        "sl-negative",
        "sl-float-3.0",
        "sl-true",
        "sl-false",
        "sl-string",
        "sl-null",
        "sl-missing",
        "exp-missing",
        "extra-claim",
        "sl-exponent",
        "array",
        "string",
    ],
)
def test_signed_payloads_of_the_wrong_shape_are_not_cards(payload):
    """Exactly the six claims, each of its type and range (C1-C8): anything else, even well signed, is not_a_card."""
    with pytest.raises(NotACard):
        verify_card_token(raw_token(GOOD_HEADER, payload), KEYS)


def test_the_name_may_hold_40_characters_counted_as_code_points():
    """40 characters is the limit, counted in code points (an accented letter is one)."""
    token = raw_token(GOOD_HEADER, payload_json(n="É" * 40))
    assert verify_card_token(token, KEYS).name == "É" * 40


@pytest.mark.parametrize(
    "payload",
    [
        '{"cn":"K7M2Q9XH4V","exp":NaN}',
        '{"cn":"K7M2Q9XH4V","exp":Infinity}',
        '\ufeff{"cn":"K7M2Q9XH4V"}',
        '{"cn":"K7M2Q9XH4V"',
    ],
    ids=["nan", "infinity", "byte-order-mark", "unfinished-json"],
)
def test_payloads_that_are_not_strict_json_are_malformed(payload):
    """NaN, Infinity, a byte-order mark or broken JSON: malformed, as JSON.parse in a browser says."""
    with pytest.raises(MalformedToken):
        verify_card_token(raw_token(GOOD_HEADER, payload), KEYS)
