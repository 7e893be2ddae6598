"""People who sign in and their role."""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.models.artisan import Artisan, enum_column
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.partner import Organisation
from webapp.models.reference import Region


class Role(enum.StrEnum):
    ADMIN = "admin"  # national administrator
    OFFICER = "officer"  # registry officer of one regional chamber
    PARTNER_MANAGER = "partner_manager"  # manages a partner organisation's staff, API keys and offers
    PARTNER_AGENT = "partner_agent"  # counter or gate staff of a partner: verifies cards, records redemptions
    ARTISAN = "artisan"


PARTNER_ROLES = (Role.PARTNER_MANAGER, Role.PARTNER_AGENT)


class User(UserMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        # Each role is bound to exactly what its job needs.
        CheckConstraint("role != 'officer' OR region_code IS NOT NULL", name="officer_has_region"),
        CheckConstraint(
            "role NOT IN ('partner_manager', 'partner_agent') OR organisation_id IS NOT NULL", name="partner_has_org"
        ),
        CheckConstraint("role != 'artisan' OR artisan_id IS NOT NULL", name="artisan_has_record"),
        CheckConstraint("failed_sign_ins >= 0", name="failed_sign_ins_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisan.id"), unique=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when someone else chose the password (an administrator's or a manager's temporary one):
    # every page then leads to the change-password screen until the person chooses their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Failed sign-ins in a row (reset by a success, or when the last failure is older than the lock
    # delay); at the threshold the account is locked until `locked_until` (webapp/services/accounts).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_failed_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An artisan's mobile number for sign-in codes by SMS, E.164 (+212612345678), given at card
    # activation (webapp/services/cards/card_app.py); never shown to anyone else.
    phone: Mapped[str | None] = mapped_column(String(16))
    # The live sign-in code sent to that phone, if any: only its keyed hash, and when it ends. One per
    # account by construction (a new one replaces it); cleared when used (webapp/services/accounts/sms_codes.py).
    sign_in_code_hash: Mapped[str | None] = mapped_column(String(64))
    sign_in_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    region: Mapped[Region | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    artisan: Mapped[Artisan | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled accounts cannot sign in
        return self.is_enabled

    @property
    def password_fingerprint(self) -> str:
        """A short digest of the password hash: it changes whenever the password does."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]

    def get_id(self) -> str:
        # Flask-Login keeps this in the session cookie: with the password's fingerprint in it, a
        # password change or an administrator's reset ends every other session of the account.
        return f"{self.id}.{self.password_fingerprint}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
