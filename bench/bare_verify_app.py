"""The yardstick of bench/verify_load.py: the verify request with nothing but Flask, ES256 and SQLite.

A plain Flask app, no extension (no rate limit, sessions, languages, CSRF, security headers, ORM):
  POST /verify {"qr": "<QR text>"} reads the token from the QR text, checks its ES256 signature
  with a public key object loaded once, checks the expiry, reads the card's status by primary-key
  lookup (`status_index`, a unique column) in the same SQLite file the project serves, and answers a
  small JSON; GET /healthz answers "ok".
It is what the project's POST /api/v1/verify costs at least on this stack, so the bench reports
`project verify rps / bare verify rps`.

The token decoding is reimplemented here, minimally (the QR text's digits, two per character =
code point - 45, then the three base64url parts; no rule checks beyond signature, expiry and
status), so that a change to the project's own helpers never moves the yardstick. The signature
check is the project's: cryptography's ECDSA verify with SHA-256 on the raw r||s signature
turned into DER. One sqlite3 connection per worker, opened at the first request (after gunicorn
forks), with SQLite's defaults (the project's adds WAL mode, set on the file already).

Environment: BARE_DATABASE (path of the SQLite file), BARE_KEYS_DIR (the folder holding the one
<kid>.pem signing key; its public key verifies), BARE_PUBLIC_BASE_URL (the QR texts' origin).
Served by bench/verify_load.py with config/gunicorn.conf.py: `gunicorn -c config/gunicorn.conf.py
bench.bare_verify_app:app`.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from flask import Flask, Response, request

ES256 = ec.ECDSA(hashes.SHA256())
DIGIT_OFFSET = 45


def _load_public_key(keys_dir: Path) -> tuple[str, ec.EllipticCurvePublicKey]:
    (path,) = keys_dir.glob("*.pem")  # the bench's database has exactly one key
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    return path.stem, private_key.public_key()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


KID, PUBLIC_KEY = _load_public_key(Path(os.environ["BARE_KEYS_DIR"]))
DATABASE = os.environ["BARE_DATABASE"]
QR_PREFIX = os.environ["BARE_PUBLIC_BASE_URL"].rstrip("/") + "/v#"

app = Flask(__name__)
_connection: sqlite3.Connection | None = None


def _database() -> sqlite3.Connection:
    global _connection
    if _connection is None:
        _connection = sqlite3.connect(DATABASE)
    return _connection


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")


@app.post("/verify")
def verify() -> tuple[dict[str, Any], int]:
    body = request.get_json(force=True, silent=True)
    scanned = body.get("qr") if isinstance(body, dict) else None
    if not isinstance(scanned, str) or not scanned.startswith(QR_PREFIX):
        return {"verdict": "malformed"}, 400
    digits = scanned[len(QR_PREFIX) :].strip()
    token = "".join(chr(int(digits[i : i + 2]) + DIGIT_OFFSET) for i in range(0, len(digits), 2))
    encoded_header, encoded_payload, encoded_signature = token.split(".")
    header = json.loads(_b64decode(encoded_header))
    if header.get("alg") != "ES256" or header.get("kid") != KID:
        return {"verdict": "unknown_key"}, 200
    raw = _b64decode(encoded_signature)
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        PUBLIC_KEY.verify(signature, f"{encoded_header}.{encoded_payload}".encode("ascii"), ES256)
    except InvalidSignature:
        return {"verdict": "bad_signature"}, 200
    claims = json.loads(_b64decode(encoded_payload))
    row = _database().execute("select number, status from card where status_index = ?", (claims["sl"],)).fetchone()
    if row is None or row[0] != claims["cn"]:
        return {"verdict": "not_a_card"}, 200
    if row[1] != "active":
        return {"verdict": row[1], "number": claims["cn"]}, 200
    verdict = "valid" if claims["exp"] > time.time() else "expired"
    return {"verdict": verdict, "number": claims["cn"], "name": claims["n"], "expires": claims["exp"]}, 200
