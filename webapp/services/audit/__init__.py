"""The audit trail: who changed what, when, with the state before and after, hash-chained
(chain.py: appended at commit; checkpoints.py: signed heads; verify.py: `audit verify`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from webapp.models import Artisan, AuditEvent, Card, utcnow
from webapp.services.audit import chain


@dataclass(frozen=True)
class Actor:
    """Who is acting: a readable label, and the user id when a signed-in person acts."""

    label: str
    user_id: int | None = None


def card_snapshot(card: Card) -> dict[str, Any]:
    """The audited fields of a card."""
    return {
        "number": card.number,
        "status": card.status.value if card.status else None,
        "status_reason": card.status_reason,
        "expires_at": card.expires_at.isoformat() if card.expires_at else None,
        "key_id": card.key_id,
    }


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    *,
    card: Card | None = None,
    artisan: Artisan | None = None,
    signing_key_id: str | None = None,
    organisation_id: int | None = None,
    offer_id: int | None = None,
    account_id: int | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """One event; a card's event is also filed under its holder (`artisan_id`).

    Its time is now; it joins the chain (and the session) when the session commits or first reads
    the trail (chain.py says why)."""
    artisan_id = artisan.id if artisan is not None else None
    if artisan_id is None and card is not None:
        # The column when the card is flushed (no query: redemptions pass here), else its relationship.
        artisan_id = card.artisan_id if card.artisan_id is not None else card.artisan.id
    event = AuditEvent(
        occurred_at=utcnow(),
        actor=actor.label,
        actor_user_id=actor.user_id,
        action=action,
        card_id=card.id if card is not None else None,
        artisan_id=artisan_id,
        signing_key_id=signing_key_id,
        organisation_id=organisation_id,
        offer_id=offer_id,
        account_id=account_id,
        reason=reason,
        before=before,
        after=after,
    )
    chain.defer(session, event)
    return event
