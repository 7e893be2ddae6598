"""Benchmark: the QR version of a live code (docs/card-token.md section 13), ECC level M.

A live code is the holder-bound token (the card's claims, `cnf` with the phone's 87-character key,
`ds`), the 30-second window number and the phone's 86-character signature; its QR code is the
printed card's layout (webapp/services/cards/qr.py: the URL as a byte segment, the code as digits in
a numeric segment). Worst case on every other field: the longest trade code, region 12, a six-digit
card index, a seven-digit binding index, a ten-digit expiry. Target: version <= 20 (the card app
shows it on a phone screen). Printed for a typical name, 25 and 40 characters of ASCII, and 40 of
`É` (the token's JSON escapes it: 6 bytes each), beside the printed card's version for the same name.

Run (from the project root):
  .venv/bin/python bench/live_qr.py
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.utils import base64url_encode

from webapp.services.cards.qr import card_qr
from webapp.services.cards.tokens import CardClaims, sign_card_token

BASE_URL = "https://carte.artisanat.ma"  # the documented budget: 26 characters
TARGET = 20
NAMES = {
    "typical (15)": "Khadija Bennani",
    "25 ASCII": "Abdelkader Mohammed Benal",
    "40 ASCII": "Abdelkader Mohammed Ben Abderrahmane Ali",
    "40 É": "É" * 40,
}


def live_code(name: str, authority: ec.EllipticCurvePrivateKey, phone: ec.EllipticCurvePrivateKey) -> tuple[str, str]:
    """(printed token, live code) for a worst-case card of this name."""
    raw = phone.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    claims = CardClaims("ZZZZZZZZZZ", name, "MARO", "12", datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), 621_999)
    printed = sign_card_token(claims, "AbCdEf", authority)
    bound = CardClaims(
        **{**claims.__dict__, "device_key": base64url_encode(raw).decode("ascii"), "device_index": 1_299_999}
    )
    token = sign_card_token(bound, "AbCdEf", authority)
    window = int(datetime.now(UTC).timestamp()) // 30
    signed = f"{token}.{window}"
    r, s = decode_dss_signature(phone.sign(signed.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return printed, f"{signed}.{base64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big')).decode('ascii')}"


def main() -> None:
    authority, phone = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    print(f"PUBLIC_BASE_URL {BASE_URL!r} ({len(BASE_URL)} characters), ECC level M, target: live version <= {TARGET}")
    print(f"{'name':<14} {'live chars':>10} {'live version':>12} {'modules':>8} {'printed version':>16}  result")
    for label, name in NAMES.items():
        printed, code = live_code(name, authority, phone)
        live, card = card_qr(BASE_URL, code), card_qr(BASE_URL, printed)
        assert live.error == "M"
        verdict = "PASS" if live.version <= TARGET else "MISS"
        size = live.symbol_size(border=0)[0]
        print(f"{label:<14} {len(code):>10} {live.version:>12} {size:>8} {card.version:>16}  {verdict}")


if __name__ == "__main__":
    main()
