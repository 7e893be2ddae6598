"""The holder's photo of an artisan (issue 15, part 7), in a table of its own: a card-sized JPEG
is tens of kilobytes, and the artisan rows are read in bulk (search, lists, exports, eligibility)
where it would only weigh on every page of rows it sits beside."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, utcnow


class ArtisanPhoto(Base):
    __tablename__ = "artisan_photo"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="positive_size"),
        CheckConstraint("length(sha256) = 64", name="sha256_hex"),
    )

    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisan.id", ondelete="CASCADE"), primary_key=True)
    # Deferred: what a page needs to show or check the photo (its digest, for the ETag and the
    # officers' version check) is read without the bytes.
    jpeg: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # SHA-256 of the JPEG, hex: the ETag, and the version an officer's replacement must name.
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The person who set it (none for a command or the demo seed: the audit trail names them).
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
