"""What an artisan asks the chamber about their card (issue 15, part 6): a lost card, a renewal, a
correction of their details. Each request is a task for the officers of the artisan's region."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import Artisan, enum_column
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.card import Card
from webapp.models.user import User


class RequestKind(enum.StrEnum):
    LOST = "lost"
    RENEWAL = "renewal"
    CORRECTION = "correction"


class RequestState(enum.StrEnum):
    OPEN = "open"  # waiting for an officer
    IN_PROGRESS = "in_progress"  # an officer took it
    DONE = "done"
    DECLINED = "declined"  # closed without doing it; the officer's note says why


# A request still waiting for its end: at most one of each kind per card (a second "lost" while one
# is pending gets an answer, not a second task).
PENDING = "state IN ('open', 'in_progress')"
MAX_DETAIL_LENGTH = 500
MAX_NOTE_LENGTH = 500


class CardRequest(Base):
    __tablename__ = "card_request"
    __table_args__ = (
        # Enforced by the database, so two presses at once cannot make two tasks (decision 8).
        Index(
            "uq_card_request_pending",
            "card_id",
            "kind",
            unique=True,
            sqlite_where=text(PENDING),
            postgresql_where=text(PENDING),
        ),
        Index("ix_card_request_state_id", "state", "id"),
        CheckConstraint("kind != 'correction' OR detail IS NOT NULL", name="correction_has_detail"),
        CheckConstraint("state != 'declined' OR officer_note IS NOT NULL", name="declined_has_note"),
        CheckConstraint("(state IN ('done', 'declined')) = (handled_at IS NOT NULL)", name="handled_at_iff_closed"),
        CheckConstraint("state = 'open' OR handled_by_id IS NOT NULL", name="handled_by_once_taken"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisan.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind))
    # The artisan's own words (what is wrong in their details); none for the other kinds.
    detail: Mapped[str | None] = mapped_column(String(MAX_DETAIL_LENGTH))
    state: Mapped[RequestState] = mapped_column(enum_column(RequestState), default=RequestState.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The officer who took or closed it, and when it was closed.
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    officer_note: Mapped[str | None] = mapped_column(String(MAX_NOTE_LENGTH))
    # Optimistic concurrency: every change is `UPDATE ... WHERE version = <the version the officer
    # saw>`, so two officers acting on one task never overwrite each other unseen.
    version: Mapped[int] = mapped_column(Integer, default=1)

    card: Mapped[Card] = relationship()
    artisan: Mapped[Artisan] = relationship()
    handled_by: Mapped[User | None] = relationship(foreign_keys=[handled_by_id])
