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
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Dialect

from webapp.clock import MOROCCO
from webapp.models import Artisan, AuditEvent, Card, CardDevice, CardStatus
from webapp.services.cards.tokens import (
    CardClaims,
    ScannedCard,
    TokenRejected,
    extract_token,
    verify_scanned_token,
    window_of,
)
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
    # A holder-bound token shown without a fresh signature of its phone: a copy of an earlier screen
    # (outside its window, or a bare token copied out of a live QR) or of a phone the card has left.
    REPLAYED = "replayed"


# Why a live code is `replayed` (docs/card-token.md section 13).
REPLAY_WINDOW = "window"
REPLAY_DEVICE_REPLACED = "device_replaced"
# How far a live code's window may be from the verifier's: one window either side (clocks differ).
WINDOW_TOLERANCE = 1


@dataclass(frozen=True)
class VerificationResult:
    verdict: Verdict
    # Present only when the signature is valid and the index is a card's: what the card itself says.
    claims: CardClaims | None = None
    # What only the register knows (a server verdict, never an offline one): the holder's name in
    # Arabic (the token carries the Latin name only, DESIGN decision 2).
    name_ar: str | None = None
    # Whether the register's card at the token's index is the token's own card (rule L4: when it is
    # another card, the verdict follows the index but nothing else of that card is shown).
    own_index: bool = False
    # With the card's details: "live" (a live code from the holder's phone) or "printed" (a plain token).
    # Never with `replayed`: a copy is not shown live.
    presentation: str | None = None
    # Only for `replayed`: why (REPLAY_WINDOW or REPLAY_DEVICE_REPLACED).
    replay: str | None = None


@dataclass(frozen=True)
class RegisterEntry:
    """What the register holds at a status index: the list's status value and the holder's Arabic name."""

    status: int
    name_ar: str | None = None
    own_index: bool = False


# This runs on every verification. The query is written once with Core, compiled once per
# dialect, and run on the connection's DBAPI cursor: Core's execution and result machinery cost
# three times the lookup through the cursor (~60 against ~20 us; the ORM costs four times Core).
# Both columns are plain strings in the database (the status is a StrEnum's value), so no type
# processing is skipped.
_CARD_TABLE = Card.__table__
_ARTISAN_TABLE = Artisan.__table__
# The holder's Arabic name comes in the same lookup (a join on the artisan's primary key).
_CARD_AT_INDEX = (
    select(
        _CARD_TABLE.c.number,
        _CARD_TABLE.c.status,
        _ARTISAN_TABLE.c.first_name_ar,
        _ARTISAN_TABLE.c.last_name_ar,
    )
    .join_from(_CARD_TABLE, _ARTISAN_TABLE, _CARD_TABLE.c.artisan_id == _ARTISAN_TABLE.c.id)
    .where(_CARD_TABLE.c.status_index == bindparam("index"))
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


def _card_at_index(connection: Connection, index: int) -> tuple[str, str, str, str] | None:
    """(number, status, Arabic first and last name) of the card at the index, straight from the DBAPI cursor."""
    sql, positional = _compiled_card_at_index(connection.dialect)
    parameters: Any = (index,) if positional else {"index": index}
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, parameters)
        return cursor.fetchone()
    finally:
        cursor.close()


def register_entry_at(connection: Connection, index: int, number: str) -> RegisterEntry:
    """The status value the published list holds at `index`, read from the register, and the holder's
    Arabic name.

    UNASSIGNED when no card holds the index. A card that holds it under another number than the
    token's is something our issuer never signs (a leaked key or a bug): the verdict still follows
    the index, as offline verifiers' does, and the operators are alerted (rule L4).
    """
    if index > _MAX_STORED_INDEX:
        return RegisterEntry(UNASSIGNED)
    row = _card_at_index(connection, index)
    if row is None:
        return RegisterEntry(UNASSIGNED)
    stored_number, status, first_name_ar, last_name_ar = row
    if stored_number != number:
        logger.error("signed token for card %s names status index %d, which is card %s's", number, index, stored_number)
        return RegisterEntry(STATUS_VALUES[CardStatus(status)])  # another person's name: never shown
    return RegisterEntry(STATUS_VALUES[CardStatus(status)], f"{first_name_ar} {last_name_ar}", own_index=True)


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


def read_scan(scanned: str, public_base_url: str, verifying_keys: dict[str, ec.EllipticCurvePublicKey]) -> ScannedCard:
    """Steps 1-6 (and V1-V4 for a live code): the signed card of a scanned text, or a TokenRejected."""
    return verify_scanned_token(extract_token(scanned, public_base_url), verifying_keys)


def read_card(scanned: str, public_base_url: str, verifying_keys: dict[str, ec.EllipticCurvePublicKey]) -> CardClaims:
    """Steps 1-6: the signed claims of a scanned text, or a TokenRejected naming its verdict."""
    return read_scan(scanned, public_base_url, verifying_keys).claims


def verdict_for_scan(scan: ScannedCard, status: int, device_status: int | None, now: datetime) -> VerificationResult:
    """Steps 7 and 8, then, for a holder-bound token of a valid card, rules V5-V7: a bare
    holder-bound token or a window more than one from now's is `replayed` (window), a binding
    whose index reads REVOKED is `replayed` (device_replaced), an index no binding holds
    `not_a_card`. `device_status` is the status at `ds` (None for a printed card)."""
    result = verdict_for_status(scan.claims, status, now)
    presentation = scan.presentation
    if result.verdict == Verdict.VALID and scan.claims.holder_bound:
        if scan.window is None or abs(scan.window - window_of(now)) > WINDOW_TOLERANCE:
            return VerificationResult(Verdict.REPLAYED, replay=REPLAY_WINDOW)
        if device_status == REVOKED:
            return VerificationResult(Verdict.REPLAYED, replay=REPLAY_DEVICE_REPLACED)
        if device_status != VALID:
            return VerificationResult(Verdict.NOT_A_CARD)  # UNASSIGNED, or past the end of the list
    if result.claims is None:
        return result
    return VerificationResult(result.verdict, result.claims, presentation=presentation)


_DEVICE_AT_INDEX = (
    select(CardDevice.public_key, CardDevice.replaced_at, Card.number)
    .join_from(CardDevice, Card, CardDevice.card_id == Card.id)
    .where(CardDevice.status_index == bindparam("index"))
)


def device_status_at(connection: Connection, claims: CardClaims) -> int:
    """The status the published list holds at the token's `ds`, read from the register: VALID for
    the card's current phone, REVOKED for a replaced one, UNASSIGNED for no binding.

    The register is read at this moment, so a phone replaced a second ago is refused before the
    list is signed again. A binding at `ds` with another key or of another card is something our
    issuer never signs (a leaked key or a bug): refused as replaced, and the operators alerted.
    """
    assert claims.device_index is not None
    if claims.device_index > _MAX_STORED_INDEX:
        return UNASSIGNED
    row = connection.execute(_DEVICE_AT_INDEX, {"index": claims.device_index}).first()
    if row is None:
        return UNASSIGNED
    public_key, replaced_at, number = row
    if public_key != claims.device_key or number != claims.number:
        logger.error(
            "signed token for card %s names device index %d, which is another binding",
            claims.number,
            claims.device_index,
        )
        return REVOKED
    return VALID if replaced_at is None else REVOKED


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
        scan = read_scan(scanned, public_base_url, verifying_keys)
    except TokenRejected as rejection:
        return VerificationResult(Verdict(rejection.verdict))
    claims = scan.claims
    entry = register_entry_at(connection, claims.status_index, claims.number)
    device_status = device_status_at(connection, claims) if claims.holder_bound else None
    result = verdict_for_scan(scan, entry.status, device_status, now)
    if result.claims is None:
        return result
    return VerificationResult(
        result.verdict,
        result.claims,
        name_ar=entry.name_ar,
        own_index=entry.own_index,
        presentation=result.presentation,
    )


# The audit actions that put a card in the state a verdict names.
_STATUS_CHANGES = {Verdict.REVOKED: "card.revoke", Verdict.SUSPENDED: "card.suspend"}


def status_changed_on(connection: Connection, number: str, verdict: Verdict) -> date | None:
    """The day (in Morocco) the card became revoked or suspended, from the audit trail; None for
    other verdicts. Read only for those two verdicts, off the valid cards' path."""
    action = _STATUS_CHANGES.get(verdict)
    if action is None:
        return None
    statement = (
        select(AuditEvent.occurred_at)
        .join(Card, Card.id == AuditEvent.card_id)
        .where(Card.number == number, AuditEvent.action == action)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.seq.desc())
        .limit(1)
    )
    changed_at = connection.scalar(statement)  # UTCDateTime: aware, in UTC
    return changed_at.astimezone(MOROCCO).date() if changed_at is not None else None


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
        scan = read_scan(scanned, public_base_url, verifying_keys)
    except TokenRejected as rejection:
        return VerificationResult(Verdict(rejection.verdict))
    claims = scan.claims
    device_status = status_list.status(claims.device_index) if claims.device_index is not None else None
    return verdict_for_scan(scan, status_list.status(claims.status_index), device_status, now)
