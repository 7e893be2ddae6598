"""Verification of a scanned card: signature, then register status, then expiry.

Used by the verify API (and so by the public verdict page). The verdicts are the product's
vocabulary (DESIGN decision 6); the messages shown for them live in the views.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Card, CardStatus
from webapp.services.card_tokens import CardClaims, NotACard, TokenRejected, extract_token, verify_card_token


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
    # Present only when the signature is valid: what the card itself says.
    claims: CardClaims | None = None


def card_status(session: Session, number: str) -> CardStatus | None:
    """The stored status of a card number, or None if the register has no such card."""
    return session.scalar(select(Card.status).where(Card.number == number))


def verify_scanned_text(
    session: Session,
    scanned: str,
    *,
    public_base_url: str,
    verifying_keys: dict[str, ec.EllipticCurvePublicKey],
    now: datetime,
) -> VerificationResult:
    """Everything a verifier needs to know about one scanned text."""
    try:
        claims = verify_card_token(extract_token(scanned, public_base_url), verifying_keys)
    except TokenRejected as rejection:
        return VerificationResult(Verdict(rejection.verdict))
    status = card_status(session, claims.number)
    if status is None:
        return VerificationResult(Verdict(NotACard.verdict))
    if status == CardStatus.REVOKED:
        return VerificationResult(Verdict.REVOKED, claims)
    if status == CardStatus.SUSPENDED:
        return VerificationResult(Verdict.SUSPENDED, claims)
    if claims.expires_at <= now:
        return VerificationResult(Verdict.EXPIRED, claims)
    return VerificationResult(Verdict.VALID, claims)
