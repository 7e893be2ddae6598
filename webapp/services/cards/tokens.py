"""The card token (a compact ES256 JWS) and the QR text that carries it.

Format (docs/card-token.md is the full specification, with test vectors):
  header  {"alg":"ES256","kid":"<6 chars of the RFC 7638 thumbprint>"}   (no "typ")
  payload {"cn":card number,"n":Latin name,"t":trade code,"r":region code,"exp":unix time,"sl":status index}
  QR text PUBLIC_BASE_URL + "/v#" + the token as digits, two per character (code point - 45),
          so the token goes in a numeric QR segment (as SMART Health Cards do).
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from jwt.utils import base64url_decode, base64url_encode
from segno.consts import MODE_BYTE, MODE_NUMERIC

from webapp.clock import MOROCCO  # a card's expiry date is a date in Morocco: exp is its last second there
from webapp.services.cards.numbers import normalize_card_number
from webapp.services.register.reference_data import REGION_CODES, TRADE_CODES
from webapp.services.trust.jws import strict_json

ALGORITHM = "ES256"
# Rule C3: a verifier accepts a name of 1 to 40 code points, whatever their UTF-8 length.
MAX_NAME_LENGTH = 40
# Rule Q1: the QR code's size follows the name's UTF-8 bytes (the token writes it as UTF-8, not as
# \u escapes), not its characters. 56 bytes keep every card at version 12 or lower: all 40-letter
# ASCII names, and accented ones up to 56 bytes ("É" is 2 bytes). The register refuses longer names.
MAX_NAME_BYTES = 56
# The signature part may be empty: an unsigned ("alg": "none") token gets the verdict bad_signature.
_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# A live code (section 13): the token, the window number and the phone's signature, five parts.
_LIVE_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[0-9]+\.[A-Za-z0-9_-]*")
# A live code's window: floor(unix seconds / 30), decimal, no leading zeros.
WINDOW_SECONDS = 30
_WINDOW = re.compile(r"0|[1-9][0-9]*")
# ASCII digits only: Python's \d also matches Arabic-Indic digits, which no QR code of ours holds.
_DIGITS = re.compile(r"(?:[0-9][0-9])+")
# A URI scheme, ASCII letters only: with IGNORECASE alone, Python would also take "ſ" (U+017F) for "s"
# and "K" (U+212A) for "k", and JavaScript's regexes do not.
_URI_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE | re.ASCII)
# Rule U8: scheme and host are compared with ASCII case folding only (A-Z to a-z). str.lower() would
# also turn the Kelvin sign K (U+212A) into "k", and other foldings take "ı" or "ſ" for "i" or "s".
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_DIGIT_OFFSET = 45  # "-", the lowest character of base64url and "."
_MAX_CHAR = ord("z") - _DIGIT_OFFSET
# Hard cap on what we try to parse: a card token is ~300 characters, its digits ~600.
MAX_TEXT_LENGTH = 4096
# Trimmed from both ends of a scanned text (scanners add line ends); nothing else is.
_WHITESPACE = " \t\r\n"
VERIFY_PATH = "/v"
HEADER_MEMBERS = frozenset({"alg", "kid"})
CLAIM_NAMES = frozenset({"cn", "n", "t", "r", "exp", "sl"})
# A holder-bound token (the live QR's, docs/card-token.md section 11): the six claims, the phone's
# key (`cnf`, RFC 7800 style, compact member `k`) and the binding's status index (`ds`).
HOLDER_CLAIM_NAMES = CLAIM_NAMES | {"cnf", "ds"}
CONFIRMATION_MEMBERS = frozenset({"k"})
# A device key: base64url of the 65-byte uncompressed P-256 point 0x04||X||Y, no padding.
DEVICE_KEY_LENGTH = 87
_DEVICE_KEY = re.compile(r"[A-Za-z0-9_-]{87}")
# An ES256 signature is 64 bytes, so exactly 86 base64url characters.
SIGNATURE_LENGTH = 86
# 9999-12-31T23:59:59 in Morocco (UTC+1), 22:59:59Z: the last second an exp may name. Its date in
# Africa/Casablanca is still in year 9999, which every language's dates reach (rule C5).
MAX_EXPIRY = 253402297199


class TokenRejected(Exception):
    """Base of the reasons a scanned text is not a valid card token; `verdict` names it."""

    verdict = "malformed"


class MalformedToken(TokenRejected):
    verdict = "malformed"


class NotACard(TokenRejected):
    verdict = "not_a_card"


class UnknownKey(TokenRejected):
    verdict = "unknown_key"


class BadSignature(TokenRejected):
    verdict = "bad_signature"


@dataclass(frozen=True)
class CardClaims:
    number: str
    name: str
    trade: str
    region: str
    expires_at: datetime
    status_index: int
    # A holder-bound token's: the phone's key (cnf.k) and the binding's status index (ds); None on a printed card.
    device_key: str | None = None
    device_index: int | None = None

    @property
    def holder_bound(self) -> bool:
        return self.device_key is not None

    @property
    def expiry_date(self) -> date:
        """The date printed on the card: the day of `exp` in Morocco (Africa/Casablanca)."""
        return self.expires_at.astimezone(MOROCCO).date()

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "cn": self.number,
            "n": self.name,
            "t": self.trade,
            "r": self.region,
            "exp": int(self.expires_at.timestamp()),
            "sl": self.status_index,
        }
        if self.device_key is not None:
            payload["cnf"] = {"k": self.device_key}
            payload["ds"] = self.device_index
        return payload


_ES256 = ec.ECDSA(hashes.SHA256())


class CardTokenSigner:
    """Signs card tokens with one key. The header is encoded once; the bytes are those PyJWT makes
    (compact JSON, sorted header), but without its per-call overhead, which cost more than the
    ECDSA signature itself when issuing 622,000 cards."""

    def __init__(self, kid: str, private_key: ec.EllipticCurvePrivateKey) -> None:
        header = json.dumps({"alg": ALGORITHM, "kid": kid}, separators=(",", ":"), sort_keys=True)
        self._header = base64url_encode(header.encode("ascii")).decode("ascii")
        self._private_key = private_key

    def sign(self, claims: CardClaims) -> str:
        # UTF-8, not \u escapes (ensure_ascii=False): an accented letter costs 2 bytes, not 6 (rule Q1).
        claims_json = json.dumps(claims.to_payload(), separators=(",", ":"), ensure_ascii=False)
        payload = base64url_encode(claims_json.encode("utf-8")).decode("ascii")
        signing_input = f"{self._header}.{payload}"
        r, s = decode_dss_signature(self._private_key.sign(signing_input.encode("ascii"), _ES256))
        signature = base64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")
        return f"{signing_input}.{signature}"


def sign_card_token(claims: CardClaims, kid: str, private_key: ec.EllipticCurvePrivateKey) -> str:
    """The compact JWS of claims, header alg and kid only."""
    return CardTokenSigner(kid, private_key).sign(claims)


def sign_card_tokens(private_key_pem: bytes, kid: str, batch: list[CardClaims]) -> list[str]:
    """Sign a batch: a plain function of plain data, so a worker process can run it."""
    private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    signer = CardTokenSigner(kid, private_key)
    return [signer.sign(claims) for claims in batch]


def device_point(device_key: str) -> ec.EllipticCurvePublicKey | None:
    """The P-256 public key of a device key (87 base64url characters of 0x04||X||Y), or None when
    it is not one (not base64url, not 65 bytes, compressed, or a point off the curve)."""
    if not _DEVICE_KEY.fullmatch(device_key):
        return None
    raw = base64url_decode(device_key)
    if raw[0] != 0x04:
        return None  # uncompressed only, as WebCrypto exports it
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return None  # not on the curve


_CHAR_OF_PAIR = {f"{value:02d}": chr(value + _DIGIT_OFFSET) for value in range(_MAX_CHAR + 1)}


def token_to_digits(token: str) -> str:
    return "".join(f"{ord(char) - _DIGIT_OFFSET:02d}" for char in token)


def digits_to_token(digits: str) -> str:
    """Two digits per character; a pair above 77 (or not two digits) is no base64url character.

    The pairs are cut by slicing and looked up by map, loops that run in C: a third faster than a
    regex and a comprehension over the ~300 pairs of every verification.
    """
    pairs = map(operator.add, digits[0::2], digits[1::2])
    try:
        return "".join(map(_CHAR_OF_PAIR.__getitem__, pairs))
    except KeyError:
        raise MalformedToken() from None


def verify_page_prefix(public_base_url: str) -> str:
    return f"{public_base_url}{VERIFY_PATH}#"


def qr_text(public_base_url: str, token: str) -> str:
    """Exactly the text the printed QR code holds."""
    return verify_page_prefix(public_base_url) + token_to_digits(token)


def qr_segments(public_base_url: str, token: str) -> list[tuple[str, int]]:
    """The QR text as a byte segment (the URL) and a numeric segment (the token), as segno takes them."""
    return [(verify_page_prefix(public_base_url), MODE_BYTE), (token_to_digits(token), MODE_NUMERIC)]


def extract_token(scanned: str, public_base_url: str) -> str:
    """The compact token inside a scanned text: our verify URL, a bare token, or its digits; or a
    live code (the token and two more parts: rule V1).

    Rules U1-U7 of docs/card-token.md: "our URL" is PUBLIC_BASE_URL (scheme and host compared
    case-insensitively, ASCII letters only: rule U8) followed by exactly "/v" (case-sensitive, no
    query) and a fragment.
    """
    text = scanned.strip(_WHITESPACE)
    if not text:
        raise MalformedToken()
    if len(text) > MAX_TEXT_LENGTH:
        raise NotACard()
    origin = public_base_url
    if text[: len(origin)].translate(_ASCII_LOWER) == origin.translate(_ASCII_LOWER):
        rest = text[len(origin) :]
        if rest == VERIFY_PATH or rest.startswith(VERIFY_PATH + "#"):
            return _fragment_token(rest[len(VERIFY_PATH) + 1 :])  # no fragment, or an empty one: malformed
        if not rest or rest[0] in "/?#":
            raise NotACard()  # another page of our site ("/", "/v/", "/V", "/v?lang=ar"): not a card's QR
    if _URI_SCHEME.match(text):
        raise NotACard()  # another site's URL (look-alike hosts too), a phone number, a Wi-Fi code...
    if _DIGITS.fullmatch(text):
        return _fragment_token(text)
    if _JWS_SHAPE.fullmatch(text) or _LIVE_SHAPE.fullmatch(text):
        return text
    if text.startswith("eyJ"):
        raise MalformedToken()  # a damaged token: base64url of '{"' but not three parts
    raise NotACard()


def _fragment_token(fragment: str) -> str:
    """Our page's fragment: digits (the printed form) or a plain token (a typed or shared link)."""
    if _DIGITS.fullmatch(fragment):
        fragment = digits_to_token(fragment)
    if not (_JWS_SHAPE.fullmatch(fragment) or _LIVE_SHAPE.fullmatch(fragment)):
        raise MalformedToken()
    return fragment


def window_of(moment: datetime) -> int:
    """The 30-second window a moment falls in: floor(unix seconds / 30)."""
    return int(moment.timestamp()) // WINDOW_SECONDS


@dataclass(frozen=True)
class ScannedCard:
    """A verified card token (steps 2-6) and, for a live code whose phone signature verified, its window."""

    claims: CardClaims
    window: int | None = None

    @property
    def presentation(self) -> str:
        """ "live" (a live code, shown by the holder's phone) or "printed" (a plain token)."""
        return "printed" if self.window is None else "live"


def verify_scanned_token(text: str, verifying_keys: dict[str, ec.EllipticCurvePublicKey]) -> ScannedCard:
    """A plain token (3 parts) or a live code (5 parts) as extract_token gives it: rules V1-V4 of
    docs/card-token.md section 13 (the token first, as any card token, then the phone's signature)."""
    parts = text.split(".")
    if len(parts) == 3:
        return ScannedCard(verify_card_token(text, verifying_keys))
    if len(parts) != 5:
        raise MalformedToken()  # V1
    token = ".".join(parts[:3])
    window, signature = parts[3], parts[4]
    claims = verify_card_token(token, verifying_keys)
    if claims.device_key is None:
        raise MalformedToken()  # V2: a live code's token is holder-bound
    if not _WINDOW.fullmatch(window) or len(signature) != SIGNATURE_LENGTH:
        raise MalformedToken()  # V3: an incomplete code is "scan again", never "forged"
    device_key = device_point(claims.device_key)
    assert device_key is not None  # C9 checked it
    raw = base64url_decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        device_key.verify(der, f"{token}.{window}".encode("ascii"), _ES256)
    except InvalidSignature:
        raise BadSignature() from None  # V4
    return ScannedCard(claims, int(window))


def _b64_json(segment: str) -> Any:
    """A token's header or payload; anything but strict JSON is malformed."""
    try:
        return strict_json(segment)
    except ValueError:
        raise MalformedToken() from None


def read_header(token: str) -> dict[str, Any]:
    header = _b64_json(token.split(".", 1)[0])
    if not isinstance(header, dict):
        raise MalformedToken()
    return header


def verify_card_token(token: str, verifying_keys: dict[str, ec.EllipticCurvePublicKey]) -> CardClaims:
    """Check the header, the key and the signature, then the claims; raise a TokenRejected.

    Steps 2-6 of docs/card-token.md section 8, in that order. Each part is decoded once, and the
    signature is checked here (ES256 only, the header's alg is never trusted).
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken()
    encoded_header, encoded_payload, encoded_signature = parts
    header = read_header(encoded_header)
    if header.get("alg") != ALGORITHM:
        raise BadSignature()  # "none", HS256 with our public key as secret, ...: never trusted
    if header.keys() != HEADER_MEMBERS:
        raise NotACard()  # typ (status lists, other JWTs), crit, jku, x5u, b64..., or no kid: not a card header
    kid = header["kid"]
    if not isinstance(kid, str):
        raise NotACard()
    key = verifying_keys.get(kid)
    if key is None:
        raise UnknownKey()  # a retired key, or a kid we never had: never try the other keys
    payload = _b64_json(encoded_payload)  # damaged payload: malformed, whatever the signature
    if len(encoded_signature) != SIGNATURE_LENGTH:
        raise MalformedToken()  # an incomplete code is "scan again", never "forged"
    raw = base64url_decode(encoded_signature)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(signature, f"{encoded_header}.{encoded_payload}".encode("ascii"), _ES256)
    except InvalidSignature:
        raise BadSignature() from None  # header and payload read fine: the signature is what fails
    return _claims_from_payload(payload)


def _claims_from_payload(payload: Any) -> CardClaims:
    """Rules C1-C8 (and H1-H3 for a holder-bound token): exactly the six claims, or the six and
    `cnf` and `ds`, each of its type and range; anything else is not a card."""
    if not isinstance(payload, dict) or payload.keys() not in (CLAIM_NAMES, HOLDER_CLAIM_NAMES):
        raise NotACard()
    device_key, device_index = None, None
    if "cnf" in payload:
        confirmation, device_index = payload["cnf"], payload["ds"]
        if not (
            isinstance(confirmation, dict)
            and confirmation.keys() == CONFIRMATION_MEMBERS
            and isinstance(confirmation["k"], str)
            and device_point(confirmation["k"]) is not None
            and type(device_index) is int
            and device_index >= 0
        ):
            raise NotACard()
        device_key = confirmation["k"]
    number, name, trade, region = payload["cn"], payload["n"], payload["t"], payload["r"]
    expires, index = payload["exp"], payload["sl"]
    if not (
        isinstance(number, str)
        and normalize_card_number(number) == number
        and isinstance(name, str)
        and 1 <= len(name) <= MAX_NAME_LENGTH
        and isinstance(trade, str)
        and trade in TRADE_CODES
        and isinstance(region, str)
        and region in REGION_CODES
        and type(expires) is int  # not a bool, not 3.0
        and 0 <= expires <= MAX_EXPIRY
        and type(index) is int
        and index >= 0
    ):
        raise NotACard()
    return CardClaims(
        number, name, trade, region, datetime.fromtimestamp(expires, UTC), index, device_key, device_index
    )
