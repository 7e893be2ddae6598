"""Signed checkpoints of the audit trail: the chain's size and head hash, signed with the active
signing key (ES256 compact JWS, `typ: audit-checkpoint+jwt`), stored and published.

A checkpoint is signed only over a chain that checks out from the previous checkpoint to the
head, so the server never vouches for a trail that was altered since it last signed.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import AuditCheckpoint, SigningKey, utcnow
from webapp.services.audit.chain import GENESIS_HASH
from webapp.services.audit.verify import CHECKPOINT_TYPE, read_checkpoint, verify_trail
from webapp.services.errors import N_, DomainError
from webapp.services.trust.signing_keys import (
    PrivateKeyUnreadable,
    Signer,
    load_private_key,
    public_key_from_jwk,
    retired_key_path,
)


class TrailNotIntact(DomainError):
    code = "audit_trail_not_intact"
    http_status = 409
    message = N_("The audit trail does not check out since the last checkpoint, so none is signed: %(problem)s")


class CheckpointNotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = N_("No such audit checkpoint.")


def checkpoint_keys(session: Session, keys_dir: str) -> dict[str, ec.EllipticCurvePublicKey]:
    """Every key that may have signed a checkpoint, retired ones included: the public key derived
    from its private key file where that file is here (KEYS_DIR or retired/), else the database's."""
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for row in session.scalars(select(SigningKey)):
        try:
            keys[row.kid] = load_private_key(keys_dir, row.kid).public_key()
            continue
        except PrivateKeyUnreadable:
            pass
        retired = retired_key_path(keys_dir, row.kid)
        if retired.exists():
            try:
                keys[row.kid] = load_private_key(retired.parent, row.kid).public_key()
                continue
            except PrivateKeyUnreadable:
                pass
        keys[row.kid] = public_key_from_jwk(json.loads(row.public_jwk))
    return keys


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()


def get_checkpoint(session: Session, number: int) -> AuditCheckpoint:
    checkpoint = session.get(AuditCheckpoint, number)
    if checkpoint is None:
        raise CheckpointNotFound()
    return checkpoint


def sign_checkpoint(
    session: Session,
    signer: Signer,
    verifying_keys: dict[str, ec.EllipticCurvePublicKey],
    *,
    issuer: str,
    now: datetime | None = None,
) -> AuditCheckpoint:
    """Check the chain from the latest checkpoint to the head, then sign and store a checkpoint of it.
    TrailNotIntact when it does not check out."""
    now = now or utcnow()
    previous = latest_checkpoint(session)
    after = (0, GENESIS_HASH)
    if previous is not None:
        payload = read_checkpoint(previous.token, verifying_keys)
        after = (payload["size"], payload["head"])
    report = verify_trail(session.connection(), verifying_keys, after=after)
    if not report.intact:
        raise TrailNotIntact(problem=report.problem)
    payload = {"iss": issuer, "size": report.last_seq, "head": report.last_hash, "iat": int(now.timestamp())}
    token = jwt.encode(
        payload, signer.private_key, algorithm="ES256", headers={"kid": signer.kid, "typ": CHECKPOINT_TYPE}
    )
    checkpoint = AuditCheckpoint(
        size=report.last_seq,
        head_hash=report.last_hash,
        signed_at=now.replace(microsecond=0),
        kid=signer.kid,
        token=token,
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def is_due(session: Session, every: timedelta, now: datetime | None = None) -> bool:
    """True when no checkpoint was signed in the last `every` (for a timer that runs often)."""
    latest = latest_checkpoint(session)
    return latest is None or (now or utcnow()) - latest.signed_at >= every


def published(checkpoint: AuditCheckpoint) -> dict[str, object]:
    """What the public endpoint answers about a checkpoint."""
    return {
        "number": checkpoint.id,
        "size": checkpoint.size,
        "head": checkpoint.head_hash,
        "signed_at": checkpoint.signed_at.isoformat().replace("+00:00", "Z"),
        "kid": checkpoint.kid,
        "token": checkpoint.token,
    }
