"""Partner organisations (transporters, market organisers, lenders, training bodies...), the kinds
they come in, and the API keys their systems call us with."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.reference import TranslatedNames


class PartnerKind(TranslatedNames, Base):
    """A kind of partner organisation. Reference data, not an enum: a new cooperation agreement
    may bring a new kind without a migration."""

    __tablename__ = "partner_kind"
    __table_args__ = (CheckConstraint("max_bundle_age_hours > 0", name="max_bundle_age_positive"),)

    code: Mapped[str] = mapped_column(String(24), primary_key=True)
    # How old a verifier's trust bundle may be before its staff's phones stop saying "valid".
    max_bundle_age_hours: Mapped[int] = mapped_column(Integer)


# The kinds the product ships with (reference_data.py seeds them with their names).
TRANSPORTER = "transporter"
MARKET_ORGANISER = "market_organiser"
LENDER = "lender"
TRAINING_BODY = "training_body"
OTHER = "other"


class Organisation(Base):
    """A partner organisation; its staff and systems see only its own offers and redemptions."""

    __tablename__ = "organisation"
    __table_args__ = (CheckConstraint("slug <> ''", name="slug_not_empty"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A short stable name for commands and URLs ("barid-colis").
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind_code: Mapped[str] = mapped_column(ForeignKey("partner_kind.code"), index=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kind: Mapped[PartnerKind] = relationship()


class ApiKey(Base):
    """A key a partner's system presents as `Authorization: Bearer ca_<prefix>_<secret>`.

    Only the SHA-256 of the secret is stored (the secret is 256 random bits, so a slow hash adds
    nothing); the prefix finds the row, so checking a key is one indexed lookup.
    """

    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint("scopes <> ''", name="has_scopes"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    # Space-separated, sorted: what the key may do ("eligibility redeem verify").
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written at most once a minute per key, so a busy key costs no write per request.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now
