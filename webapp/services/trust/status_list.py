"""The signed status list (IETF OAuth Token Status List, 2 bits per card).

Every card owns a fixed index, allocated under a row lock and never reused. A status change
bumps the list's version; the signed list is rebuilt lazily, on the first request that finds it
stale, and cached in the database so every worker serves the same bytes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from jwt.utils import base64url_encode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import Card, CardStatus, StatusListState, utcnow
from webapp.services.trust.signing_keys import Signer

LIST_ID = 1
BITS = 2
# Status values of the Token Status List registry.
STATUS_VALUES = {CardStatus.ACTIVE: 0x00, CardStatus.REVOKED: 0x01, CardStatus.SUSPENDED: 0x02}
TOKEN_TYPE = "statuslist+jwt"


def _locked_state(session: Session) -> StatusListState:
    state = session.scalar(select(StatusListState).where(StatusListState.id == LIST_ID).with_for_update())
    if state is None:
        state = StatusListState(id=LIST_ID, next_index=0, version=0)
        session.add(state)
        session.flush()
    return state


def ensure_status_list(session: Session) -> None:
    """Create the list's row if it is missing (setup and tests)."""
    _locked_state(session)


def allocate_indices(session: Session, count: int = 1) -> range:
    """Reserve `count` consecutive fresh indices (row lock: concurrent issuers never share one)."""
    state = _locked_state(session)
    start = state.next_index
    state.next_index = start + count
    session.flush()
    return range(start, start + count)


def mark_changed(session: Session) -> None:
    """Record that a card's status changed, so the next fetch signs a fresh list."""
    session.execute(
        update(StatusListState).where(StatusListState.id == LIST_ID).values(version=StatusListState.version + 1)
    )


def pack_statuses(size: int, statuses: list[tuple[int, int]]) -> bytes:
    """The byte array: index i at bits 2*(i % 4) of byte i // 4, least significant first."""
    packed = bytearray((size * BITS + 7) // 8)
    for index, value in statuses:
        packed[index * BITS // 8] |= value << (index * BITS % 8)
    return bytes(packed)


def read_status(packed: bytes, index: int) -> int:
    return (packed[index * BITS // 8] >> (index * BITS % 8)) & ((1 << BITS) - 1)


def encode_list(packed: bytes) -> str:
    """zlib (DEFLATE, ZLIB format) at level 9, then base64url without padding."""
    return base64url_encode(zlib.compress(packed, 9)).decode("ascii")


@dataclass(frozen=True)
class SignedStatusList:
    token: str
    version: int
    signed_at: datetime


def current_status_list(
    session: Session, signer: Signer, subject: str, validity: timedelta, now: datetime | None = None
) -> SignedStatusList:
    """The signed list, rebuilt when a status changed or half its validity has passed."""
    now = now or utcnow()
    state = session.get(StatusListState, LIST_ID)
    if state is None:
        ensure_status_list(session)
        state = session.get(StatusListState, LIST_ID)
        assert state is not None
    fresh = (
        state.signed_token is not None
        and state.signed_version == state.version
        and state.signed_at is not None
        and now - state.signed_at < validity / 2
    )
    if not fresh:
        statuses = session.execute(select(Card.status_index, Card.status).where(Card.status != CardStatus.ACTIVE))
        packed = pack_statuses(state.next_index, [(index, STATUS_VALUES[status]) for index, status in statuses])
        payload = {
            "sub": subject,
            "iat": int(now.timestamp()),
            "exp": int((now + validity).timestamp()),
            "ttl": int(validity.total_seconds() / 2),
            "status_list": {"bits": BITS, "lst": encode_list(packed)},
        }
        state.signed_token = jwt.encode(
            payload, signer.private_key, algorithm="ES256", headers={"kid": signer.kid, "typ": TOKEN_TYPE}
        )
        state.signed_version = state.version
        state.signed_at = now
        session.flush()
    assert state.signed_token is not None and state.signed_at is not None
    return SignedStatusList(state.signed_token, state.version, state.signed_at)
