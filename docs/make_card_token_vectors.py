"""Make docs/card-token-vectors.json and the code tables of docs/card-token.md.

    python docs/make_card_token_vectors.py          (from the repository root)

Everything is signed with the published TEST key, with deterministic ECDSA (RFC 6979), so running
this again gives the same file byte for byte; tests/services/cards/test_token_vectors.py checks it
does, and runs every vector through the server's verification and through an offline reading of
the status list. Tokens are built here by hand (base64url, JSON, digits), not by the server's
code, so that a mistake in one shows up against the other. Only the trade and region tables come
from the code (webapp/services/register/reference_data.py): the document publishes them.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import zlib
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

from webapp.clock import MOROCCO  # noqa: E402  (the app's one clock: the pinned tzdata, never the system's)
from webapp.services.register.reference_data import REGIONS, TRADES  # noqa: E402

VECTORS_PATH = DOCS / "card-token-vectors.json"
DOCUMENT_PATH = DOCS / "card-token.md"
BASE_URL = "https://carte.artisanat.ma"
# The time every vector is verified at.
NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
TEST_PRIVATE_JWK = {
    "crv": "P-256",
    "kty": "EC",
    "x": "a54LSqkIOi30Ekx_3PmQR8GkP6wEY7f2dn36N5Iip1s",
    "y": "r2OqLxNyk45Mg8N58HU076sVjX_jQACniwqNBoSHOYs",
    "d": "CmmT0Xj9PpqeuDmOocmDs2Ff5SROm8Wt3SKtr6ZyAx0",
    "kid": "Y5GvZe",
}
KID = TEST_PRIVATE_JWK["kid"]
# A second TEST key, also published on purpose: the "next" key a bundle publishes ahead of use
# (rule B5). Its d is SHA-256 of a fixed text, so the generator needs no randomness.
NEXT_KEY_SEED = b"Carte Artisan: the second published test key"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# The status list: 1,238 cards (indices 0-1237), so its 310 bytes end with 2 padding statuses.
LIST_SIZE = 1238
VALID, REVOKED, SUSPENDED, UNASSIGNED = 0, 1, 2, 3


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def private_key() -> ec.EllipticCurvePrivateKey:
    d = int.from_bytes(base64.urlsafe_b64decode(TEST_PRIVATE_JWK["d"] + "=="), "big")
    return ec.derive_private_key(d, ec.SECP256R1())


def sign(header_json: str, payload_json: str) -> str:
    """A compact JWS of exactly these header and payload texts, ES256 with RFC 6979 nonces."""
    signing_input = f"{b64(header_json.encode())}.{b64(payload_json.encode())}"
    signature = private_key().sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(signature)
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def next_private_key() -> ec.EllipticCurvePrivateKey:
    import hashlib

    return ec.derive_private_key(int.from_bytes(hashlib.sha256(NEXT_KEY_SEED).digest(), "big"), ec.SECP256R1())


def jwk_of(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The private JWK of a key, its kid the first 6 characters of the RFC 7638 thumbprint."""
    import hashlib

    numbers = key.private_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64(numbers.public_numbers.x.to_bytes(32, "big")),
        "y": b64(numbers.public_numbers.y.to_bytes(32, "big")),
    }
    thumbprint = b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())
    return {**members, "d": b64(numbers.private_value.to_bytes(32, "big")), "kid": thumbprint[:6]}


NEXT_PRIVATE_JWK = jwk_of(next_private_key())


def sign_with_next_key(claims: dict[str, Any]) -> str:
    header = compact({"alg": "ES256", "kid": NEXT_PRIVATE_JWK["kid"]})
    signing_input = f"{b64(header.encode())}.{b64(compact(claims).encode())}"
    signature = next_private_key().sign(
        signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    r, s = decode_dss_signature(signature)
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


CARD_HEADER = compact({"alg": "ES256", "kid": KID})


def card_token(claims: dict[str, Any]) -> str:
    return sign(CARD_HEADER, compact(claims))


def digits(token: str) -> str:
    return "".join(f"{ord(char) - 45:02d}" for char in token)


def check_character(payload: str) -> str:
    """Luhn mod 32 (section 3 of the document), written again here on purpose."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        addend = (2 if position % 2 == 0 else 1) * ALPHABET.index(char)
        total += addend // 32 + addend % 32
    return ALPHABET[-total % 32]


def card_number(payload: str) -> str:
    return payload + check_character(payload)


def end_of_day_in_morocco(year: int, month: int, day: int) -> int:
    return int(datetime.combine(datetime(year, month, day).date(), time(23, 59, 59), MOROCCO).timestamp())


def claims(number: str, name: str, trade: str, region: str, expires: int, index: int) -> dict[str, Any]:
    return {"cn": number, "n": name, "t": trade, "r": region, "exp": expires, "sl": index}


EXP = end_of_day_in_morocco(2031, 11, 22)
VALID_CLAIMS = claims("K7M2Q9XH4V", "Fatima Zahra Benali", "TAP", "07", EXP, 1234)
REVOKED_CLAIMS = claims(card_number("R3V0KED00"), "Youssef Amrani", "ZEL", "03", EXP, 1235)
SUSPENDED_CLAIMS = claims(card_number("SSPENDED0"), "Aicha Ouazzani", "POT", "09", EXP, 1236)
EXPIRED_CLAIMS = claims(card_number("EXP1RED00"), "Hassan Tazi", "DIN", "06", end_of_day_in_morocco(2026, 11, 21), 1237)
# --- Section 13: the holder-bound token and the live code ---

# Three TEST phone keys, published on purpose, their d SHA-256 of a fixed text: the valid card's
# phone, the phone it had before (replaced: its binding's index reads REVOKED), the revoked card's phone.
PHONE_SEEDS = {
    "phone": b"Carte Artisan: the test phone key",
    "old_phone": b"Carte Artisan: the test phone key, replaced",
    "revoked_card_phone": b"Carte Artisan: the revoked card's test phone key",
}
# The bindings' own status indices (ds), in the list with the cards'.
PHONE_INDEX, OLD_PHONE_INDEX, REVOKED_CARD_PHONE_INDEX = 1200, 1201, 1202
WINDOW_SECONDS = 30
WINDOW = int(NOW.timestamp()) // WINDOW_SECONDS  # the window of verified_at


def phone_key(name: str) -> ec.EllipticCurvePrivateKey:
    import hashlib

    return ec.derive_private_key(int.from_bytes(hashlib.sha256(PHONE_SEEDS[name]).digest(), "big"), ec.SECP256R1())


def device_key(name: str) -> str:
    """base64url of the 65-byte uncompressed point 0x04||X||Y: WebCrypto's exportKey("raw")."""
    numbers = phone_key(name).public_key().public_numbers()
    return b64(b"\x04" + numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big"))


def phone_sign(name: str, text: str) -> str:
    """The phone's signature: r||s, base64url, deterministic (any ECDSA signature verifies too)."""
    signature = phone_key(name).sign(text.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(signature)
    return b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def holder_claims(card: dict[str, Any], phone: str, index: int) -> dict[str, Any]:
    return {**card, "cnf": {"k": device_key(phone)}, "ds": index}


def live_code(token: str, window: int, phone: str) -> str:
    signed = f"{token}.{window}"
    return f"{signed}.{phone_sign(phone, signed)}"


# The register behind the status list: the card holding each index the vectors use.
REGISTER = [
    (VALID_CLAIMS, "active", VALID),
    (REVOKED_CLAIMS, "revoked", REVOKED),
    (SUSPENDED_CLAIMS, "suspended", SUSPENDED),
    (EXPIRED_CLAIMS, "active", VALID),
]


# The phone bindings behind the `ds` indices: (card, phone, index, current).
BINDINGS = [
    (VALID_CLAIMS, "phone", PHONE_INDEX, True),
    (VALID_CLAIMS, "old_phone", OLD_PHONE_INDEX, False),
    (REVOKED_CLAIMS, "revoked_card_phone", REVOKED_CARD_PHONE_INDEX, True),
]


def status_list() -> dict[str, Any]:
    statuses = {claims["sl"]: value for claims, _status, value in REGISTER if value != VALID}
    statuses.update({index: REVOKED for _card, _phone, index, current in BINDINGS if not current})
    capacity = (LIST_SIZE * 2 + 7) // 8 * 4
    statuses.update({index: UNASSIGNED for index in range(LIST_SIZE, capacity)})
    packed = bytearray(capacity // 4)
    for index, value in statuses.items():
        packed[index // 4] |= value << (2 * (index % 4))
    lst = b64(zlib.compress(bytes(packed), 9))
    issued = int((NOW - timedelta(hours=1)).timestamp())
    header = {"alg": "ES256", "kid": KID, "typ": "statuslist+jwt"}
    payload = {
        "sub": f"{BASE_URL}/statuslists/1",
        "iat": issued,
        "exp": issued + 86400,
        "ttl": 300,
        "status_list": {"bits": 2, "lst": lst},
    }
    return {
        "token": sign(compact(header), compact(payload)),
        "header": header,
        "payload": payload,
        "capacity": capacity,
        "statuses": {str(index): value for index, value in sorted(statuses.items())},
        "comment": "Every index below capacity that is not listed in statuses is 0 (valid); "
        "every index at or above capacity is outside the list and reads as 3.",
    }


def status_list_rejections(good: dict[str, Any]) -> list[dict[str, Any]]:
    """Lists a verifier must not read statuses from, with the reason."""
    header, payload = good["header"], good["payload"]

    def resigned(new_header: dict[str, Any], new_payload: dict[str, Any]) -> str:
        return sign(compact(new_header), compact(new_payload))

    token = good["token"]
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    compressed = base64.urlsafe_b64decode(payload["status_list"]["lst"] + "==")
    trailing = b64(compressed + b"\x00\x00\x00\x00")
    return [
        {"name": "list read at its exp", "token": token, "at": payload["exp"], "reason": "expired"},
        {
            "name": "typ JWT",
            "token": resigned({**header, "typ": "JWT"}, payload),
            "at": None,
            "reason": "not_a_status_list",
        },
        {
            "name": "another list's subject",
            "token": resigned(header, {**payload, "sub": "https://example.org/statuslists/1"}),
            "at": None,
            "reason": "not_a_status_list",
        },
        {
            "name": "bits 1",
            "token": resigned(header, {**payload, "status_list": {**payload["status_list"], "bits": 1}}),
            "at": None,
            "reason": "unsupported_bits",
        },
        {
            "name": "kid not in the JWKS",
            "token": resigned({**header, "kid": "zzzzzz"}, payload),
            "at": None,
            "reason": "unknown_key",
        },
        {"name": "damaged signature", "token": flipped, "at": None, "reason": "bad_signature"},
        {
            "name": "bytes after the zlib stream",
            "token": resigned(header, {**payload, "status_list": {**payload["status_list"], "lst": trailing}}),
            "at": None,
            "reason": "malformed",
        },
        {
            "name": "bits 2.0",
            "token": sign(compact(header), compact(payload).replace('"bits":2', '"bits":2.0')),
            "at": None,
            "reason": "unsupported_bits",
        },
        # Version 4: each reason of rule S8, and the header of rule S9.
        *(
            {"name": name, "token": token, "at": None, "reason": reason}
            for name, token, reason in signed_token_rejections(header, payload, "not_a_status_list")
        ),
        {
            "name": "iat 1.0",
            "token": sign(
                compact(header), compact(payload).replace(f'"iat":{payload["iat"]}', f'"iat":{payload["iat"]}.0')
            ),
            "at": None,
            "reason": "malformed",
        },
        {"name": "ttl missing", "token": resigned(header, without(payload, "ttl")), "at": None, "reason": "malformed"},
        {
            "name": "exp a string",
            "token": resigned(header, {**payload, "exp": str(payload["exp"])}),
            "at": None,
            "reason": "malformed",
        },
        {
            "name": "status_list missing",
            "token": resigned(header, without(payload, "status_list")),
            "at": None,
            "reason": "not_a_status_list",
        },
        {
            "name": "lst not base64url",
            "token": resigned(header, {**payload, "status_list": {**payload["status_list"], "lst": "eNpj+YBg"}}),
            "at": None,
            "reason": "malformed",
        },
    ]


def without(members: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in members.items() if key != name}


def signed_token_rejections(
    header: dict[str, Any], payload: dict[str, Any], wrong_type: str
) -> list[tuple[str, str, str]]:
    """(name, token, reason) the same for a status list and a bundle: the header (S9, B7) and the
    signature's length (a list or bundle comes over the network, not from a scan: bad_signature)."""
    good = sign(compact(header), compact(payload))
    return [
        ("alg ES384", sign(compact({**header, "alg": "ES384"}), compact(payload)), wrong_type),
        (
            "header with jku",
            sign(compact({**header, "jku": "https://example.org/jwks.json"}), compact(payload)),
            wrong_type,
        ),
        ("header with crit", sign(compact({**header, "crit": ["exp"]}), compact(payload)), wrong_type),
        ("header without kid", sign(compact(without(header, "kid")), compact(payload)), wrong_type),
        ("header kid a number", sign(compact({**header, "kid": 7}), compact(payload)), "malformed"),
        ("signature of 85 characters", good[:-1], "bad_signature"),
        ("signature of 87 characters", good + "A", "bad_signature"),
    ]


def status_list_acceptances(good: dict[str, Any]) -> list[dict[str, Any]]:
    """Lists a verifier must read although they carry members it does not know (rule S9)."""
    header, payload = good["header"], good["payload"]
    return [
        {
            "name": "a payload member the document does not name",
            "token": sign(compact(header), compact({**payload, "iss": BASE_URL})),
        },
        {
            "name": "a status_list member the document does not name",
            "token": sign(
                compact(header),
                compact(
                    {**payload, "status_list": {**payload["status_list"], "aggregation_uri": f"{BASE_URL}/statuslists"}}
                ),
            ),
        },
    ]


def card_entry(name: str, card: dict[str, Any], verdict: str, status: int) -> dict[str, Any]:
    token = card_token(card)
    return {
        "name": name,
        "claims": card,
        "token": token,
        "qr_text": f"{BASE_URL}/v#{digits(token)}",
        "status_at_index": status,
        "verdict": verdict,
    }


def header_vectors(payload_json: str) -> list[tuple[str, str, str, str]]:
    """(name, rule, text, verdict) for header shapes: each signed correctly over its own header."""
    return [
        (f"header {label}", rule, sign(compact(header), payload_json), verdict)
        for label, rule, header, verdict in [
            ("with typ JWT", "H3", {"alg": "ES256", "kid": KID, "typ": "JWT"}, "not_a_card"),
            ("with crit b64 false", "H3", {"alg": "ES256", "b64": False, "crit": ["b64"], "kid": KID}, "not_a_card"),
            ("with jku", "H3", {"alg": "ES256", "jku": "https://example.org/jwks.json", "kid": KID}, "not_a_card"),
            ("with x5u", "H3", {"alg": "ES256", "kid": KID, "x5u": "https://example.org/cert.pem"}, "not_a_card"),
            ("without kid", "H3", {"alg": "ES256"}, "not_a_card"),
            ("kid a number", "H3", {"alg": "ES256", "kid": 7}, "not_a_card"),
            ("alg ES384", "H2", {"alg": "ES384", "kid": KID}, "bad_signature"),
            ("kid not in the JWKS", "H4", {"alg": "ES256", "kid": "zzzzzz"}, "unknown_key"),
            ("kid in another case", "H4", {"alg": "ES256", "kid": KID.lower()}, "unknown_key"),
        ]
    ]


def claim_vectors() -> list[tuple[str, str, str, str]]:
    """(name, rule, text, verdict) for payload shapes, each signed correctly with the test key."""
    base = dict(VALID_CLAIMS)

    def changed(**changes: Any) -> str:
        payload = {**base, **changes}
        return compact({key: value for key, value in payload.items() if value is not DROP})

    def raw(field: str, literal: str) -> str:
        """The valid payload with one member's value written as this JSON literal."""
        text = compact(base)
        return re.sub(rf'"{field}":[^,}}]+', f'"{field}":{literal}', text, count=1)

    rows: list[tuple[str, str, str, str]] = [
        ("cn check character wrong", "C2", changed(cn="K7M2Q9XH4W"), "not_a_card"),
        ("cn in lower case", "C2", changed(cn="k7m2q9xh4v"), "not_a_card"),
        ("cn with a look-alike O for 0", "C2", changed(cn=card_number("R3V0KED00").replace("0", "O")), "not_a_card"),
        ("n empty", "C3", changed(n=""), "not_a_card"),
        ("n 41 characters", "C3", changed(n="A" * 41), "not_a_card"),
        ("n 40 characters", "C3", changed(n="Abdelkader Mohammed Ben Abderrahmane Ali"), "valid"),
        ("n with accents counts code points", "C3", changed(n="É" * 40), "valid"),
        ("t not in the trade table", "C4", changed(t="XYZ"), "not_a_card"),
        ("t in lower case", "C4", changed(t="tap"), "not_a_card"),
        ("r not in the region table", "C4", changed(r="13"), "not_a_card"),
        ("r without its leading zero", "C4", changed(r="7"), "not_a_card"),
        ("exp a float", "C5", raw("exp", f"{EXP}.0"), "not_a_card"),
        ("exp with an exponent", "C5", raw("exp", "1.953845999e9"), "not_a_card"),
        ("exp a string", "C5", changed(exp=str(EXP)), "not_a_card"),
        ("exp true", "C5", changed(exp=True), "not_a_card"),
        ("exp after the year 9999", "C5", changed(exp=253402300800), "not_a_card"),
        ("sl negative", "C7", changed(sl=-1), "not_a_card"),
        ("sl 1234.0", "C7", raw("sl", "1234.0"), "not_a_card"),
        ("sl true", "C7", changed(sl=True), "not_a_card"),
        ("sl a string", "C7", changed(sl="1234"), "not_a_card"),
        ("sl missing", "C1", changed(sl=DROP), "not_a_card"),
        ("an extra claim", "C1", changed(iat=1795000000), "not_a_card"),
        ("exp NaN (not JSON)", "J1", raw("exp", "NaN"), "malformed"),
    ]
    return [(f"claims: {name}", rule, card_token_raw(payload), verdict) for name, rule, payload, verdict in rows]


DROP = object()


def card_token_raw(payload_json: str) -> str:
    return sign(CARD_HEADER, payload_json)


def vectors(cards: dict[str, dict[str, Any]], list_token: str) -> list[dict[str, Any]]:
    valid = cards["valid"]
    token, qr = valid["token"], valid["qr_text"]
    header, payload, signature = token.split(".")
    valid_digits = digits(token)
    raw_signature = bytearray(base64.urlsafe_b64decode(signature + "=="))
    raw_signature[0] ^= 0x01
    changed_name = b64(compact({**VALID_CLAIMS, "n": "Someone Else"}).encode())
    none_header = b64(compact({"alg": "none", "kid": KID}).encode())
    hs_header = b64(compact({"alg": "HS256", "kid": KID}).encode())
    rows: list[tuple[str, str, str, str]] = [
        # Section 1: the scanned text.
        ("printed QR text", "U2", qr, "valid"),
        (
            "scheme and host in upper case",
            "U2",
            qr.replace("https://carte.artisanat.ma", "HTTPS://CARTE.ARTISANAT.MA"),
            "valid",
        ),
        ("our URL with the plain token", "U2", f"{BASE_URL}/v#{token}", "valid"),
        ("bare token", "U6", token, "valid"),
        ("bare digits", "U6", valid_digits, "valid"),
        ("line end after the text", "U1", qr + "\r\n", "valid"),
        ("empty text", "U1", "", "malformed"),
        ("only whitespace", "U1", " \t\r\n", "malformed"),
        ("text over 4096 characters", "U1", "A" * 4097, "not_a_card"),
        ("our URL without a fragment", "U3", f"{BASE_URL}/v", "malformed"),
        ("our URL with an empty fragment", "U3", f"{BASE_URL}/v#", "malformed"),
        ("our URL, digits cut by one", "U7", qr[:-1], "malformed"),
        ("our URL, digits cut by two (signature short)", "J2", qr[:-2], "malformed"),
        ("our URL, a pair above 77", "U7", f"{BASE_URL}/v#{valid_digits[:-2]}99", "malformed"),
        ("our URL, fragment neither digits nor token", "U3", f"{BASE_URL}/v#hello", "malformed"),
        ("trailing slash /v/", "U4", f"{BASE_URL}/v/#{valid_digits}", "not_a_card"),
        ("path /V in upper case", "U4", f"{BASE_URL}/V#{valid_digits}", "not_a_card"),
        ("query ?lang=ar", "U4", f"{BASE_URL}/v?lang=ar#{valid_digits}", "not_a_card"),
        ("another path on our host", "U4", f"{BASE_URL}/cards#{valid_digits}", "not_a_card"),
        ("our home page", "U4", f"{BASE_URL}/", "not_a_card"),
        ("another site", "U5", f"https://example.org/v#{valid_digits}", "not_a_card"),
        ("look-alike host", "U5", f"{BASE_URL}.example.org/v#{valid_digits}", "not_a_card"),
        ("http instead of https", "U5", qr.replace("https://", "http://"), "not_a_card"),
        ("a Wi-Fi code", "U5", "WIFI:S:souk;T:WPA;P:secret;;", "not_a_card"),
        ("plain text", "U6", "Souk El Had, stand 42", "not_a_card"),
        ("token cut to two parts", "U6", f"{header}.{payload[:40]}", "malformed"),
        # Sections 2 and 3: header, payload, signature.
        ("header not JSON", "H1", f"{b64(b'not json')}.{payload}.{signature}", "malformed"),
        ("alg none, empty signature", "H2", f"{none_header}.{payload}.", "bad_signature"),
        ("alg HS256", "H2", f"{hs_header}.{payload}.{signature}", "bad_signature"),
        ("one flipped signature bit", "J3", f"{header}.{payload}.{b64(bytes(raw_signature))}", "bad_signature"),
        ("name changed after signing", "J3", f"{header}.{changed_name}.{signature}", "bad_signature"),
        ("signature cut by one character", "J2", token[:-1], "malformed"),
        ("payload not JSON", "J1", f"{header}.{b64(b'{not json')}.{signature}", "malformed"),
        ("the status list token itself", "H3", list_token, "not_a_card"),
        *header_vectors(payload_json=compact(VALID_CLAIMS)),
        *claim_vectors(),
        # Section 4: the status at the token's index, then expiry.
        ("revoked card", "L1", cards["revoked"]["qr_text"], "revoked"),
        ("suspended card", "L1", cards["suspended"]["qr_text"], "suspended"),
        ("expired card", "C6", cards["expired"]["qr_text"], "expired"),
        ("revoked and expired", "P1", card_token({**REVOKED_CLAIMS, "exp": EXPIRED_CLAIMS["exp"]}), "revoked"),
        ("suspended and expired", "P1", card_token({**SUSPENDED_CLAIMS, "exp": EXPIRED_CLAIMS["exp"]}), "suspended"),
        (
            "exp equal to the verification time",
            "C6",
            card_token({**VALID_CLAIMS, "exp": int(NOW.timestamp())}),
            "expired",
        ),
        ("exp one second after", "C6", card_token({**VALID_CLAIMS, "exp": int(NOW.timestamp()) + 1}), "valid"),
        ("index of another card (revoked)", "L4", card_token({**VALID_CLAIMS, "sl": 1235}), "revoked"),
        ("index in the list's padding", "L3", card_token({**VALID_CLAIMS, "sl": LIST_SIZE}), "not_a_card"),
        ("index outside the list", "L2", card_token({**VALID_CLAIMS, "sl": 5000}), "not_a_card"),
        ("index outside the list and expired", "L2", card_token({**EXPIRED_CLAIMS, "sl": 5000}), "not_a_card"),
        # Version 3: what writing the browser module showed the document had left open.
        *version_3_vectors(valid_digits),
        # Version 4: the holder-bound token and the live code (section 13).
        *live_vectors(),
    ]
    listed = [{"name": name, "rule": rule, "text": text, "verdict": verdict} for name, rule, text, verdict in rows]
    # Version 4: what an outside developer's two verifiers showed the document had left open. A vector
    # with its own public_base_url is read with that one.
    return listed + version_4_vectors(valid_digits)


def nested(depth: int) -> str:
    """A JSON array nested `depth` levels deep."""
    return "[" * depth + "]" * depth


def version_3_vectors(valid_digits: str) -> list[tuple[str, str, str, str]]:
    """Inputs on which two careful implementations (Python, JavaScript) could differ: each one's
    answer is now a rule of the document."""
    claims_with = compact(VALID_CLAIMS)[:-1] + ',"x":'
    header_with = CARD_HEADER[:-1] + ',"x":'
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in valid_digits)
    return [
        ("scheme with a non-ASCII letter", "U5", "eyJ\u017f:" + valid_digits[:20], "malformed"),
        ("Arabic-Indic digits", "U6", arabic_indic, "not_a_card"),
        ("length counts code points", "U1", "eyJ" + "\U0001f600" * 2100, "malformed"),
        ("header nested 33 levels", "H1", sign(header_with + nested(32) + "}", compact(VALID_CLAIMS)), "malformed"),
        ("payload nested 33 levels", "J1", card_token_raw(claims_with + nested(32) + "}"), "malformed"),
        ("payload nested 32 levels", "C1", card_token_raw(claims_with + nested(31) + "}"), "not_a_card"),
        ("claims: payload null", "C1", card_token_raw("null"), "not_a_card"),
        (
            "claims: exp the last second of 9999 in Morocco",
            "C5",
            card_token({**VALID_CLAIMS, "exp": 253402297199}),
            "valid",
        ),
        (
            "claims: exp the last second of 9999 in UTC (10000 in Morocco)",
            "C5",
            card_token({**VALID_CLAIMS, "exp": 253402297200}),
            "not_a_card",
        ),
        ("signed with a key the JWKS does not have yet", "H4", sign_with_next_key(VALID_CLAIMS), "unknown_key"),
    ]


# A second PUBLIC_BASE_URL for rule U8: ours has no "k", so the Kelvin sign needs a host that has one.
OTHER_BASE_URL = "https://kasbah.artisanat.ma"


def version_4_vectors(valid_digits: str) -> list[dict[str, Any]]:
    """Rule U8 (ASCII case folding only: each look-alike below matches under some language's Unicode
    case mapping) and rule C3 on a name written with JSON escapes."""
    kelvin, dotless_i, dotted_capital_i, long_s = "\u212a", "\u0131", "\u0130", "\u017f"
    our_url = f"{BASE_URL}/v#{valid_digits}"
    other_url = f"{OTHER_BASE_URL}/v#{valid_digits}"
    escaped_name = compact({**VALID_CLAIMS, "n": "É" * 40}).replace("É", "\\u00c9")
    rows: list[tuple[str, str, str, str, str | None]] = [
        ("another base URL, printed QR text", "U8", other_url, "valid", OTHER_BASE_URL),
        (
            "another base URL, scheme and host in upper case",
            "U8",
            other_url.replace(OTHER_BASE_URL, OTHER_BASE_URL.upper()),
            "valid",
            OTHER_BASE_URL,
        ),
        (
            "host with the Kelvin sign for k",
            "U8",
            other_url.replace("kasbah", f"{kelvin}asbah"),
            "not_a_card",
            OTHER_BASE_URL,
        ),
        ("host with a dotless i", "U8", our_url.replace("artisanat", f"art{dotless_i}sanat"), "not_a_card", None),
        (
            "host in upper case with a dotted capital I",
            "U8",
            our_url.replace(BASE_URL, BASE_URL.upper().replace("ARTISANAT", f"ART{dotted_capital_i}SANAT")),
            "not_a_card",
            None,
        ),
        ("scheme with a long s", "U8", our_url.replace("https:", f"http{long_s}:"), "not_a_card", None),
        ("claims: n of 40 letters written as JSON escapes", "C3", card_token_raw(escaped_name), "valid", None),
    ]
    vectors = []
    for name, rule, text, verdict, base_url in rows:
        vector: dict[str, Any] = {"name": name, "rule": rule, "text": text, "verdict": verdict}
        if base_url is not None:
            vector["public_base_url"] = base_url
        vectors.append(vector)
    return vectors


def live_vectors() -> list[tuple[str, str, str, str]]:
    """(name, rule, text, verdict) for live codes, verified at verified_at (window WINDOW)."""
    holder = card_token(holder_claims(VALID_CLAIMS, "phone", PHONE_INDEX))
    old = card_token(holder_claims(VALID_CLAIMS, "old_phone", OLD_PHONE_INDEX))
    revoked = card_token(holder_claims(REVOKED_CLAIMS, "revoked_card_phone", REVOKED_CARD_PHONE_INDEX))
    now = live_code(holder, WINDOW, "phone")
    signed_earlier = live_code(holder, WINDOW - 5, "phone")
    header, _payload, signature = holder.split(".")
    moved_ds = b64(compact(holder_claims(VALID_CLAIMS, "phone", OLD_PHONE_INDEX)).encode())
    no_point = {**VALID_CLAIMS, "cnf": {"k": b64(b"\x04" + b"\x00" * 64)}, "ds": PHONE_INDEX}
    return [
        ("live code in its window, as its QR holds it", "V6", f"{BASE_URL}/v#{digits(now)}", "valid"),
        ("live code in its window, bare", "V6", now, "valid"),
        ("live code of the previous window", "V6", live_code(holder, WINDOW - 1, "phone"), "valid"),
        ("live code of the next window", "V6", live_code(holder, WINDOW + 1, "phone"), "valid"),
        ("live code two windows old (a screenshot)", "V6", live_code(holder, WINDOW - 2, "phone"), "replayed"),
        ("live code two windows ahead", "V6", live_code(holder, WINDOW + 2, "phone"), "replayed"),
        ("live code signed by another phone", "V4", live_code(holder, WINDOW, "old_phone"), "bad_signature"),
        (
            "live code, window changed after signing",
            "V4",
            signed_earlier.replace(f".{WINDOW - 5}.", f".{WINDOW}."),
            "bad_signature",
        ),
        ("live code of a replaced phone", "V7", live_code(old, WINDOW, "old_phone"), "replayed"),
        ("holder-bound token without its live signature", "V5", holder, "replayed"),
        (
            "live code whose token has no cnf",
            "V2",
            live_code(card_token(VALID_CLAIMS), WINDOW, "phone"),
            "malformed",
        ),
        ("live code, window with a leading zero", "V3", f"{holder}.0{WINDOW}.{now.rsplit('.', 1)[1]}", "malformed"),
        ("live code, phone signature cut by one", "V3", now[:-1], "malformed"),
        ("live code without its signature part", "V1", f"{holder}.{WINDOW}", "malformed"),
        ("live code with a sixth part", "V1", f"{now}.{WINDOW}", "malformed"),
        (
            "live code of a revoked card, a day old",
            "P2",
            live_code(revoked, WINDOW - 2880, "revoked_card_phone"),
            "revoked",
        ),
        (
            "live code whose ds is outside the list",
            "V7",
            live_code(card_token(holder_claims(VALID_CLAIMS, "phone", 5000)), WINDOW, "phone"),
            "not_a_card",
        ),
        ("claims: cnf.k not a P-256 point", "C9", card_token(no_point), "not_a_card"),
        (
            "claims: cnf without ds",
            "C1",
            card_token({**VALID_CLAIMS, "cnf": {"k": device_key("phone")}}),
            "not_a_card",
        ),
        (
            "claims: cnf with another member",
            "C9",
            card_token({**VALID_CLAIMS, "cnf": {"k": device_key("phone"), "kid": "x"}, "ds": PHONE_INDEX}),
            "not_a_card",
        ),
        (
            "claims: ds a string",
            "C10",
            card_token({**holder_claims(VALID_CLAIMS, "phone", PHONE_INDEX), "ds": str(PHONE_INDEX)}),
            "not_a_card",
        ),
        (
            "holder-bound token, ds changed after signing",
            "J3",
            f"{header}.{moved_ds}.{signature}",
            "bad_signature",
        ),
    ]


def live() -> dict[str, Any]:
    """The phones, their bindings and the valid card's holder-bound token and live code."""
    holder_claims_ = holder_claims(VALID_CLAIMS, "phone", PHONE_INDEX)
    holder = card_token(holder_claims_)
    code = live_code(holder, WINDOW, "phone")
    import hashlib

    return {
        "comment": "Section 13. The phone keys are TEST keys, published on purpose. `bindings` is what the server "
        "holds for the `ds` indices (the replaced one reads 1, revoked, in the status list). Each vector named "
        "'live code ...' is verified at verified_at, whose window is `window`; `details` gives the presentation "
        "and, for replayed, the reason.",
        "window_seconds": WINDOW_SECONDS,
        "window": WINDOW,
        "phones": {
            name: {
                "private_jwk": {
                    "crv": "P-256",
                    "kty": "EC",
                    "x": b64(phone_key(name).public_key().public_numbers().x.to_bytes(32, "big")),
                    "y": b64(phone_key(name).public_key().public_numbers().y.to_bytes(32, "big")),
                    "d": b64(phone_key(name).private_numbers().private_value.to_bytes(32, "big")),
                },
                "device_key": device_key(name),
            }
            for name in PHONE_SEEDS
        },
        "bindings": [
            {
                "number": card["cn"],
                "device_key": device_key(phone),
                "thumbprint": hashlib.sha256(base64.urlsafe_b64decode(device_key(phone) + "=")).hexdigest(),
                "status_index": index,
                "current": current,
            }
            for card, phone, index, current in BINDINGS
        ],
        "holder_bound": {"claims": holder_claims_, "token": holder},
        "live_code": code,
        "qr_text": f"{BASE_URL}/v#{digits(code)}",
        "details": {
            "live code in its window, as its QR holds it": {"presentation": "live"},
            "live code in its window, bare": {"presentation": "live"},
            "live code of the previous window": {"presentation": "live"},
            "live code of the next window": {"presentation": "live"},
            "live code two windows old (a screenshot)": {"presentation": None, "replay": "window"},
            "live code two windows ahead": {"presentation": None, "replay": "window"},
            "live code of a replaced phone": {"presentation": None, "replay": "device_replaced"},
            "holder-bound token without its live signature": {"presentation": None, "replay": "window"},
            "live code of a revoked card, a day old": {"presentation": "live"},
            "printed QR text": {"presentation": "printed"},
        },
    }


def public_jwk() -> dict[str, str]:
    return {**{k: v for k, v in TEST_PRIVATE_JWK.items() if k != "d"}, "alg": "ES256", "use": "sig"}


def thumbprint() -> str:
    import hashlib

    members = {k: TEST_PRIVATE_JWK[k] for k in ("crv", "kty", "x", "y")}
    return b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())


# --- Section 12: the trust bundle ---

AUDIENCE = "partner:barid-al-maghrib"
BUNDLE_MAX_AGE = 86400
SHIPPING_OFFER, EXPORT_OFFER = 7, 9


def eligibility_list(offer_id: int, eligible: list[int], size: int) -> str:
    """An offer's eligibility list: 1 bit per card, signed like the status list (docs/offers.md)."""
    packed = bytearray((size + 7) // 8)
    for index in eligible:
        packed[index // 8] |= 1 << (index % 8)
    issued = int((NOW - timedelta(hours=1)).timestamp())
    header = {"alg": "ES256", "kid": KID, "typ": "statuslist+jwt"}
    payload = {
        "sub": f"{BASE_URL}/offers/{offer_id}/eligibility",
        "iat": issued,
        "exp": issued + 86400,
        "ttl": 300,
        "status_list": {"bits": 1, "lst": b64(zlib.compress(bytes(packed), 9))},
    }
    return sign(compact(header), compact(payload))


def offers(valid_index: int) -> list[dict[str, Any]]:
    """Two offers of a transporter: one the valid card is eligible for, one it is not."""
    return [
        {
            "id": SHIPPING_OFFER,
            "name": {"fr": "Tarif colis artisan", "ar": "تعريفة طرود الصانع", "en": "Artisan parcel rate"},
            "benefit": {
                "fr": "-30 % sur les colis nationaux",
                "ar": "تخفيض 30% على الطرود الوطنية",
                "en": "30% off national parcels",
            },
            "valid_until": "2027-12-31",
            "quota": {"count": 20, "period": "month"},
            "fields": [
                {
                    "name": "weight_kg",
                    "type": "number",
                    "label": {"fr": "Poids (kg)", "ar": "الوزن (كغ)", "en": "Weight (kg)"},
                    "min": 0.1,
                    "max": 30,
                }
            ],
            # The valid card, and (a stale bit) the revoked and the expired ones: only a valid card is eligible.
            "eligibility": eligibility_list(
                SHIPPING_OFFER, [valid_index, REVOKED_CLAIMS["sl"], EXPIRED_CLAIMS["sl"]], LIST_SIZE
            ),
        },
        {
            "id": EXPORT_OFFER,
            "name": {"fr": "Export solidaire", "ar": "التصدير التضامني", "en": "Fair export"},
            "benefit": {
                "fr": "Envoi international au tarif national",
                "ar": "إرسال دولي بالتعريفة الوطنية",
                "en": "International shipping at the national rate",
            },
            "valid_until": None,
            "quota": None,
            "fields": [],
            # A list of 100 cards: every index of the vectors is past its end, so not eligible.
            "eligibility": eligibility_list(EXPORT_OFFER, [3, 42], 100),
        },
    ]


def public_next_jwk() -> dict[str, str]:
    return {**{k: v for k, v in NEXT_PRIVATE_JWK.items() if k != "d"}, "alg": "ES256", "use": "sig"}


def bundle_payload(list_token: str) -> dict[str, Any]:
    issued = int((NOW - timedelta(hours=1)).timestamp())
    return {
        "iss": BASE_URL,
        "aud": AUDIENCE,
        "iat": issued,
        "exp": issued + BUNDLE_MAX_AGE,
        "max_age": BUNDLE_MAX_AGE,
        # The next key is published ahead of use: after this bundle the app trusts it (rule B5).
        "jwks": {"keys": [public_jwk(), public_next_jwk()]},
        "status_list": list_token,
        "offers": offers(VALID_CLAIMS["sl"]),
    }


BUNDLE_HEADER = {"alg": "ES256", "kid": KID, "typ": "bundle+jwt"}


def bundle_token(payload: dict[str, Any], header: dict[str, Any] = BUNDLE_HEADER) -> str:
    return sign(compact(header), compact(payload))


def expired_status_list(good: dict[str, Any]) -> str:
    """The vectors' status list signed two days earlier: past its exp at verified_at."""
    issued = good["payload"]["iat"] - 2 * 86400
    return sign(compact(good["header"]), compact({**good["payload"], "iat": issued, "exp": issued + 86400}))


def bundle_rejections(payload: dict[str, Any], statuses: dict[str, Any]) -> list[dict[str, Any]]:
    """Bundles an app must not rely on, with the reason (and, for a list inside, the list's reason)."""
    good = bundle_token(payload)
    flipped = good[:-2] + ("A" if good[-2] != "A" else "B") + good[-1]
    shipping, export = payload["offers"]
    rows: list[tuple[str, str, str, str | None]] = [
        ("kid the app does not trust", bundle_token(payload, {**BUNDLE_HEADER, "kid": "zzzzzz"}), "unknown_key", None),
        (
            "signed with a key only the bundle itself publishes",
            sign_with_next_key_header(payload),
            "unknown_key",
            None,
        ),
        ("typ JWT", bundle_token(payload, {**BUNDLE_HEADER, "typ": "JWT"}), "not_a_bundle", None),
        ("the status list token", statuses["token"], "not_a_bundle", None),
        ("damaged signature", flipped, "bad_signature", None),
        ("another issuer", bundle_token({**payload, "iss": "https://example.org"}), "not_a_bundle", None),
        ("exp is not iat + max_age", bundle_token({**payload, "exp": payload["exp"] + 1}), "malformed", None),
        (
            "max_age 86400.0",
            sign(compact(BUNDLE_HEADER), compact(payload).replace('"max_age":86400', '"max_age":86400.0')),
            "malformed",
            None,
        ),
        ("aud missing", bundle_token({k: v for k, v in payload.items() if k != "aud"}), "malformed", None),
        ("an offer id as a string", bundle_token({**payload, "offers": [{**shipping, "id": "7"}]}), "malformed", None),
        (
            "status list past its exp",
            bundle_token({**payload, "status_list": expired_status_list(statuses)}),
            "status_list_unusable",
            "expired",
        ),
        (
            "an offer carrying another offer's list",
            bundle_token({**payload, "offers": [{**shipping, "eligibility": export["eligibility"]}]}),
            "eligibility_list_unusable",
            "not_a_status_list",
        ),
    ]
    rejected = [
        {"name": name, "token": token, "at": None, "reason": reason, "detail": detail}
        for name, token, reason, detail in rows
    ]
    rejected.insert(
        4, {"name": "read at its exp", "token": good, "at": payload["exp"], "reason": "expired", "detail": None}
    )
    # Version 4: each reason of rule B8, the header of rule B7 and the offers of rule B6.
    later: list[tuple[str, str, str]] = [
        *signed_token_rejections(BUNDLE_HEADER, payload, "not_a_bundle"),
        (
            "iat 1.0",
            sign(
                compact(BUNDLE_HEADER), compact(payload).replace(f'"iat":{payload["iat"]}', f'"iat":{payload["iat"]}.0')
            ),
            "malformed",
        ),
        ("exp a string", bundle_token({**payload, "exp": str(payload["exp"])}), "malformed"),
        ("max_age missing", bundle_token(without(payload, "max_age")), "malformed"),
        ("status_list missing", bundle_token(without(payload, "status_list")), "malformed"),
        ("offers missing", bundle_token(without(payload, "offers")), "malformed"),
        (
            "two offers with one id",
            bundle_token({**payload, "offers": [shipping, {**export, "id": shipping["id"]}]}),
            "malformed",
        ),
        (
            "an offer quota per week",
            bundle_token({**payload, "offers": [{**shipping, "quota": {"count": 20, "period": "week"}}]}),
            "malformed",
        ),
        (
            "an offer quota of 0",
            bundle_token({**payload, "offers": [{**shipping, "quota": {"count": 0, "period": "month"}}]}),
            "malformed",
        ),
        (
            "an offer valid until 2027-02-30",
            bundle_token({**payload, "offers": [{**shipping, "valid_until": "2027-02-30"}]}),
            "malformed",
        ),
        (
            "an offer field that is not an object",
            bundle_token({**payload, "offers": [{**shipping, "fields": ["weight_kg"]}]}),
            "malformed",
        ),
        (
            "an offer without its English name",
            bundle_token({**payload, "offers": [{**shipping, "name": without(shipping["name"], "en")}]}),
            "malformed",
        ),
    ]
    rejected += [
        {"name": name, "token": token, "at": None, "reason": reason, "detail": None} for name, token, reason in later
    ]
    return rejected


def bundle_acceptances(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Bundles an app must read although they carry members it does not know (rule B7)."""
    shipping, export = payload["offers"]
    return [
        {"name": "a payload member the document does not name", "token": bundle_token({**payload, "note": "v5"})},
        {
            "name": "offer members the document does not name",
            "token": bundle_token(
                {
                    **payload,
                    "offers": [
                        {**shipping, "description": {"fr": "Colis", "ar": "طرود", "en": "Parcels"}},
                        {**export, "name": {**export["name"], "tzm": "ⴰⵙⵉⴼⴹ"}},
                    ],
                }
            ),
        },
        {
            "name": "a quota member the document does not name",
            "token": bundle_token(
                {**payload, "offers": [{**shipping, "quota": {**shipping["quota"], "rolling": False}}, export]}
            ),
        },
    ]


def sign_with_next_key_header(payload: dict[str, Any]) -> str:
    header = compact({**BUNDLE_HEADER, "kid": NEXT_PRIVATE_JWK["kid"]})
    signing_input = f"{b64(header.encode())}.{b64(compact(payload).encode())}"
    signature = next_private_key().sign(
        signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
    )
    r, s = decode_dss_signature(signature)
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def bundle(statuses: dict[str, Any], cards: dict[str, dict[str, Any]], inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """The bundle vector: a transporter's bundle, what scans give with it and without a usable one."""
    payload = bundle_payload(statuses["token"])
    by_name = {vector["name"]: vector for vector in inputs}
    texts = [(card["name"], card["qr_text"]) for card in cards.values()] + [
        (name, by_name[name]["text"])
        for name in (
            "one flipped signature bit",
            "index in the list's padding",
            "header kid not in the JWKS",
            "signed with a key the JWKS does not have yet",
            "live code in its window, as its QR holds it",
            "live code two windows old (a screenshot)",
            "live code of a replaced phone",
        )
    ]
    eligible_for_valid = {SHIPPING_OFFER: True, EXPORT_OFFER: False}
    with_bundle = {
        "valid card": "valid",
        "revoked card": "revoked",
        "suspended card": "suspended",
        "expired card": "expired",
        "one flipped signature bit": "bad_signature",
        "index in the list's padding": "not_a_card",
        "header kid not in the JWKS": "unknown_key",
        "signed with a key the JWKS does not have yet": "valid",  # rule B5: the bundle's next key
        # Offline, the window is read against the app's corrected clock and `ds` in the bundle's list.
        "live code in its window, as its QR holds it": "valid",
        "live code two windows old (a screenshot)": "replayed",
        "live code of a replaced phone": "replayed",
    }
    # Past its exp (or with none usable) the app has its trusted keys, the bundle's included, but no list.
    without_bundle = {
        **with_bundle,
        **{
            name: "cannot_confirm"
            for name, verdict in with_bundle.items()
            if verdict in {"valid", "expired", "revoked", "suspended", "not_a_card", "replayed"}
        },
    }
    never_usable = {
        "valid card": "cannot_confirm",
        "header kid not in the JWKS": "unknown_key",
        "signed with a key the JWKS does not have yet": "unknown_key",  # the bundle's next key is not learnt
    }
    return {
        "comment": "A transporter's trust bundle (docs/card-token.md section 12), signed with the test key at "
        "verified_at minus one hour. `trusted_jwks` is what the app trusts before reading it (the vectors' JWKS); "
        "`scans` are read with the bundle (its keys, status list and offers) at verified_at; "
        "`scans_without_bundle` with the bundle's keys but no usable bundle (past its exp): rule B3. "
        "`rejected`: bundles to refuse, read with trusted_jwks at `at` (null: verified_at). Version 4: `accepted`, "
        "bundles to read (unnamed members, rule B7); `scans_never_usable`, scans by an app whose only bundle was "
        "never usable, so with trusted_jwks and no list (rule B9).",
        "token": bundle_token(payload),
        "header": BUNDLE_HEADER,
        "payload": payload,
        "trusted_jwks": {"keys": [public_jwk()]},
        "next_key": {"private_jwk": NEXT_PRIVATE_JWK, "public_jwk": public_next_jwk()},
        "scans": [
            {
                "name": name,
                "text": text,
                "verdict": with_bundle[name],
                "offers": [
                    {"id": offer_id, "eligible": with_bundle[name] == "valid" and eligible}
                    for offer_id, eligible in eligible_for_valid.items()
                ],
            }
            for name, text in texts
        ],
        "scans_without_bundle": [{"name": name, "text": text, "verdict": without_bundle[name]} for name, text in texts],
        "rejected": bundle_rejections(payload, statuses),
        "accepted": bundle_acceptances(payload),
        # Rule B9: an app whose first bundle is already past its exp learns no key from it: it verifies
        # with what it trusted before (trusted_jwks) and has no list.
        "scans_never_usable": [
            {"name": name, "text": text, "verdict": never_usable[name]} for name, text in texts if name in never_usable
        ],
    }


# --- Version 4: the QR code's size (rule Q1) and the verify API's bodies (rule A1) ---

# The issuer's worst case besides the name: the longest trade code, a 7-digit index (16 times the
# register's 622,000 artisans), a 10-digit exp.
WORST_INDEX = 9_999_999
MAX_NAME_BYTES = 56  # rule Q1: the register's limit; webapp.services.cards.tokens has the same


def qr_version(text: str) -> int:
    """The smallest QR version at ECC M holding the URL as a byte segment and the digits as a numeric
    one, as section 2 says: segno, the segments given (the server's code is not used here)."""
    import segno

    url, digit_text = text.split("#", 1)
    from segno.consts import MODE_BYTE, MODE_NUMERIC

    segments = [(url + "#", MODE_BYTE), (digit_text, MODE_NUMERIC)]
    return segno.make(segments, error="m", boost_error=False, micro=False).version


def accented(name: str, count: int) -> str:
    """The name with its first `count` vowels accented (2 UTF-8 bytes each instead of 1)."""
    accents = {"a": "à", "e": "é", "i": "í", "o": "ó", "u": "ú"}
    letters = list(name)
    for position, letter in enumerate(letters):
        if count and letter in accents:
            letters[position], count = accents[letter], count - 1
    return "".join(letters)


def qr_versions(cards: dict[str, dict[str, Any]], inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rule Q1: the version each QR text needs, with the name's length in code points and UTF-8 bytes."""
    by_name = {vector["name"]: vector for vector in inputs}
    longest = accented("Abdelouahed Benabderrahmane Ait Oumoussa", MAX_NAME_BYTES - 40)
    worst = card_token(claims(card_number("ZZZZZZZZZ"), longest, "MARO", "12", EXP, WORST_INDEX))
    rows = [
        ("the valid card", cards["valid"]["token"]),
        ("a name of 40 ASCII letters", by_name["claims: n 40 characters"]["text"]),
        ("a name of 56 bytes in 40 letters, worst case otherwise", worst),
        ("a name of 40 letters É (80 bytes)", by_name["claims: n with accents counts code points"]["text"]),
        (
            "a name of 40 letters of 4 bytes (the most C3 accepts)",
            card_token({**VALID_CLAIMS, "n": "\U0001df00" * 40}),
        ),
    ]
    entries = []
    for name, token in rows:
        claimed = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==").decode("utf-8"))
        text = f"{BASE_URL}/v#{digits(token)}"
        entries.append(
            {
                "name": name,
                "rule": "Q1",
                "text": text,
                "name_characters": len(claimed["n"]),
                "name_bytes": len(claimed["n"].encode("utf-8")),
                "version": qr_version(text),
            }
        )
    return entries


def api_requests(cards: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules A1 and A2: what POST /api/v1/verify answers for each body, whatever its Content-Type."""
    json_type = "application/json"
    rows: list[tuple[str, str, str | None, int, str, str | None]] = [
        ("qr a number", '{"qr": 5}', json_type, 400, "malformed", "missing_qr"),
        ("an array", '["x"]', json_type, 400, "malformed", "invalid_json"),
        ("a JSON string", '"x"', json_type, 400, "malformed", "invalid_json"),
        ("qr null", '{"qr": null}', json_type, 400, "malformed", "missing_qr"),
        ("no qr", "{}", json_type, 400, "malformed", "missing_qr"),
        ("qr an array", '{"qr": ["x"]}', json_type, 400, "malformed", "missing_qr"),
        ("qr twice, the last a number", '{"qr": "x", "qr": 5}', json_type, 400, "malformed", "missing_qr"),
        ("an empty body", "", json_type, 400, "malformed", "invalid_json"),
        ("not JSON", "qr=x", "application/x-www-form-urlencoded", 400, "malformed", "invalid_json"),
        ("JSON cut short", '{"qr": "x"', json_type, 400, "malformed", "invalid_json"),
        ("qr an empty string", '{"qr": ""}', json_type, 200, "malformed", None),
        ("plain text of another QR code", '{"qr": "WIFI:S:souk;;"}', json_type, 200, "not_a_card", None),
        ("a JSON body sent as text/plain", '{"qr": "WIFI:S:souk;;"}', "text/plain", 200, "not_a_card", None),
        ("a JSON body with no Content-Type", '{"qr": "WIFI:S:souk;;"}', None, 200, "not_a_card", None),
        ("a member the API does not know", '{"qr": "WIFI:S:souk;;", "lang": "ar"}', json_type, 200, "not_a_card", None),
    ]
    return [
        {
            "name": name,
            "rule": "A2" if content_type != json_type else "A1",
            "body": body,
            "content_type": content_type,
            "status": status,
            "verdict": verdict,
            "error": error,
        }
        for name, body, content_type, status, verdict, error in rows
    ]


def build() -> dict[str, Any]:
    """The whole vectors file, as a dict."""
    statuses = status_list()
    cards = {
        "valid": card_entry("valid card", VALID_CLAIMS, "valid", VALID),
        "revoked": card_entry("revoked card", REVOKED_CLAIMS, "revoked", REVOKED),
        "suspended": card_entry("suspended card", SUSPENDED_CLAIMS, "suspended", SUSPENDED),
        "expired": card_entry("expired card", EXPIRED_CLAIMS, "expired", VALID),
    }
    all_vectors = vectors(cards, statuses["token"])
    return {
        "comment": "Test vectors for docs/card-token.md, made by docs/make_card_token_vectors.py. The private key "
        "is a TEST key, published on purpose: never use it to sign real cards.",
        "public_base_url": BASE_URL,
        "verified_at": NOW.isoformat().replace("+00:00", "Z"),
        "verified_at_unix": int(NOW.timestamp()),
        "test_key": {"private_jwk": TEST_PRIVATE_JWK, "public_jwk": public_jwk(), "rfc7638_thumbprint": thumbprint()},
        "jwks": {"keys": [public_jwk()]},
        "status_list": statuses,
        "status_list_rejected": status_list_rejections(statuses),
        "register": [
            {"number": card["cn"], "status_index": card["sl"], "status": status} for card, status, _value in REGISTER
        ],
        "cards": cards,
        "vectors": all_vectors,
        "bundle": bundle(statuses, cards, all_vectors),
        "status_list_accepted": status_list_acceptances(statuses),
        "qr_versions": qr_versions(cards, all_vectors),
        "api_requests": api_requests(cards),
        "live": live(),
    }


def render_json(vectors_file: dict[str, Any]) -> str:
    return json.dumps(vectors_file, indent=2, ensure_ascii=False) + "\n"


def trade_table() -> str:
    lines = ["| `t` | sector | French | Arabic | English |", "|---|---|---|---|---|"]
    lines += [f"| `{code}` | {sector} | {fr} | {ar} | {en} |" for code, sector, fr, ar, en in TRADES]
    return "\n".join(lines)


def region_table() -> str:
    lines = ["| `r` | French | Arabic | English |", "|---|---|---|---|"]
    lines += [f"| `{code}` | {fr} | {ar} | {en} |" for code, fr, ar, en in REGIONS]
    return "\n".join(lines)


def vectors_table() -> str:
    """One line per vector of the JSON file: its rule, its name and its verdict."""
    lines = ["| # | rule | input | verdict |", "|---|---|---|---|"]
    lines += [
        f"| {number} | {vector['rule']} | {vector['name']} | `{vector['verdict']}` |"
        for number, vector in enumerate(build()["vectors"], start=1)
    ]
    return "\n".join(lines)


def example_block() -> str:
    """The valid card, its token and QR text, and the signed status list, as the document shows them."""
    built = build()
    card, statuses = built["cards"]["valid"], built["status_list"]
    return "\n".join(
        [
            "Claims of the valid card:",
            "",
            "```json",
            json.dumps(card["claims"], indent=2, ensure_ascii=False),
            "```",
            "",
            "Token:",
            "",
            "```",
            card["token"],
            "```",
            "",
            f"QR text, with `PUBLIC_BASE_URL` = `{BASE_URL}`:",
            "",
            "```",
            card["qr_text"],
            "```",
            "",
            "Status list token (1,238 cards; index 1235 revoked, 1236 suspended, 1238 and 1239 the padding):",
            "",
            "```",
            statuses["token"],
            "```",
            "",
            "Its payload:",
            "",
            "```json",
            json.dumps(statuses["payload"], indent=2),
            "```",
        ]
    )


def bundle_block() -> str:
    """The bundle vector's header and payload as section 12 shows them (signed lists cut short)."""
    vector = build()["bundle"]

    def shortened(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("eyJ") and len(value) > 60:
            return value[:40] + "…"
        if isinstance(value, dict):
            return {key: shortened(item) for key, item in value.items()}
        if isinstance(value, list):
            return [shortened(item) for item in value]
        return value

    return "\n".join(
        [
            "Header:",
            "",
            "```json",
            json.dumps(vector["header"]),
            "```",
            "",
            "Payload (the signed lists cut short here; whole in the JSON file):",
            "",
            "```json",
            json.dumps(shortened(vector["payload"]), indent=2, ensure_ascii=False),
            "```",
        ]
    )


TABLES = {
    "trades": trade_table,
    "regions": region_table,
    "vectors": vectors_table,
    "example": example_block,
    "bundle": bundle_block,
}


def with_tables(document: str) -> str:
    """The document with each generated table between its markers replaced by the code's."""
    for name, render in TABLES.items():
        pattern = re.compile(rf"(<!-- begin {name} table.*?-->\n)(?:.*?\n)?(<!-- end {name} table -->)", re.DOTALL)
        document, count = pattern.subn(lambda match, render=render: f"{match[1]}{render()}\n{match[2]}", document)
        if count != 1:
            raise SystemExit(f"{DOCUMENT_PATH.name}: no {name} table markers")
    return document


def main() -> None:
    VECTORS_PATH.write_text(render_json(build()), encoding="utf-8")
    DOCUMENT_PATH.write_text(with_tables(DOCUMENT_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {VECTORS_PATH.name} and the tables of {DOCUMENT_PATH.name}")


if __name__ == "__main__":
    main()
