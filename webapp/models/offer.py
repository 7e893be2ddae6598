"""What partners grant card holders: offers, their per-card withdrawals, redemptions and quotas,
and the signed eligibility list of each offer."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import enum_column
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.card import Card
from webapp.models.partner import ApiKey, Organisation
from webapp.models.user import User


class OfferState(enum.StrEnum):
    DRAFT = "draft"  # the partner's manager is writing it
    SUBMITTED = "submitted"  # waiting for a national administrator
    APPROVED = "approved"  # applies to card holders within its validity window
    PAUSED = "paused"  # approved, then stopped for a while by an administrator
    RETIRED = "retired"  # over for good


class QuotaPeriod(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"


class Offer(Base):
    """An advantage a partner grants valid card holders who meet its eligibility conditions."""

    __tablename__ = "offer"
    __table_args__ = (
        CheckConstraint("(quota_count IS NULL) = (quota_period IS NULL)", name="quota_complete"),
        CheckConstraint("quota_count IS NULL OR quota_count > 0", name="quota_positive"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="window_ordered"),
        CheckConstraint("version > 0", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    # What the holder gets, in a few words ("-30 % on national parcels").
    benefit_fr: Mapped[str] = mapped_column(String(200))
    benefit_ar: Mapped[str] = mapped_column(String(200))
    benefit_en: Mapped[str] = mapped_column(String(200))
    description_fr: Mapped[str] = mapped_column(Text, default="")
    description_ar: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Calendar days in Morocco, both included.
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # The eligibility rule: a list of {"label": {fr, ar, en}, "logic": <JsonLogic>} (docs/offers.md).
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    quota_count: Mapped[int | None] = mapped_column(Integer)
    quota_period: Mapped[QuotaPeriod | None] = mapped_column(enum_column(QuotaPeriod))
    # What a redemption records: a list of typed fields with bounds (docs/offers.md).
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    state: Mapped[OfferState] = mapped_column(enum_column(OfferState), default=OfferState.DRAFT, index=True)
    # Bumped on every change that can change who is eligible (rule, window, state, withdrawals):
    # the signed eligibility list is rebuilt when it no longer matches.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A draft deleted by its manager: the row stays (audit events name it), out of every list and page.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    def name(self, language: str) -> str:
        return getattr(self, f"name_{language}", None) or self.name_fr

    def benefit(self, language: str) -> str:
        return getattr(self, f"benefit_{language}", None) or self.benefit_fr

    def description(self, language: str) -> str:
        return getattr(self, f"description_{language}", None) or self.description_fr


class OfferWithdrawal(Base):
    """One offer taken away from one card (fraud on shipping rates, say), the card untouched."""

    __tablename__ = "offer_withdrawal"
    __table_args__ = (
        # At most one withdrawal in force per offer and card.
        Index(
            "uq_offer_withdrawal_in_force",
            "offer_id",
            "card_id",
            unique=True,
            sqlite_where=text("lifted_at IS NULL"),
            postgresql_where=text("lifted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    withdrawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by: Mapped[str] = mapped_column(String(80))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()
    card: Mapped[Card] = relationship()


class QuotaUsage(Base):
    """How many redemptions a card has used of an offer's quota in one period ("2026-12").

    Redemptions take a unit with one conditional UPDATE (`used < quota`), atomic on SQLite and
    PostgreSQL alike, so concurrent requests can never exceed the quota.
    """

    __tablename__ = "quota_usage"
    __table_args__ = (CheckConstraint("used >= 0", name="used_non_negative"),)

    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class Redemption(Base):
    """A card holder used an offer at a partner's counter; never deleted (a mistaken one is voided)."""

    __tablename__ = "redemption"
    __table_args__ = (
        CheckConstraint("recorded_by_user_id IS NOT NULL OR api_key_id IS NOT NULL", name="recorded_by_someone"),
        CheckConstraint("(reported_at IS NULL) = (reported_by_user_id IS NULL)", name="report_complete"),
        CheckConstraint(
            "(voided_at IS NULL) = (voided_by_user_id IS NULL) AND (voided_at IS NULL) = (void_reason IS NULL)",
            name="void_complete",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    # When it happened at the counter (the phone's time for a redemption queued offline) and when
    # the server stored it.
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The quota period it counts in ("2026-12-02", "2026-12", "2026"), None without a quota.
    period: Mapped[str | None] = mapped_column(String(10))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    # A late (offline) redemption beyond the quota is stored and flagged, never dropped.
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    made_offline: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    # "This was not me": the holder reported the use of their card (audited too).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A manager voided it (recorded by mistake): kept, shown struck, out of counts, its quota unit given back.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))

    offer: Mapped[Offer] = relationship()
    card: Mapped[Card] = relationship()
    api_key: Mapped[ApiKey | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_user_id])


class IdempotencyRecord(Base):
    """The first answer to a request sent with an `Idempotency-Key`, replayed for its retries.

    The unique key is claimed in the same transaction as the work, so two concurrent requests with
    one key do the work once: the second waits for the first and then finds its record.
    """

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("organisation_id", "key", name="uq_idempotency_record_organisation_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    key: Mapped[str] = mapped_column(String(255))
    # The SHA-256 of the request (method, path, body): the same key with another request is refused.
    request_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EligibilityListState(Base):
    """The last signed eligibility list of an offer and what it was built from."""

    __tablename__ = "eligibility_list"

    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), primary_key=True)
    offer_version: Mapped[int] = mapped_column(Integer)
    # The versions of the register when the list was built: the status list's (cards' statuses and
    # indices) and the artisans' attributes' (RegisterState); a change of either rebuilds the list.
    register_version: Mapped[int] = mapped_column(Integer)
    artisans_version: Mapped[int] = mapped_column(Integer, default=0)
    signed_token: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    eligible_count: Mapped[int] = mapped_column(Integer)
