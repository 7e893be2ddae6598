"""A card's device bindings (issue 15, part 3): the phone key its live QR codes are signed with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, partial_unique_index, utcnow

# A binding is current until another one replaces it.
CURRENT_BINDING = "replaced_at IS NULL"


class CardDevice(Base):
    __tablename__ = "card_device"
    __table_args__ = (
        # One current binding per card, enforced by the database: binding a phone ends the last one first.
        partial_unique_index("uq_card_device_current", "card_id", CURRENT_BINDING),
        CheckConstraint("status_index >= 0", name="status_index_non_negative"),
        CheckConstraint("replaced_at IS NULL OR replaced_at >= bound_at", name="replaced_after_bound"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    # base64url (no padding) of the 65-byte uncompressed P-256 point: 87 characters (docs/card-token.md).
    public_key: Mapped[str] = mapped_column(String(87))
    # Hex SHA-256 of the 65 raw bytes: one key binds one card, once.
    thumbprint: Mapped[str] = mapped_column(String(64), unique=True)
    # The binding's own slot in the card status list (the token's `ds`): VALID while current,
    # REVOKED once replaced. Drawn from the cards' sequence, so never any card's `sl`.
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The artisan account that bound it (None when bound by an operator or the CLI).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
