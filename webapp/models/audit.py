"""The audit trail: one row per change to an artisan's record, a card, a signing key, a partner
matter or an account, and per sign-in, failed sign-in, lock and sign-out; never updated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who: a user id when a person acted through the web, and always a readable label
    # ("user:12", "cli:root", "system:demo-seed").
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), index=True)
    # The artisan concerned: their register record, or the holder of the card (so one query lists
    # everything that happened to an artisan and their cards).
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisan.id"), index=True)
    signing_key_id: Mapped[str | None] = mapped_column(String(16))
    # Partner matters: the organisation and offer concerned, so a partner's trail can be listed.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"), index=True)
    # Accounts: the account signed in, refused, locked, created, disabled or reset (the actor may be
    # someone else: an administrator, or an unknown client for a failed sign-in).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
