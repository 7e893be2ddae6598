"""Exports of the register: artisans as spreadsheet rows, streamed, in flat memory.

The columns are the import template's (FIELDS, same names, same stored forms) followed by the
artisan's current card (number, status as a verifier reads it today, expiry): an exported file,
edited, imports again (the import ignores the card columns). Cells a spreadsheet would run as a
formula are neutralised (a leading quote), and the import reads them back.

What to export is either a select of artisan ids (services/register/artisans.artisan_ids builds
one from a list's search and filters, within the reader's scope) or the ids themselves. Rows are read
a page at a time by id, so the national register (622,000 artisans) never sits in memory.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import Artisan, Card, artisan_programme, utcnow
from webapp.services.cards.lifecycle import state_of
from webapp.services.register.artisan_fields import FIELDS
from webapp.services.register.imports import CARD_COLUMNS
from webapp.services.spreadsheets import csv_chunks, neutralised, write_xlsx

EXPORT_COLUMNS: tuple[str, ...] = (*FIELDS, *CARD_COLUMNS)
PAGE_SIZE = 2_000
_COLUMNS = [Artisan.__table__.c[name] for name in FIELDS if name != "programmes"]
SHEET_TITLE = "register"


def count_selected(session: Session, selection: Select[Any]) -> int:
    """How many artisans a select of artisan ids chooses."""
    return session.scalar(select(func.count()).select_from(selection.order_by(None).subquery())) or 0


def _id_pages(session: Session, artisans: Select[Any] | Iterable[int]) -> Iterator[list[int]]:
    if isinstance(artisans, Select):
        last = 0
        page_query = artisans.order_by(None).order_by(Artisan.id).limit(PAGE_SIZE)
        while ids := list(session.scalars(page_query.where(Artisan.id > last))):
            yield ids
            last = ids[-1]
        return
    page: list[int] = []
    for artisan_id in artisans:
        page.append(artisan_id)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page


def export_rows(
    session: Session, artisans: Select[Any] | Iterable[int], now: datetime | None = None
) -> Iterator[list[Any]]:
    """One row of EXPORT_COLUMNS per artisan (cells neutralised), a page of ids at a time: a select
    of artisan ids (read in id order) or the ids themselves (in their order). Ids of no artisan are
    skipped; the caller restricts what it passes to the reader's scope."""
    now = now or utcnow()
    for ids in _id_pages(session, artisans):
        found = {row.id: row for row in session.execute(select(Artisan.id, *_COLUMNS).where(Artisan.id.in_(ids)))}
        programmes: dict[int, list[str]] = {}
        statement = (
            select(artisan_programme.c.artisan_id, artisan_programme.c.programme_code)
            .where(artisan_programme.c.artisan_id.in_(ids))
            .order_by(artisan_programme.c.programme_code)
        )
        for artisan_id, code in session.execute(statement):
            programmes.setdefault(artisan_id, []).append(code)
        cards: dict[int, Any] = {}
        statement = (
            select(Card.artisan_id, Card.number, Card.status, Card.expires_at)
            .where(Card.artisan_id.in_(ids))
            .order_by(Card.id)
        )
        for card in session.execute(statement):
            cards[card.artisan_id] = card  # the latest card wins
        for artisan_id in ids:
            row = found.get(artisan_id)
            if row is not None:
                cells = _cells(row, programmes.get(artisan_id, []), cards.get(artisan_id), now)
                yield [neutralised(value) for value in cells]


def _cells(row: Any, programmes: list[str], card: Any, now: datetime) -> list[Any]:
    cells: list[Any] = [_cell(getattr(row, name)) for name in FIELDS if name != "programmes"]
    cells.append(";".join(programmes))
    if card is None:
        return [*cells, "", "", ""]
    expires = card.expires_at.astimezone(MOROCCO).date().isoformat()
    return [*cells, card.number, state_of(card.status, card.expires_at, now), expires]


def _cell(value: Any) -> Any:
    """Stored values as the import reads them: enum values, ISO dates, empty for none."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_export(session: Session, artisans: Select[Any] | Iterable[int], path: Path) -> int:
    """An export written to a file: XLSX when its name ends in .xlsx, CSV (UTF-8 with BOM)
    otherwise. Returns the number of artisans written."""
    with path.open("wb") as target:
        return write_export_to(session, artisans, target, xlsx=path.suffix.lower() == ".xlsx")


def write_export_to(
    session: Session,
    artisans: Select[Any] | Iterable[int],
    target: IO[bytes],
    *,
    xlsx: bool,
    progress: Callable[[int], None] | None = None,
    every: int = PAGE_SIZE,
) -> int:
    """An export written into a binary file: XLSX (openpyxl's write-only mode: flat memory at any
    size) or CSV (UTF-8 with BOM). `progress(rows written)` is called every `every` rows (a job's
    progress and cancellation point). Returns the number of artisans written."""
    written = 0

    def counted() -> Iterator[list[Any]]:
        nonlocal written
        for row in export_rows(session, artisans):
            written += 1
            if progress is not None and written % every == 0:
                progress(written)
            yield row

    if xlsx:
        write_xlsx(EXPORT_COLUMNS, counted(), SHEET_TITLE, target)
    else:
        for chunk in csv_chunks(EXPORT_COLUMNS, counted()):
            target.write(chunk.encode("utf-8"))
    return written
