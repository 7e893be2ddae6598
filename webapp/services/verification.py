"""Verification of a scanned card: token, signature and claims, then status at the token's
index, then expiry (docs/card-token.md section 8, in that order).

The server and an offline verifier give one verdict: both read the status at the token's `sl`
index. The server reads it from the register (the card holding that index, one lookup on a unique
column), which is what the status list it publishes says; `verify_offline` reads it from a signed
status list, as the verifier apps do. The verdicts are the product's vocabulary (DESIGN decision
6); the messages shown for them live in the views.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Dialect

from webapp.models import Card, CardStatus
from webapp.services.cards.tokens import CardClaims, TokenRejected, extract_token, verify_card_token
from webapp.services.trust.status_list import REVOKED, STATUS_VALUES, SUSPENDED, UNASSIGNED, VALID, StatusList

logger = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    NOT_A_CARD = "not_a_card"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class VerificationResult:
    verdict: Verdict
    # Present only when the signature is valid and the index is a card's: what the card itself says.
    claims: CardClaims | None = None


# This runs on every verification. The query is written once with Core, compiled once per
# dialect, and run on the connection's DBAPI cursor: Core's execution and result machinery cost
# three times the lookup through the cursor (~60 against ~20 us; the ORM costs four times Core).
# Both columns are plain strings in the database (the status is a StrEnum's value), so no type
# processing is skipped.
_CARD_TABLE = Card.__table__
_CARD_AT_INDEX = select(_CARD_TABLE.c.number, _CARD_TABLE.c.status).where(
    _CARD_TABLE.c.status_index == bindparam("index")
)
# The status_index column is a 32-bit integer: a larger index is no card's (and never reaches the database).
_MAX_STORED_INDEX = 2**31 - 1


_COMPILED_CARD_AT_INDEX: dict[tuple[str, str], tuple[str, bool]] = {}


def _compiled_card_at_index(dialect: Dialect) -> tuple[str, bool]:
    """The SQL text of _CARD_AT_INDEX for a dialect, and whether its parameter is positional."""
    key = (dialect.name, dialect.paramstyle)
    if key not in _COMPILED_CARD_AT_INDEX:
        compiled = _CARD_AT_INDEX.compile(dialect=dialect)
        _COMPILED_CARD_AT_INDEX[key] = (compiled.string, compiled.positional)
    return _COMPILED_CARD_AT_INDEX[key]


def _card_at_index(connection: Connection, index: int) -> tuple[str, str] | None:
    """(number, status) of the card at the index, straight from the DBAPI cursor."""
    sql, positional = _compiled_card_at_index(connection.dialect)
    parameters: Any = (index,) if positional else {"index": index}
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchone()
    finally:
        cursor.close()


def register_status_at(connection: Connection, index: int, number: str) -> int:
    """The status value the published list holds at `index`, read from the register.

    UNASSIGNED when no card holds the index. A card that holds it under another number than the
    token's is something our issuer never signs (a leaked key or a bug): the verdict still follows
    the index, as offline verifiers' does, and the operators are alerted (rule L4).
    """
    if index > _MAX_STORED_INDEX:
        return UNASSIGNED
    row = _card_at_index(connection, index)
    if row is None:
        return UNASSIGNED
    stored_number, status = row
    if stored_number != number:
        logger.error("signed token for card %s names status index %d, which is card %s's", number, index, stored_number)
    return STATUS_VALUES[CardStatus(status)]


def verdict_for_status(claims: CardClaims, status: int, now: datetime) -> VerificationResult:
    """Steps 7 and 8: revoked > suspended > no card at this index > expired > valid."""
    if status == REVOKED:
        return VerificationResult(Verdict.REVOKED, claims)
    if status == SUSPENDED:
        return VerificationResult(Verdict.SUSPENDED, claims)
    if status != VALID:
        return VerificationResult(Verdict.NOT_A_CARD)  # UNASSIGNED, or past the end of the list
    if claims.expires_at <= now:
        return VerificationResult(Verdict.EXPIRED, claims)
    return VerificationResult(Verdict.VALID, claims)


def read_card(scanned: str, public_base_url: str, verifying_keys: dict[str, ec.EllipticCurvePublicKey]) -> CardClaims:
    """Steps 1-6: the signed claims of a scanned text, or a TokenRejected naming its verdict."""
    return verify_card_token(extract_token(scanned, public_base_url), verifying_keys)


def verify_scanned_text(
    connection: Connection,
    scanned: str,
    *,
    public_base_url: str,
    verifying_keys: dict[str, ec.EllipticCurvePublicKey],
    now: datetime,
) -> VerificationResult:
    """Everything a verifier needs to know about one scanned text (the server: status from the register)."""
    try:
        claims = read_card(scanned, public_base_url, verifying_keys)
    except TokenRejected as rejection:
        return VerificationResult(Verdict(rejection.verdict))
    return verdict_for_status(claims, register_status_at(connection, claims.status_index, claims.number), now)


def verify_offline(
    scanned: str,
    *,
    public_base_url: str,
    verifying_keys: dict[str, ec.EllipticCurvePublicKey],
    status_list: StatusList,
    now: datetime,
) -> VerificationResult:
    """The same verdict from the token, the JWKS and a usable signed status list alone (no register)."""
    try:
        claims = read_card(scanned, public_base_url, verifying_keys)
    except TokenRejected as rejection:
        return VerificationResult(Verdict(rejection.verdict))
    return verdict_for_status(claims, status_list.status(claims.status_index), now)
