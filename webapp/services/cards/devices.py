"""A card's phone (issue 15, part 3): the device key its live QR codes are signed with.

At activation the artisan's phone makes an ECDSA P-256 key pair whose private key never leaves it
(WebCrypto, non-extractable) and sends the public key. The server binds it to the card and signs a
holder-bound token (the card's claims, the key as `cnf`, the binding's status index as `ds`); the
phone shows `token.window.signature`, signed again every 30 seconds (docs/card-token.md section 13).

- One current binding per card (a partial unique index): binding a new phone ends the last
  binding, whose status index becomes REVOKED in the status list, so a screenshot of the old
  phone's code gets the verdict `replayed` offline too.
- Each binding has its own status index, drawn from the cards' sequence (never any card's `sl`).
- A key binds once: the same key again on the same card is the current binding (a retried
  activation); on another card, or after it was replaced, it is refused.
- The audit trail keeps the thumbprint's first characters, never the key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec
from jwt.utils import base64url_decode
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Card, CardDevice, CardStatus, utcnow
from webapp.services.audit import Actor, record_event
from webapp.services.cards.lifecycle import CardNotValidToday, card_state, require_valid_today
from webapp.services.cards.tokens import CardClaims, device_point, sign_card_token
from webapp.services.errors import N_, DomainError
from webapp.services.trust import status_list
from webapp.services.trust.jws import strict_json
from webapp.services.trust.signing_keys import Signer

# How much of the thumbprint the audit trail keeps: enough to tell two phones apart, not the key.
AUDIT_THUMBPRINT_CHARS = 12


class DeviceKeyInvalid(DomainError):
    code = "device_key_invalid"
    http_status = 422
    message = N_("The phone's key is not a valid P-256 public key.")


class DeviceKeyUsed(DomainError):
    code = "device_key_used"
    http_status = 409
    message = N_("This phone key was already used: the card app must create a new one.")


class DeviceNotCurrent(DomainError):
    code = "device_not_current"
    http_status = 409
    message = N_("This phone is no longer the one bound to the card: activate the card again.")


def device_public_key(device_key: str) -> ec.EllipticCurvePublicKey:
    """The P-256 point of a device key (87 base64url characters of 0x04||X||Y), or DeviceKeyInvalid."""
    key = device_point(device_key) if isinstance(device_key, str) else None
    if key is None:
        raise DeviceKeyInvalid()
    return key


def thumbprint(device_key: str) -> str:
    """Hex SHA-256 of the key's 65 raw bytes."""
    return hashlib.sha256(base64url_decode(device_key)).hexdigest()


def current_device(session: Session, card: Card) -> CardDevice | None:
    """The card's current binding, if a phone is bound."""
    return session.scalar(select(CardDevice).where(CardDevice.card_id == card.id, CardDevice.replaced_at.is_(None)))


def _audited(device: CardDevice) -> dict[str, object]:
    return {
        "device_id": device.id,
        "thumbprint": device.thumbprint[:AUDIT_THUMBPRINT_CHARS],
        "status_index": device.status_index,
    }


def bind_device(
    session: Session, card: Card, device_key: str, *, actor: Actor, now: datetime | None = None
) -> CardDevice:
    """Bind a phone's key to a card (the current binding ends); flushes, never commits."""
    device_public_key(device_key)
    now = now or utcnow()
    # The card's row lock serialises two activations at once; the partial unique index would
    # refuse a second current binding anyway.
    session.refresh(card, with_for_update=True)
    if card.status == CardStatus.REVOKED:
        raise CardNotValidToday(card, card_state(card, now))
    print_ = thumbprint(device_key)
    known = session.scalar(select(CardDevice).where(CardDevice.thumbprint == print_))
    if known is not None:
        if known.card_id == card.id and known.replaced_at is None:
            return known  # the same phone again (a retried activation): nothing changes
        raise DeviceKeyUsed()
    previous = current_device(session, card)
    if previous is not None:
        previous.replaced_at = now
        session.flush()  # before the new row: one current binding at a time, for the index
        status_list.mark_changed(session)  # its index now reads REVOKED
    device = CardDevice(
        card_id=card.id,
        public_key=device_key,
        thumbprint=print_,
        status_index=status_list.allocate_indices(session)[0],
        bound_at=now,
        user_id=actor.user_id,
    )
    session.add(device)
    session.flush()
    if previous is None:
        record_event(session, actor, "card.device_bound", card=card, after=_audited(device))
    else:
        record_event(
            session, actor, "card.device_replaced", card=card, before=_audited(previous), after=_audited(device)
        )
    return device


def holder_token(session: Session, card: Card, device: CardDevice, signer: Signer, now: datetime) -> str:
    """The holder-bound token for the card's current phone: the printed token's claims with `cnf`
    and `ds`, signed now. Refused for a card a verifier would not accept today, or for a phone that
    is not the card's current one."""
    require_valid_today(card, now)
    if device.card_id != card.id or device.replaced_at is not None:
        raise DeviceNotCurrent()
    # The claims the card's own token carries (renewals re-sign it when the register changes), so
    # the phone and the printed card say the same thing.
    payload = strict_json(card.token.split(".")[1])
    claims = CardClaims(
        number=card.number,
        name=payload["n"],
        trade=payload["t"],
        region=payload["r"],
        expires_at=card.expires_at,
        status_index=card.status_index,
        device_key=device.public_key,
        device_index=device.status_index,
    )
    return sign_card_token(claims, signer.kid, signer.private_key)
