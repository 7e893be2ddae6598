"""A card's one-time activation codes (issue 15): stored as keyed hashes, never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, partial_unique_index, utcnow

# A code is live while neither used nor superseded (its expiry is read against the clock).
LIVE_CODE = "used_at IS NULL AND superseded_at IS NULL"


class ActivationCode(Base):
    __tablename__ = "card_activation_code"
    __table_args__ = (
        # One live code per card, enforced by the database: issuing a new one must end the others first.
        partial_unique_index("uq_card_activation_code_live", "card_id", LIVE_CODE),
        CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
        # A code ends once, one way: used or superseded, never both.
        CheckConstraint("used_at IS NULL OR superseded_at IS NULL", name="used_or_superseded"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    # HMAC-SHA256 of card number and code, hex, under a key derived from SECRET_KEY
    # (webapp/services/cards/activation.py says why not a slow password hash).
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
