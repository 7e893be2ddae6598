"""Spreadsheet files the product writes (exports, templates): CSV that Excel opens in Arabic, XLSX
written row by row, and cells that a spreadsheet will never run as formulas."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# Spreadsheet applications run a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A byte order mark, so that Excel reads a CSV file's Arabic as UTF-8 (not as the PC's code page).
BOM = "\ufeff"
XLSX_MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Exports of the whole register are large: past this size the workbook being built goes to disk.
_SPOOL_BYTES = 8 * 1024 * 1024


def neutralised(value: Any) -> Any:
    """A cell value a spreadsheet will not run as a formula (a leading quote on =, +, -, @...)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralised(text: str) -> str:
    """The value `neutralised` wrote, read back (an export edited and imported again)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], rows_per_chunk: int = 200) -> Iterator[str]:
    """A CSV file (BOM, header, rows; cells given as they are) as text chunks, written as the rows come."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str, target: IO[bytes]) -> None:
    """An XLSX workbook of one sheet into `target`. openpyxl's write-only mode keeps no row in memory."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])  # Excel's limit for a sheet's name
    sheet.append(list(header))
    for row in rows:
        # Control characters are not allowed in the XML of a workbook: drop them.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell for cell in row])
    workbook.save(target)


def xlsx_spool(header: Sequence[str], rows: Iterable[Sequence[Any]], sheet_title: str) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small), positioned at its start. A zip is
    finished only at its end, so a workbook cannot be sent before it is whole; the caller closes it."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (returned open)
    write_xlsx(header, rows, sheet_title, spool)
    spool.seek(0)
    return spool


def file_chunks(source: IO[bytes], chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """The rest of a file, in chunks; closes it at the end (or when the reader stops early)."""
    with source:
        while chunk := source.read(chunk_size):
            yield chunk
