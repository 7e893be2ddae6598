"""The print batch's manifest for the postal printer: one CSV row per card, saying where its card
pages and its letter page are in the batch's PDFs and where the envelope goes. No Flask here."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

COLUMNS = (
    "card_number",
    "name_latin",
    "name_ar",
    "delivery_address",
    "chamber",
    "card_pages",
    "letter_page",
)


@dataclass(frozen=True)
class ManifestRow:
    card_number: str
    name_latin: str
    name_ar: str
    delivery_address: str  # lines joined with " / "; the chamber's address when collected there
    chamber: str
    card_pages: str  # in the cards PDF, e.g. "3-4" (front-back)
    letter_page: int  # in the letters PDF

    @staticmethod
    def pages_of(index: int) -> tuple[str, int]:
        """The card pages and the letter page of the card at `index` (0-based) in a batch."""
        return f"{2 * index + 1}-{2 * index + 2}", index + 1


def write_manifest(rows: Iterable[ManifestRow], target: TextIO) -> int:
    """Write the header and the rows as CSV (UTF-8 as the target encodes it; open it with
    newline=""); returns the rows written."""
    writer = csv.writer(target)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(
            (
                row.card_number,
                row.name_latin,
                row.name_ar,
                row.delivery_address,
                row.chamber,
                row.card_pages,
                row.letter_page,
            )
        )
        count += 1
    return count
