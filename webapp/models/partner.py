"""Partner organisations (transporters, market organisers, lenders, training bodies) and the API
keys their systems call us with."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import enum_column
from webapp.models.base import Base, UTCDateTime, utcnow


class PartnerKind(enum.StrEnum):
    TRANSPORTER = "transporter"
    MARKET_ORGANISER = "market_organiser"
    LENDER = "lender"
    TRAINING_BODY = "training_body"


class Organisation(Base):
    """A partner organisation (transporter, market organiser, lender, training body)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(enum_column(PartnerKind))


class ApiKey(Base):
    """A key a partner's system presents as `Authorization: Bearer ca_<prefix>_<secret>`.

    Only the SHA-256 of the secret is stored (the secret is 256 random bits, so a slow hash adds
    nothing); the prefix finds the row, so checking a key is one indexed lookup.
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
