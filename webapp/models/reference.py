"""Reference tables: the 12 regions, handicraft sectors and trades, support programmes."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base


class TranslatedNames:
    """A name in each working language of the product."""

    name_fr: Mapped[str] = mapped_column(String(120))
    name_ar: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))


class Region(TranslatedNames, Base):
    """One of Morocco's 12 regions, each with its regional chamber of handicraft."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    # The regional chamber of handicraft: printed on the back of its cards and on their letters.
    # Seeded with the chamber's name and its seat city (reference_data.CHAMBERS); the ministry
    # completes the postal addresses (`flask --app wsgi reference chamber`), which seeding keeps.
    chamber_name_fr: Mapped[str | None] = mapped_column(String(160))
    chamber_name_ar: Mapped[str | None] = mapped_column(String(160))
    chamber_address_fr: Mapped[str | None] = mapped_column(String(300))
    chamber_address_ar: Mapped[str | None] = mapped_column(String(300))


class Sector(TranslatedNames, Base):
    """A branch of handicraft (art, utilitarian production, services)."""

    __tablename__ = "sector"

    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class Trade(TranslatedNames, Base):
    """A handicraft trade; its short code travels in the card token."""

    __tablename__ = "trade"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    sector_code: Mapped[str] = mapped_column(ForeignKey("sector.code"))

    sector: Mapped[Sector] = relationship()


class SupportProgramme(TranslatedNames, Base):
    """A support programme an artisan can belong to (excellence, export, women artisans...)."""

    __tablename__ = "support_programme"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
