"""Print batches for the postal printer (issue 16, part 3): which cards went to the printer
together, in which state the batch is, who moved it and when, and where its files are."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.artisan import Artisan, enum_column
from webapp.models.base import Base, UTCDateTime, partial_unique_index, utcnow
from webapp.models.card import Card
from webapp.models.user import User


class PrintBatchState(enum.StrEnum):
    PREPARED = "prepared"  # selected; its files are rendered by the batch's job
    SENT_TO_PRINTER = "sent_to_printer"
    PRINTED = "printed"
    DELIVERED = "delivered"  # the post delivered the cards (an end)
    RETURNED = "returned"  # the post brought them back undelivered (an end)


# A card in a batch that has not come back from the printer yet: it is put in no other batch.
IN_FLIGHT = "in_flight"


class PrintBatch(Base):
    __tablename__ = "print_batch"
    __table_args__ = (
        CheckConstraint("card_count >= 0", name="card_count_not_negative"),
        CheckConstraint("state = 'prepared' OR sent_at IS NOT NULL", name="sent_at_once_sent"),
        CheckConstraint("state NOT IN ('delivered', 'returned') OR ended_at IS NOT NULL", name="ended_at_once_ended"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None: a national batch (an administrator's, over every region).
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    state: Mapped[PrintBatchState] = mapped_column(enum_column(PrintBatchState), default=PrintBatchState.PREPARED)
    # How the cards were chosen (kind, numbers typed, limit), as shown on the batch's page.
    selection: Mapped[str] = mapped_column(String(40))
    # Each transition's time and who (None: the command line).
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    printed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Delivered or returned: the batch's end.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The job that renders the files.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    # Storage keys of the files, once rendered (webapp/services/jobs/storage.py).
    cards_file: Mapped[str | None] = mapped_column(String(255))
    letters_file: Mapped[str | None] = mapped_column(String(255))
    manifest_file: Mapped[str | None] = mapped_column(String(255))
    rendered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The files are deleted after PRINT_BATCH_RETENTION_DAYS; the rows stay.
    files_expire_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    card_count: Mapped[int] = mapped_column(Integer, default=0)
    reprint_count: Mapped[int] = mapped_column(Integer, default=0)
    card_pages: Mapped[int | None] = mapped_column(Integer)
    letter_pages: Mapped[int | None] = mapped_column(Integer)

    prepared_by: Mapped[User | None] = relationship(foreign_keys=[prepared_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    printed_by: Mapped[User | None] = relationship(foreign_keys=[printed_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])


class PrintBatchCard(Base):
    """A card in a batch: a card's print history is its rows."""

    __tablename__ = "print_batch_card"
    __table_args__ = (
        UniqueConstraint("batch_id", "card_id", name="uq_print_batch_card_batch_card"),
        UniqueConstraint("batch_id", "position", name="uq_print_batch_card_batch_position"),
        # Enforced by the database: two officers batching at once cannot put a card in two batches
        # on their way to the printer.
        partial_unique_index("uq_print_batch_card_in_flight", "card_id", IN_FLIGHT),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("print_batch.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    artisan_id: Mapped[int] = mapped_column(ForeignKey("artisan.id"), index=True)
    # The card's place in the batch (0-based): the order of the PDF, the letters and the manifest.
    position: Mapped[int] = mapped_column(Integer)
    # 1-based pages in the joined files, set once rendered: the front (the back is the next page).
    card_page: Mapped[int | None] = mapped_column(Integer)
    letter_page: Mapped[int | None] = mapped_column(Integer)
    # The card was printed in an earlier batch: printed again, nothing revoked.
    reprint: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # True while its batch is prepared or at the printer (cleared when printed).
    in_flight: Mapped[bool] = mapped_column(Boolean, default=True)

    batch: Mapped[PrintBatch] = relationship()
    card: Mapped[Card] = relationship()
    artisan: Mapped[Artisan] = relationship()
