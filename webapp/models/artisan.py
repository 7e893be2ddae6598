"""An artisan of the National Register of Handicraft (law 50-17)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Connection, Date, Enum, ForeignKey, Integer, String, Table, Text, event
from sqlalchemy import inspect as inspect_object
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from webapp.models import search_index
from webapp.models.base import Base, UTCDateTime, utcnow
from webapp.models.reference import Region, SupportProgramme, Trade
from webapp.models.search_keys import NAME_FIELDS, search_columns


class Gender(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"


class LegalStatus(enum.StrEnum):
    INDEPENDENT = "independent"
    MASTER_ARTISAN = "master_artisan"
    COOPERATIVE_MEMBER = "cooperative_member"
    COMPANY = "company"


class CnssStatus(enum.StrEnum):
    """Social security (CNSS) / health insurance (AMO) registration."""

    NOT_REGISTERED = "not_registered"
    PRE_REGISTERED = "pre_registered"
    REGISTERED = "registered"


def enum_column(enum_class: type[enum.Enum], length: int = 24) -> Enum:
    """Store an enum by value as a plain string with a CHECK constraint (portable, readable)."""
    return Enum(
        enum_class,
        values_callable=lambda members: [member.value for member in members],
        native_enum=False,
        create_constraint=True,
        length=length,
        name=enum_class.__name__.lower(),
    )


artisan_programme = Table(
    "artisan_programme",
    Base.metadata,
    Column("artisan_id", ForeignKey("artisan.id", ondelete="CASCADE"), primary_key=True),
    Column("programme_code", ForeignKey("support_programme.code"), primary_key=True),
)


class Artisan(Base):
    __tablename__ = "artisan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Registre National de l'Artisanat number.
    rna_number: Mapped[str] = mapped_column(String(20), unique=True)
    # Carte Nationale d'Identité Électronique number; never put in a card token.
    cin: Mapped[str] = mapped_column(String(10), unique=True)
    first_name_latin: Mapped[str] = mapped_column(String(60))
    last_name_latin: Mapped[str] = mapped_column(String(60))
    first_name_ar: Mapped[str] = mapped_column(String(60))
    last_name_ar: Mapped[str] = mapped_column(String(60))
    # Indexed: a new registration looks up artisans born the same day (likely duplicates).
    birth_date: Mapped[date] = mapped_column(Date, index=True)
    gender: Mapped[Gender] = mapped_column(enum_column(Gender))
    phone: Mapped[str | None] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    province: Mapped[str] = mapped_column(String(60))
    # The postal address the card's letter is sent to; none: the card is collected at the chamber.
    address_line: Mapped[str | None] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(60))
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"), index=True)
    legal_status: Mapped[LegalStatus] = mapped_column(enum_column(LegalStatus))
    cnss_status: Mapped[CnssStatus] = mapped_column(enum_column(CnssStatus))
    cooperative_name: Mapped[str | None] = mapped_column(String(120))
    activity_start_year: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic concurrency (webapp/services/concurrency.py): every save of the edit form moves it
    # on with `UPDATE ... WHERE version = <the version the officer saw>`; imports move it on too.
    version: Mapped[int] = mapped_column(Integer, server_default="1")  # by the database: bulk inserts too
    # Derived from the names and the phone (webapp/models/search_keys.py) and kept in step by the
    # mapper events below; writers that bypass the ORM (bulk inserts) add search_columns(row) to
    # their rows or call webapp.services.register.search.reindex_artisans afterwards.
    search_keys: Mapped[str | None] = mapped_column(Text, deferred=True)
    phone_key: Mapped[str | None] = mapped_column(String(15), index=True)

    region: Mapped[Region] = relationship()
    trade: Mapped[Trade] = relationship()
    programmes: Mapped[list[SupportProgramme]] = relationship(secondary=artisan_programme)

    @property
    def name_latin(self) -> str:
        return f"{self.first_name_latin} {self.last_name_latin}"

    @property
    def name_ar(self) -> str:
        return f"{self.first_name_ar} {self.last_name_ar}"


# The full-text index over search_keys: an FTS5 table on SQLite, a GIN index on PostgreSQL.
search_index.attach(Artisan.__table__)
_SEARCHED_FIELDS = (*NAME_FIELDS, "phone")


@event.listens_for(Artisan, "before_insert")
def _key_new_artisan(_mapper: Mapper[Artisan], _connection: Connection, artisan: Artisan) -> None:
    _set_search_columns(artisan)


@event.listens_for(Artisan, "before_update")
def _rekey_changed_artisan(_mapper: Mapper[Artisan], _connection: Connection, artisan: Artisan) -> None:
    # Only when a searched field changed: rewriting the keys costs an index update.
    state = inspect_object(artisan)
    if any(state.attrs[name].history.has_changes() for name in _SEARCHED_FIELDS):
        _set_search_columns(artisan)


def _set_search_columns(artisan: Artisan) -> None:
    values: dict[str, Any] = {name: getattr(artisan, name) for name in _SEARCHED_FIELDS}
    for name, value in search_columns(values).items():
        setattr(artisan, name, value)
