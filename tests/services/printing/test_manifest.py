"""The batch manifest: a CSV row per card with its pages in the batch's PDFs."""

from __future__ import annotations

import csv
import io

from webapp.services.printing.manifest import COLUMNS, ManifestRow, write_manifest


def test_rows_with_page_numbers_round_trip():
    """Header, then one row per card; the third card's pages are 5-6 and its letter page 3."""
    pages, letter = ManifestRow.pages_of(2)
    row = ManifestRow(
        "7KQ3M9X2AB", "Abdellah El Alaoui", "عبد الله العلاوي", "12, derb / 30110 Fès", "Chambre 03", pages, letter
    )
    target = io.StringIO(newline="")
    assert write_manifest([row], target) == 1
    read = list(csv.reader(io.StringIO(target.getvalue())))
    assert read[0] == list(COLUMNS)
    assert read[1] == [
        "7KQ3M9X2AB",
        "Abdellah El Alaoui",
        "عبد الله العلاوي",
        "12, derb / 30110 Fès",
        "Chambre 03",
        "5-6",
        "3",
    ]
