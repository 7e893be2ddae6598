"""One-time form tokens: a create form sent twice (back button, second click) creates one record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, utcnow


class FormSubmission(Base):
    """A create form's one-time token, claimed by the request that did the work, in its transaction
    (a refused form rolls the claim back: the same token may be sent again once corrected)."""

    __tablename__ = "form_submission"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Who sent it: another person's token is never replayed to them.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    form: Mapped[str] = mapped_column(String(40))
    # Where the record it created is shown; a replay of the token leads there.
    result_url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
