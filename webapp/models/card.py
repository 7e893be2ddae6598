"""The professional card, its signing keys and its status-list slot."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import Artisan, enum_column
from webapp.models.base import Base, UTCDateTime, partial_unique_index, utcnow


class CardStatus(enum.StrEnum):
    """The stored status; "expired" is not stored, it follows from expires_at."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class RevocationReason(enum.StrEnum):
    LOST = "lost"
    STOLEN = "stolen"
    DECEASED = "deceased"
    FRAUD = "fraud"
    LEFT_TRADE = "left_trade"
    REPLACED = "replaced"


class Card(Base):
    __tablename__ = "card"
    __table_args__ = (
        # One card in force (active or suspended) per artisan, enforced by the database.
        partial_unique_index("uq_card_artisan_in_force", "artisan_id", "status != 'revoked'"),
        # The register search's card-status filters start from the few suspended, revoked or
        # expired cards (webapp/services/register/search.py) instead of reading a region whole.
        Index("ix_card_status_expires_at", "status", "expires_at"),
        CheckConstraint("status_index >= 0", name="status_index_non_negative"),
        CheckConstraint("expires_at > issued_at", name="expires_after_issue"),
        # A revoked card always says why, and only a revoked card has a revocation reason.
        CheckConstraint(
            "(status = 'revoked' AND revocation_reason IS NOT NULL)"
            " OR (status != 'revoked' AND revocation_reason IS NULL)",
            name="revocation_reason_iff_revoked",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Public card number: 9 random Crockford base-32 characters and a check character.
    number: Mapped[str] = mapped_column(String(10), unique=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisan.id"), index=True)
    status: Mapped[CardStatus] = mapped_column(enum_column(CardStatus), default=CardStatus.ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(String(200))
    # Why a revoked card was revoked, as a code the roll-out can query ("fraud"; the note stays in status_reason).
    revocation_reason: Mapped[RevocationReason | None] = mapped_column(enum_column(RevocationReason))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Fixed slot in the signed status list; never reused by another card.
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_key.kid"), index=True)
    # The signed token is stored; QR images are rendered from it on demand.
    token: Mapped[str] = mapped_column(Text)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), unique=True)

    artisan: Mapped[Artisan] = relationship()
    signing_key: Mapped[SigningKey] = relationship()
    replaces: Mapped[Card | None] = relationship(
        remote_side=[id], back_populates="replaced_by", foreign_keys=[replaces_id]
    )
    replaced_by: Mapped[Card | None] = relationship(back_populates="replaces", uselist=False)

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at <= now


class SigningKeyState(enum.StrEnum):
    PUBLISHED = "published"  # in the JWKS ahead of use, has never signed: waits for `keys rotate --to`
    ACTIVE = "active"  # signs new cards and status lists; exactly one at a time
    VERIFY_ONLY = "verify_only"  # rotated out: its cards still verify
    RETIRED = "retired"  # withdrawn from the JWKS: its cards get the verdict unknown_key


class SigningKey(Base):
    """Public metadata of an ES256 key; the private key is keys/<kid>.pem, never in the database."""

    __tablename__ = "signing_key"
    __table_args__ = (partial_unique_index("uq_signing_key_one_active", "state", "state = 'active'"),)

    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    thumbprint: Mapped[str] = mapped_column(String(64), unique=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    state: Mapped[SigningKeyState] = mapped_column(enum_column(SigningKeyState))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StatusListState(Base):
    """The single status list: the next free index, and a version bumped on every status change."""

    __tablename__ = "status_list"
    __table_args__ = (CheckConstraint("next_index >= 0", name="next_index_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_index: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The last signed list token and the version it reflects (rebuilt lazily when stale).
    signed_token: Mapped[str | None] = mapped_column(Text)
    signed_version: Mapped[int | None] = mapped_column(Integer)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
