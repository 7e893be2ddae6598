"""Reading the JWTs our server signs for verifiers (status lists, eligibility lists, trust bundles)
exactly as docs/card-token.md says (rules S1 and B1), so that the browser module
(static/js/lib/card-verifier.js) and the server agree on every token, well formed or not.

The checks run in one order, each with its reason (rules S8, B8): the shape and the header
(`malformed`), `typ` and `alg` and no header member but those and `kid` (the caller's "not this
kind" reason), the key (`unknown_key`), the signature (`bad_signature`), then the payload, which
must be a JSON object (`malformed`). PyJWT is not used
here: its order differs (a payload that is not JSON after a good signature is a DecodeError, like
a damaged signature) and it reads claims such as `nbf` and `aud` against the machine's clock.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt.utils import base64url_decode

_JWS_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_ES256 = ec.ECDSA(hashes.SHA256())
_SIGNATURE_BYTES = 64
_HEADER_MEMBERS = frozenset({"alg", "kid", "typ"})
# Arrays and objects nested deeper than this are not read (rules H1, J1): Python's parser gives up
# near 1,000 levels (a RecursionError), JavaScript's does not, so both stop at one documented depth.
MAX_JSON_DEPTH = 32
_JSON_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity, -Infinity: not JSON (RFC 8259), and JSON.parse refuses them


def _too_deep(text: str) -> bool:
    # Counting brackets first keeps the exact walk off the verify path: a card's JSON has one "{".
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for match in _JSON_NESTING.finditer(text):
        bracket = match[0]
        if bracket in ("[", "{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def strict_json(segment: str) -> Any:
    """Strict: base64url, then UTF-8 (no BOM), then RFC 8259 JSON at most MAX_JSON_DEPTH deep; else ValueError."""
    try:
        text = base64url_decode(segment).decode("utf-8")
        if _too_deep(text):
            raise ValueError("nested too deep")
        return json.loads(text, parse_constant=_reject_constant)
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError("not base64url of UTF-8 of JSON") from None


def signature_verifies(key: ec.EllipticCurvePublicKey, signing_input: str, encoded_signature: str) -> bool:
    """ES256 over the ASCII signing input; the signature is the 64-byte R || S (RFC 7518 3.4)."""
    try:
        raw = base64url_decode(encoded_signature)
    except binascii.Error:
        return False
    if len(raw) != _SIGNATURE_BYTES:
        return False
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(signature, signing_input.encode("ascii"), _ES256)
    except InvalidSignature:
        return False
    return True


def read_signed_payload(
    token: str,
    verifying_keys: Mapping[str, ec.EllipticCurvePublicKey],
    *,
    token_type: str,
    refusal: Callable[[str], Exception],
    wrong_type: str,
) -> dict[str, Any]:
    """The payload of a compact JWS with header typ `token_type`, alg ES256 and a known kid, whose
    signature verifies; otherwise raise refusal(reason)."""
    if not isinstance(token, str) or not _JWS_SHAPE.fullmatch(token):
        raise refusal("malformed")
    encoded_header, encoded_payload, encoded_signature = token.split(".")
    try:
        header = strict_json(encoded_header)
    except ValueError:
        raise refusal("malformed") from None
    if not isinstance(header, dict) or not isinstance(header.get("kid", ""), str):
        raise refusal("malformed")
    if header.get("typ") != token_type or header.get("alg") != "ES256" or header.keys() != _HEADER_MEMBERS:
        # Rules S9, B7: exactly alg, kid and typ. A member such as crit, b64, jku or x5u could change how
        # the token is read; our server never writes one, so a header with one is not ours.
        raise refusal(wrong_type)
    key = verifying_keys.get(header.get("kid"))  # type: ignore[arg-type]
    if key is None:
        raise refusal("unknown_key")
    if not signature_verifies(key, f"{encoded_header}.{encoded_payload}", encoded_signature):
        raise refusal("bad_signature")
    try:
        payload = strict_json(encoded_payload)
    except ValueError:
        raise refusal("malformed") from None
    if not isinstance(payload, dict):
        raise refusal("malformed")
    return payload
