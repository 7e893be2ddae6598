"""Who checked a card (issue 15, part 5): each online check by a partner, and a monthly count of the
anonymous public checks (never listed: the public page has no caller to name). Both are deleted
after CARD_CHECK_RETENTION_MONTHS (`flask --app wsgi cards purge-checks`)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import enum_column
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.partner import Organisation


class CheckKind(enum.StrEnum):
    STAFF_SCAN = "staff_scan"  # partner staff signed in: a scanned code through POST /api/v1/verify
    STAFF_NUMBER = "staff_number"  # partner staff signed in: a typed number on /partner/check
    SYSTEM_SCAN = "system_scan"  # a partner's system (API key): POST /api/v1/verify
    SYSTEM_NUMBER = "system_number"  # a partner's system (API key): GET /api/v1/eligibility


class CardCheck(Base):
    """One check of a card by a partner, as its holder sees it: organisation, time, place if given."""

    __tablename__ = "card_check"
    __table_args__ = (
        # The holder's page lists a card's checks newest first; the purge deletes by age.
        Index("ix_card_check_card_id_checked_at", "card_id", "checked_at"),
        CheckConstraint("user_id IS NULL OR api_key_id IS NULL", name="one_checker"),
        # A report says who and when, both or neither.
        CheckConstraint("(reported_at IS NULL) = (reported_by_user_id IS NULL)", name="report_complete"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[CheckKind] = mapped_column(enum_column(CheckKind))
    # Where the partner said the check took place ("Agence Fès Batha"), as sent; None when not given.
    place: Mapped[str | None] = mapped_column(String(120))
    # Which of the partner's people or keys checked (for an investigation; never shown to the holder).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    # "This was not me": the holder reported the check (audited too).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    organisation: Mapped[Organisation] = relationship()


class AnonymousCheckCount(Base):
    """How many times a card was checked without credentials (the public page) in one month in
    Morocco ("2026-12"): one row per card and month, counted with one upsert."""

    __tablename__ = "card_check_count"
    __table_args__ = (CheckConstraint("checks > 0", name="checks_positive"),)

    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    checks: Mapped[int] = mapped_column(Integer, default=1)
