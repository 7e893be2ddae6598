"""The signed status list (IETF OAuth Token Status List, 2 bits per card).

Every card owns a fixed index, allocated under a row lock and never reused. A status change (and
a new index) bumps the list's version and asks for the offers' eligibility lists to be rebuilt
(by a job: services/partners/list_rebuilds.py); the signed status list is rebuilt lazily, on the first request
that finds it stale, and cached in the database so every worker serves the same bytes.

Reading a list (read_status_list_token, StatusList.status) follows docs/card-token.md section 7,
exactly as an offline verifier does: the test vectors run through it.
"""

from __future__ import annotations

import binascii
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode, base64url_encode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.models import Card, CardDevice, CardStatus, StatusListState, utcnow
from webapp.services.errors import N_, DomainError
from webapp.services.partners.list_rebuilds import ask_rebuild
from webapp.services.trust.jws import read_signed_payload
from webapp.services.trust.signing_keys import Signer, SigningKeyError

logger = logging.getLogger(__name__)
# Who signs a list: the signer itself, or a callable that gives it (or raises why it cannot), asked
# only when a list must be signed again: a list already signed is served without any private key.
SignerSource = Signer | Callable[[], Signer]

LIST_ID = 1
BITS = 2
# Status values of the Token Status List registry, and 0x03 (application-specific in the draft):
# no card holds this index. The list writes it in the padding after its last index; a verifier
# reads it for an index past the list's end too.
VALID, REVOKED, SUSPENDED, UNASSIGNED = 0x00, 0x01, 0x02, 0x03
STATUS_VALUES = {CardStatus.ACTIVE: VALID, CardStatus.REVOKED: REVOKED, CardStatus.SUSPENDED: SUSPENDED}
TOKEN_TYPE = "statuslist+jwt"


class StatusListUnusable(DomainError):
    """A status list token a verifier must not read statuses from; `reason` says why (a code)."""

    code = "status_list_unusable"
    http_status = 502
    message = N_("The status list cannot be used (%(reason)s): card statuses cannot be checked.")

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


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
    state.version = state.version + 1  # the list grows: sign it again, so offline verifiers see the new cards
    session.flush()
    ask_rebuild(session)  # offers' eligibility lists are indexed like this list
    return range(start, start + count)


def mark_changed(session: Session) -> None:
    """Record that a card's status changed, so the next fetch signs a fresh list."""
    session.execute(
        update(StatusListState).where(StatusListState.id == LIST_ID).values(version=StatusListState.version + 1)
    )
    ask_rebuild(session)  # a card no longer valid is eligible for nothing (and back again)


def pack_statuses(size: int, statuses: Iterable[tuple[int, int]], bits: int = BITS) -> bytes:
    """The byte array: index i at bits bits*(i % (8/bits)) of byte i*bits // 8, least significant first.

    The card status list uses 2 bits; offers' eligibility lists use the same format with 1 bit.
    """
    packed = bytearray((size * bits + 7) // 8)
    for index, value in statuses:
        packed[index * bits // 8] |= value << (index * bits % 8)
    return bytes(packed)


def read_status(packed: bytes, index: int, bits: int = BITS) -> int:
    return (packed[index * bits // 8] >> (index * bits % 8)) & ((1 << bits) - 1)


def capacity(size: int, bits: int = BITS) -> int:
    """How many statuses the bytes of a list of `size` cards hold (whole bytes: a multiple of 4)."""
    return (size * bits + 7) // 8 * 8 // bits


def status_at(packed: bytes, index: int) -> int:
    """The status of an index, UNASSIGNED past the end of the list (rules L2, L3)."""
    if index >= len(packed) * 8 // BITS:
        return UNASSIGNED
    return read_status(packed, index)


def encode_list(packed: bytes) -> str:
    """zlib (DEFLATE, ZLIB format) at level 9, then base64url without padding."""
    return base64url_encode(zlib.compress(packed, 9)).decode("ascii")


@dataclass(frozen=True)
class SignedStatusList:
    token: str
    version: int
    signed_at: datetime


def signer_from(source: SignerSource) -> Signer:
    return source if isinstance(source, Signer) else source()


def expires_at(token: str) -> datetime | None:
    """The `exp` of a token we signed ourselves."""
    expires = _payload(token).get("exp")
    return datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None


def still_valid(token: str | None, now: datetime, min_remaining: timedelta = timedelta(0)) -> bool:
    """Whether a token we signed is unexpired at `now` (with at least `min_remaining` left)."""
    if token is None:
        return False
    expires = _payload(token).get("exp")
    return isinstance(expires, int) and now + min_remaining < datetime.fromtimestamp(expires, UTC)


def signed_or_last(sign: Callable[[], str], last: str | None, now: datetime, what: str) -> str | None:
    """A fresh signature, or, when signing is unavailable (the key's file missing or unreadable),
    None if the last signed token is still unexpired: trust material already signed is served
    until it expires; after that the refusal says what is wrong with the key."""
    try:
        return sign()
    except SigningKeyError as refusal:
        if not still_valid(last, now):
            raise
        logger.error("%s: serving the last signed one until it expires (%s)", what, refusal)
        return None


def current_status_list(
    session: Session,
    signer: SignerSource,
    subject: str,
    validity: timedelta,
    *,
    ttl_seconds: int,
    now: datetime | None = None,
    min_remaining: timedelta = timedelta(0),
) -> SignedStatusList:
    """The signed list, rebuilt when a status changed or half its validity has passed.

    `ttl_seconds` is how long a verifier may keep it before fetching again: the same number as
    the HTTP max-age it is served with (rule S6), so a cache and the token never disagree.
    `min_remaining`: a list with less validity left than this is signed again (a trust bundle
    needs its lists to outlive the bundle's own maximum age).
    """
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
        and now - state.signed_at < min(validity / 2, validity - min_remaining)
        and _payload(state.signed_token).get("ttl") == ttl_seconds
    )
    if not fresh:
        size = state.next_index
        statuses = [
            (index, STATUS_VALUES[status])
            for index, status in session.execute(
                select(Card.status_index, Card.status).where(Card.status != CardStatus.ACTIVE)
            )
        ]
        # A phone binding's own index (a holder-bound token's `ds`): VALID while current, REVOKED
        # once another phone replaced it (webapp/services/cards/devices.py).
        statuses += [
            (index, REVOKED)
            for index in session.scalars(select(CardDevice.status_index).where(CardDevice.replaced_at.is_not(None)))
        ]
        padding = [(index, UNASSIGNED) for index in range(size, capacity(size))]
        packed = pack_statuses(size, statuses + padding)
        token = signed_or_last(
            lambda: sign_list(
                signer_from(signer), subject, packed, BITS, now=now, validity=validity, ttl_seconds=ttl_seconds
            ),
            state.signed_token,
            now,
            "status list not signed again",
        )
        if token is not None:
            state.signed_token = token
            state.signed_version = state.version
            state.signed_at = now
            session.flush()
    assert state.signed_token is not None and state.signed_at is not None
    return SignedStatusList(state.signed_token, state.version, state.signed_at)


def sign_list(
    signer: Signer, subject: str, packed: bytes, bits: int, *, now: datetime, validity: timedelta, ttl_seconds: int
) -> str:
    """A signed Token Status List (`statuslist+jwt`) of packed values: the card status list, or an
    offer's eligibility list (1 bit per card)."""
    payload = {
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + validity).timestamp()),
        "ttl": ttl_seconds,
        "status_list": {"bits": bits, "lst": encode_list(packed)},
    }
    return jwt.encode(payload, signer.private_key, algorithm="ES256", headers={"kid": signer.kid, "typ": TOKEN_TYPE})


def _payload(token: str) -> dict[str, Any]:
    """The payload of a token we signed ourselves (no signature check: it comes from our database)."""
    return json.loads(base64url_decode(token.split(".")[1]))


@dataclass(frozen=True)
class StatusList:
    """A verified, unexpired status list: the statuses, and how long they may be relied on."""

    packed: bytes
    issued_at: datetime
    expires_at: datetime
    ttl_seconds: int
    bits: int = BITS

    def status(self, index: int) -> int:
        return status_at(self.packed, index)

    def is_set(self, index: int) -> bool:
        """For a 1-bit list (an offer's eligibility): the bit at `index`; past the end, not set."""
        if index >= len(self.packed) * 8 // self.bits:
            return False
        return read_status(self.packed, index, self.bits) == 1


def read_status_list_token(
    token: str,
    verifying_keys: Mapping[str, ec.EllipticCurvePublicKey],
    *,
    subject: str,
    now: datetime,
    bits: int = BITS,
) -> StatusList:
    """Rules S1-S4 of docs/card-token.md: a list a verifier may read, or StatusListUnusable.

    The checks and their order are the browser module's (static/js/lib/card-verifier.js).
    """
    payload = read_signed_payload(
        token, verifying_keys, token_type=TOKEN_TYPE, refusal=StatusListUnusable, wrong_type="not_a_status_list"
    )
    return _status_list_from_payload(payload, subject, now, bits)


def _is_integer(value: Any) -> bool:
    return type(value) is int  # a JSON integer literal (rule C8): not a bool, not 3.0


def _status_list_from_payload(payload: dict[str, Any], subject: str, now: datetime, bits: int) -> StatusList:
    issued, expires, ttl = payload.get("iat"), payload.get("exp"), payload.get("ttl")
    body = payload.get("status_list")
    if payload.get("sub") != subject or not isinstance(body, dict) or not isinstance(body.get("lst"), str):
        raise StatusListUnusable("not_a_status_list")
    if not all(_is_integer(value) for value in (issued, expires, ttl)):
        raise StatusListUnusable("malformed")
    if not _is_integer(body.get("bits")) or body["bits"] != bits:
        raise StatusListUnusable("unsupported_bits")
    if int(now.timestamp()) >= expires:  # type: ignore[operator]
        raise StatusListUnusable("expired")
    try:
        packed = _inflate(_strict_base64url(body["lst"]))
    except (binascii.Error, zlib.error):
        raise StatusListUnusable("malformed") from None
    return StatusList(
        packed,
        datetime.fromtimestamp(issued, UTC),  # type: ignore[arg-type]
        datetime.fromtimestamp(expires, UTC),  # type: ignore[arg-type]
        ttl,  # type: ignore[arg-type]
        bits,
    )


_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _strict_base64url(text: str) -> bytes:
    """base64url without padding; Python's decoder would skip other characters, the browser's refuses them."""
    if not _BASE64URL.fullmatch(text):
        raise binascii.Error("not base64url")
    return base64url_decode(text)


def _inflate(compressed: bytes) -> bytes:
    """One zlib stream and nothing after it (rule S3): zlib.decompress would ignore trailing bytes."""
    decompressor = zlib.decompressobj()
    packed = decompressor.decompress(compressed)
    if not decompressor.eof or decompressor.unused_data:
        raise zlib.error("not exactly one zlib stream")
    return packed
