"""Bulk import of the register from a spreadsheet: CSV (UTF-8, UTF-8 with a BOM or Windows-1256
Arabic; comma or semicolon separated, as Excel writes it in French) or XLSX.

The file is refused whole before any row is read when it is too large, of another type, or its
header row does not name the register's columns (FIELDS, in any order; the address columns and
`rna_number` may be left out). Then each row goes
through the register's one set of field rules (artisan_fields.clean_artisan_record); a row may
also be refused for a formula cell, a duplicate of an earlier row (same RNA number or CIN), an
RNA number and a CIN that belong to two different artisans, or a region outside the importer's.
A valid row updates the artisan with its RNA number, else the one with its CIN (only the fields
that changed), or registers a new artisan: importing the same file twice changes nothing.

RNA numbers: a row may bring one (a number a chamber already gave), checked for the register's
format (RNA-03-0001234) and for the row's region (the two digits after RNA- are the region's
code), each with its own reason on the row; a row without one updates the artisan with its CIN
(whose number stays) or is a new artisan, who gets the next number of their region
(services/register/numbers.py). Each region's counter is moved past the numbers a file brings, so
a number the system gives later never collides with an imported one.

Three modes: a dry run reports every problem and what would change, and writes nothing; an
import writes every valid row (a transaction per batch, so other work is never kept waiting
long) and reports the refused ones; a strict import checks the whole file first and writes
nothing at all if any row is refused (then writes in one transaction).

Rows are read and written in batches (one look-up query per batch, bulk inserts and updates),
streamed from the file, so that the national register (622,000 rows) imports in about a minute
in flat memory: what grows with the file is only the keys already seen, to tell duplicates.
"""

from __future__ import annotations

import codecs
import csv
import enum
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from webapp.clock import MOROCCO
from webapp.models import Artisan, ImportFileKind, artisan_programme, utcnow
from webapp.models.search_keys import NAME_FIELDS, search_columns
from webapp.services.audit import Actor, record_event
from webapp.services.bulk import bulk_insert
from webapp.services.errors import N_, DomainError
from webapp.services.register.artisan_fields import (
    FIELDS,
    OPTIONAL_COLUMNS,
    ArtisanRecord,
    InvalidArtisan,
    ReferenceCodes,
    clean_artisan_record,
    reference_codes,
)
from webapp.services.register.artisans import artisans_written
from webapp.services.register.numbers import allocate_rna_numbers, keep_counters_above
from webapp.services.register.search import reindex_artisans
from webapp.services.scope import Scope
from webapp.services.spreadsheets import unneutralised

BATCH_SIZE = 2_000
MAX_PROBLEMS_KEPT = 1_000
MAX_CHANGES_KEPT = 1_000
# Columns an export adds after the register's fields: an exported file, edited, imports again
# (these columns are read-only: the import ignores them).
CARD_COLUMNS = ("card_number", "card_status", "card_expires_at")
# An XLSX file is a zip: what it may unpack to, at most, as a multiple of the largest file accepted
# (a register's sheet compresses about ten times; a "zip bomb" would exhaust the disk or memory).
MAX_UNPACK_RATIO = 20
_SNIFF_BYTES = 8 * 1024
_READ_CHUNK = 1024 * 1024
_ZIP_SIGNATURE = b"PK\x03\x04"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls), not accepted
_UTF8_BOM = codecs.BOM_UTF8
_DELIMITERS = (",", ";", "\t")
_COLUMNS = tuple(name for name in FIELDS if name != "programmes")
_KEY_COLUMNS = frozenset({"rna_number", "cin"})
# Columns a file may leave out: the address lines (kept as the register has them) and the RNA
# number, which the system gives: a file without the column is one whose rows have no number.
OPTIONAL_HEADER_COLUMNS = OPTIONAL_COLUMNS | {"rna_number"}
# What openpyxl raises on a damaged or hostile workbook (it has no error class of its own for them).
_WORKBOOK_ERRORS = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, ParseError)
_ARTISAN = Artisan.__table__
_PROGRAMME = artisan_programme
_SEARCHED = frozenset((*NAME_FIELDS, "phone"))
_ROWS_PER_INSERT = 1_000

ProgressCallback = Callable[[int, int | None], None]
ProblemSink = Callable[["RowProblem"], None]
ChangeSink = Callable[["RowChange"], None]
SessionScope = Callable[[], AbstractContextManager[Session]]


class ImportMode(enum.StrEnum):
    DRY_RUN = "dry_run"
    IMPORT = "import"
    STRICT = "strict"


# --- refusals of the whole file ---------------------------------------------------------------------


_MEGABYTE = 1024 * 1024


def megabytes(size: int) -> str:
    """A size in megabytes as people read it: 200, 1.5."""
    return f"{size / _MEGABYTE:.1f}".removesuffix(".0")


class ImportRefused(DomainError):
    """The file is refused before any row is read (nothing is written)."""

    code = "import_refused"
    http_status = 422


class FileTooLarge(ImportRefused):
    code = "file_too_large"
    http_status = 413
    message = N_("The file is larger than %(limit)s MB: split it into several files.")

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < _MEGABYTE:  # small limits (tests, a cautious set-up) in kilobytes
            self.message = N_("The file is larger than %(limit)s KB: split it into several files.")  # type: ignore[misc]
            super().__init__(limit=max_bytes // 1024)
        else:
            super().__init__(limit=megabytes(max_bytes))


class UnknownFileType(ImportRefused):
    code = "unknown_file_type"
    message = N_(
        "This file is neither a CSV file nor an Excel workbook (.xlsx): save the spreadsheet as "
        "“CSV UTF-8” or as an Excel workbook."
    )


class UnreadableWorkbook(ImportRefused):
    code = "unreadable_workbook"
    message = N_("This Excel workbook cannot be read: open it in a spreadsheet application and save it again.")


class WorkbookTooLarge(ImportRefused):
    code = "workbook_too_large"
    message = N_("This Excel workbook unpacks to more than %(limit)s MB: split it into several files.")

    def __init__(self, max_bytes: int) -> None:
        super().__init__(limit=megabytes(max_bytes))


class EmptyFile(ImportRefused):
    code = "empty_file"
    message = N_("The file is empty: it needs the header row, then one row per artisan.")


class WrongColumns(ImportRefused):
    """The header row does not name the register's columns: one problem naming all that is wrong."""

    code = "wrong_columns"

    def __init__(self, missing: Sequence[str], unknown: Sequence[str], repeated: Sequence[str]) -> None:
        if repeated:
            self.message = N_("Columns named twice in the header row: %(repeated)s.")  # type: ignore[misc]
        elif missing and unknown:
            self.message = N_(  # type: ignore[misc]
                "The header row does not match the template: missing columns %(missing)s; unknown columns %(unknown)s."
            )
        elif missing:
            self.message = N_("The header row does not match the template: missing columns %(missing)s.")  # type: ignore[misc]
        else:
            self.message = N_("The header row does not match the template: unknown columns %(unknown)s.")  # type: ignore[misc]
        super().__init__(missing=", ".join(missing), unknown=", ".join(unknown), repeated=", ".join(repeated))
        self.missing, self.unknown, self.repeated = list(missing), list(unknown), list(repeated)


# --- problems of rows ---------------------------------------------------------------------------------

FORMULA = N_("A formula is not accepted: type the value itself.")
SAME_RNA = N_("The same RNA number as line %(line)s.")
SAME_CIN = N_("The same CIN as line %(line)s.")
TWO_ARTISANS = N_("This RNA number and this CIN belong to two different artisans of the register.")
NOT_YOUR_REGION = N_("You may import only artisans of your region (%(region)s).")
ARTISAN_OF_ANOTHER_REGION = N_(
    "This artisan is registered in another region: only that region's chamber may change them."
)
EXTRA_CELLS = N_("This row has more cells than the header row has columns.")
UNREADABLE_FROM_HERE = N_(
    "The file cannot be read from this line on (a quotation mark left open, or a cell too long): "
    "the rows after it were not read."
)


@dataclass(frozen=True)
class RowProblem:
    """What is wrong on one line of the file (the header is line 1), in one column when it is a
    cell's problem (None for the whole row). `message` is marked for translation, `params` fill it."""

    line: int
    column: str | None
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The message in English (the CLI's language)."""
        return self.message % self.params if self.params else self.message


@dataclass(frozen=True)
class RowChange:
    """What a row changes on an artisan already in the register: for each field that differs,
    (before, after) as the audit trail keeps values (ISO dates, enum values, a sorted list of
    programme codes). `rna_number` and `name` say who, as the register had them before."""

    line: int
    artisan_id: int
    rna_number: str
    name: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class ImportReport:
    """What an import did, or a dry run would do. Every problem is counted; the first ones are kept."""

    mode: ImportMode
    rows: int = 0  # data rows read (empty rows are skipped)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0  # rows with at least one problem
    problem_count: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # The first updates with what they change (every one goes to the on_change sink).
    changes: list[RowChange] = field(default_factory=list)
    written: bool = False  # whether anything was written to the register
    # The line where reading stopped, when the file could not be read to its end.
    stopped_at: int | None = None

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass(frozen=True)
class _Formula:
    """A formula cell of a workbook, kept apart: never evaluated, never stored."""

    text: str


# --- reading files ------------------------------------------------------------------------------------


def check_file(path: Path, max_bytes: int) -> ImportFileKind:
    """The file's kind, told by its content (never by its name); FileTooLarge, EmptyFile or
    UnknownFileType before anything else is read."""
    size = path.stat().st_size
    if size > max_bytes:
        raise FileTooLarge(max_bytes)
    if size == 0:
        raise EmptyFile()
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(_ZIP_SIGNATURE):
        return ImportFileKind.XLSX
    if head.startswith(_OLE_SIGNATURE) or b"\x00" in head:
        raise UnknownFileType()  # an old .xls, a UTF-16 text, an image, a PDF...
    if not _looks_like_text(head):
        raise UnknownFileType()
    return ImportFileKind.CSV


def _looks_like_text(head: bytes) -> bool:
    """No control characters but tab, line breaks and form feed (binary files are full of them)."""
    controls = sum(1 for byte in head if byte < 0x20 and byte not in (0x09, 0x0A, 0x0C, 0x0D))
    return controls == 0


@dataclass
class _Table:
    """A file opened for reading: its header cells, its rows as (line, cells), an estimate of the
    number of data rows (for progress), and how to close it. When the rows end early because the
    file cannot be read further, `stopped_at` says where."""

    header: list[Any]
    total: int | None
    close: Callable[[], None]
    rows: Iterator[tuple[int, list[Any]]] = field(default_factory=lambda: iter(()))
    stopped_at: int | None = None


def _csv_encoding(path: Path) -> tuple[str, int]:
    """UTF-8 with a BOM, UTF-8, or else Windows-1256 (Arabic Windows, which also has the French
    accented letters); and the number of line breaks (for progress). One quick pass over the bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8, newlines = True, 0
    with path.open("rb") as handle:
        chunk = handle.read(_READ_CHUNK)
        bom = chunk.startswith(_UTF8_BOM)
        while chunk:
            newlines += chunk.count(b"\n")
            if is_utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            chunk = handle.read(_READ_CHUNK)
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    if not is_utf8:
        return "cp1256", newlines
    return ("utf-8-sig" if bom else "utf-8"), newlines


def _open_csv(path: Path) -> _Table:
    encoding, newlines = _csv_encoding(path)
    handle = path.open(encoding=encoding, newline="")
    # The separator that splits the header most: a comma, or the semicolon of Excel in French.
    first_line = handle.readline(_SNIFF_BYTES)
    delimiter = max(_DELIMITERS, key=first_line.count)
    handle.seek(0)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error:
        handle.close()
        raise UnknownFileType() from None
    table = _Table(header, max(newlines - 1, 0), handle.close)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        line = 1
        try:
            for line, cells in enumerate(reader, start=2):
                yield line, cells
        except csv.Error:  # a quote never closed, a cell over the csv module's size limit
            table.stopped_at = line + 1

    table.rows = rows()
    return table


def _open_xlsx(path: Path, max_bytes: int) -> _Table:
    unpacked_limit = max_bytes * MAX_UNPACK_RATIO
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise UnreadableWorkbook() from None
    if unpacked > unpacked_limit:
        raise WorkbookTooLarge(unpacked_limit)
    try:
        with warnings.catch_warnings():
            # Workbooks from other applications draw warnings about styles and extensions: not our concern.
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=False)
    except _WORKBOOK_ERRORS:
        raise UnreadableWorkbook() from None
    if not workbook.worksheets:
        workbook.close()
        raise EmptyFile()
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows()
    try:
        header = [cell.value for cell in next(cells, ())]
    except _WORKBOOK_ERRORS:
        workbook.close()
        raise UnreadableWorkbook() from None
    total = sheet.max_row - 1 if isinstance(sheet.max_row, int) and sheet.max_row > 1 else None
    table = _Table(header, total, workbook.close)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        line = 1
        try:
            for line, row in enumerate(cells, start=2):
                # A formula is kept apart as such (never its computed value): the row is refused.
                yield line, [_Formula(str(cell.value)) if cell.data_type == "f" else cell.value for cell in row]
        except _WORKBOOK_ERRORS:  # a damaged sheet: what was read stands, the rest is reported
            table.stopped_at = line + 1

    table.rows = rows()
    return table


def _open(path: Path, kind: ImportFileKind, max_bytes: int) -> _Table:
    return _open_csv(path) if kind == ImportFileKind.CSV else _open_xlsx(path, max_bytes)


def _header_positions(header: Sequence[Any]) -> tuple[dict[str, int], int]:
    """Where each field's column is, and how many columns the header names; WrongColumns if the
    header does not name exactly the fields (the export's card columns may be there too: ignored)."""
    names = [str(cell).replace("\ufeff", "").strip().lower() if cell is not None else "" for cell in header]
    while names and names[-1] == "":
        names.pop()  # trailing empty cells of a workbook or a line ending with a separator
    if not names:
        raise EmptyFile()
    known = set(FIELDS) | set(CARD_COLUMNS)
    repeated = sorted({name for name in names if names.count(name) > 1 and name})
    missing = [name for name in FIELDS if name not in names and name not in OPTIONAL_HEADER_COLUMNS]
    unknown = [name or '""' for name in names if name not in known]
    if repeated or missing or unknown:
        raise WrongColumns(missing, unknown, repeated)
    return {name: position for position, name in enumerate(names) if name in FIELDS}, len(names)


def _is_empty(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# --- the import ---------------------------------------------------------------------------------------


@dataclass
class _Update:
    line: int
    artisan_id: int
    changes: dict[str, Any]
    added_programmes: list[str]
    removed_programmes: list[str]


@dataclass
class _Plan:
    """What one batch writes: new artisans, and changes to existing ones (in the file's order)."""

    inserts: list[ArtisanRecord] = field(default_factory=list)
    updates: list[_Update] = field(default_factory=list)


class _Importer:
    """One pass over a file: reads rows, checks them, matches them, and (when writing) writes them."""

    def __init__(
        self,
        report: ImportReport,
        reference: ReferenceCodes,
        scope: Scope,
        today: date,
        max_problems: int,
        on_problem: ProblemSink | None,
        max_changes: int = MAX_CHANGES_KEPT,
        on_change: ChangeSink | None = None,
    ) -> None:
        self.report = report
        self.max_changes = max_changes
        self.on_change = on_change
        self.pending_changes: list[RowChange] = []
        self.reference = reference
        self.scope = scope
        self.today = today
        self.max_problems = max_problems
        self.on_problem = on_problem
        self.now = utcnow()
        self.pending: list[RowProblem] = []
        # Keys of the valid rows read so far, with their line: a later row with one is a duplicate.
        self.rna_lines: dict[str, int] = {}
        self.cin_lines: dict[str, int] = {}
        # Keys whose owner this import changed (an artisan's new CIN or RNA number, or the old one,
        # now free): the database before the import does not know it yet in a dry run.
        self.rna_owner: dict[str, int | None] = {}
        self.cin_owner: dict[str, int | None] = {}
        # Optional columns the file leaves out: the register keeps its values for them.
        self.absent: frozenset[str] = frozenset()

    def problem(self, line: int, column: str | None, message: str, params: dict[str, Any] | None = None) -> None:
        """Note a problem; problems reach the report in the file's order when the batch ends."""
        self.pending.append(RowProblem(line, column, message, params or {}))

    def flush_problems(self) -> None:
        """Hand the batch's problems and changes on (called once the batch is committed)."""
        self.pending.sort(key=_in_file_order)
        for found in self.pending:
            self.report.problem_count += 1
            if len(self.report.problems) < self.max_problems:
                self.report.problems.append(found)
            if self.on_problem is not None:
                self.on_problem(found)
        self.pending.clear()
        for change in self.pending_changes:
            if len(self.report.changes) < self.max_changes:
                self.report.changes.append(change)
            if self.on_change is not None:
                self.on_change(change)
        self.pending_changes.clear()

    # Reading and checking rows, on their own ------------------------------------------------------

    def records(
        self, batch: list[tuple[int, list[Any]]], positions: dict[str, int], width: int
    ) -> list[tuple[int, ArtisanRecord]]:
        """The batch's rows that are right on their own (fields, scope, no duplicate), cleaned.
        `width` is the number of columns the header names (cells past it must be empty)."""
        accepted = []
        self.absent = OPTIONAL_COLUMNS - positions.keys()
        names = list(positions)
        picked = [positions[name] for name in names]
        for line, cells in batch:
            self.report.rows += 1
            problems: list[tuple[str | None, str, dict[str, Any]]] = []
            if len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]  # a short row: its last cells are empty
            values = [cells[position] for position in picked]
            formulas = []
            if not all(type(value) is str and value[:1] != "'" for value in values):
                # The uncommon cells, apart so that plain text rows (a CSV's) go straight through:
                # a formula is kept out, a neutralised cell (an edited export's) read back.
                for index, value in enumerate(values):
                    if isinstance(value, _Formula):
                        formulas.append(names[index])
                        values[index] = None
                    elif isinstance(value, str):
                        values[index] = unneutralised(value)
            raw = dict(zip(names, values, strict=True))
            if any(not _is_empty(cell) for cell in cells[width:]):
                problems.append((None, EXTRA_CELLS, {}))
            record = None
            try:
                record = clean_artisan_record(raw, self.reference, self.today)
            except InvalidArtisan as invalid:
                problems += [
                    (name, invalid.problems[name].message, invalid.problems[name].params)
                    for name in FIELDS
                    if name in invalid.problems and name not in formulas
                ]
            problems += [(name, FORMULA, {}) for name in formulas]
            if record is not None and not problems:
                problems += self._own_problems(line, record)
            if problems:
                self.report.refused += 1
                for column, message, params in problems:
                    self.problem(line, column, message, params)
                continue
            assert record is not None
            if record.rna_number is not None:
                self.rna_lines[record.rna_number] = line
            self.cin_lines[record.cin] = line
            accepted.append((line, record))
        return accepted

    def _own_problems(self, line: int, record: ArtisanRecord) -> list[tuple[str | None, str, dict[str, Any]]]:
        problems: list[tuple[str | None, str, dict[str, Any]]] = []
        if not self.scope.covers_region(record.region_code):
            problems.append(("region_code", NOT_YOUR_REGION, {"region": self.scope.region_code}))
        if record.rna_number is not None and record.rna_number in self.rna_lines:
            problems.append(("rna_number", SAME_RNA, {"line": self.rna_lines[record.rna_number]}))
        if record.cin in self.cin_lines:
            problems.append(("cin", SAME_CIN, {"line": self.cin_lines[record.cin]}))
        return problems

    # Matching rows with the register ----------------------------------------------------------------

    def plan(self, session: Session, records: list[tuple[int, ArtisanRecord]]) -> _Plan:
        """Match each record with the register (one query for the batch, one for programmes) and
        decide: insert, update (what changed) or nothing."""
        plan = _Plan()
        if not records:
            return plan
        rnas = [record.rna_number for _line, record in records if record.rna_number is not None]
        cins = [record.cin for _line, record in records]
        found = session.execute(
            select(_ARTISAN.c.id, *(_ARTISAN.c[name] for name in _COLUMNS)).where(
                or_(_ARTISAN.c.rna_number.in_(rnas), _ARTISAN.c.cin.in_(cins))
            )
        ).all()
        by_rna = {row.rna_number: row for row in found}
        by_cin = {row.cin: row for row in found}
        by_id = {row.id: row for row in found}
        programmes: dict[int, set[str]] = {}
        if found:
            statement = select(_PROGRAMME.c.artisan_id, _PROGRAMME.c.programme_code).where(
                _PROGRAMME.c.artisan_id.in_(list(by_id))
            )
            for artisan_id, code in session.execute(statement):
                programmes.setdefault(artisan_id, set()).add(code)
        for line, record in records:
            rna_owner = self._owner(record.rna_number, self.rna_owner, by_rna)
            cin_owner = self._owner(record.cin, self.cin_owner, by_cin)
            if rna_owner is not None and cin_owner is not None and rna_owner != cin_owner:
                self._refuse(line, record, "cin", TWO_ARTISANS)
                continue
            owner = rna_owner if rna_owner is not None else cin_owner
            if owner is None:
                plan.inserts.append(record)
                self.report.created += 1
                continue
            existing = by_id[owner]
            if not self.scope.covers_region(existing.region_code):
                self._refuse(line, record, "rna_number" if rna_owner else "cin", ARTISAN_OF_ANOTHER_REGION)
                continue
            change = self._change(line, existing, record, programmes.get(owner, set()), self.absent)
            if change is None:
                self.report.unchanged += 1
                continue
            self.report.updated += 1
            plan.updates.append(change)
            self.pending_changes.append(_row_change(existing, change, programmes.get(owner, set())))
            for name, owners in (("rna_number", self.rna_owner), ("cin", self.cin_owner)):
                if name in change.changes:
                    owners[getattr(existing, name)] = None  # free for a later row
                    owners[change.changes[name]] = owner
        return plan

    @staticmethod
    def _owner(key: str | None, changed: dict[str, int | None], found: dict[str, Any]) -> int | None:
        if key is None:  # a row without an RNA number is matched by its CIN
            return None
        if key in changed:
            return changed[key]
        row = found.get(key)
        return row.id if row is not None else None

    def _refuse(self, line: int, record: ArtisanRecord, column: str, message: str) -> None:
        # The row was counted as accepted when read: its keys no longer make a later row a duplicate.
        self.rna_lines.pop(record.rna_number, None)
        self.cin_lines.pop(record.cin, None)
        self.report.refused += 1
        self.problem(line, column, message)

    @staticmethod
    def _change(
        line: int, existing: Any, record: ArtisanRecord, programmes: set[str], absent: frozenset[str] = frozenset()
    ) -> _Update | None:
        columns = record.columns()
        if record.rna_number is None:
            del columns["rna_number"]  # the artisan keeps the number they have
        changes = {
            name: value for name, value in columns.items() if name not in absent and getattr(existing, name) != value
        }
        wanted = set(record.programmes)
        if not changes and wanted == programmes:
            return None
        return _Update(line, existing.id, changes, sorted(wanted - programmes), sorted(programmes - wanted))

    # Writing --------------------------------------------------------------------------------------

    def write(self, session: Session, plan: _Plan) -> None:
        """Apply a batch's plan with bulk statements; then tell the register its artisans changed."""
        # Changes of a key first, one by one in the file's order: a key one artisan gives up may be
        # taken by a later row (the unique constraints are checked on each row).
        keyed = [change for change in plan.updates if _KEY_COLUMNS & change.changes.keys()]
        for change in keyed:
            session.execute(update(_ARTISAN).where(_ARTISAN.c.id == change.artisan_id).values(change.changes))
        groups: dict[frozenset[str], list[dict[str, Any]]] = {}
        for change in plan.updates:
            if change.changes and not _KEY_COLUMNS & change.changes.keys():
                groups.setdefault(frozenset(change.changes), []).append({"_id": change.artisan_id, **change.changes})
        for names, parameters in groups.items():
            statement = (
                update(_ARTISAN)
                .where(_ARTISAN.c.id == bindparam("_id"))
                .values({name: bindparam(name) for name in sorted(names)})
            )
            session.connection().execute(statement, parameters)
        new_ids: dict[str, int] = {}
        plan.inserts = _numbered(session, plan.inserts)
        keep_counters_above(
            session,
            [record.rna_number for record in plan.inserts if record.rna_number]
            + [change.changes["rna_number"] for change in plan.updates if "rna_number" in change.changes],
        )
        if plan.inserts:
            rows = [record.columns() | {"registered_at": self.now} for record in plan.inserts]
            # With their search keys, so the search index takes them in as they are written; many
            # rows per statement, or SQLite's FTS5 writes its index out once per row
            # (webapp/models/search_index.py).
            rows = [row | search_columns(row) for row in rows]
            bulk_insert(session, _ARTISAN, rows, rows_per_statement=_ROWS_PER_INSERT)
            rnas = [record.rna_number for record in plan.inserts]
            new_ids = {
                rna: artisan_id
                for rna, artisan_id in session.execute(
                    select(_ARTISAN.c.rna_number, _ARTISAN.c.id).where(_ARTISAN.c.rna_number.in_(rnas))
                )
            }
        added = [
            {"artisan_id": new_ids[record.rna_number], "programme_code": code}
            for record in plan.inserts
            for code in record.programmes
        ]
        added += [
            {"artisan_id": change.artisan_id, "programme_code": code}
            for change in plan.updates
            for code in change.added_programmes
        ]
        removed = [{"a": change.artisan_id, "p": code} for change in plan.updates for code in change.removed_programmes]
        if removed:
            statement = delete(_PROGRAMME).where(
                _PROGRAMME.c.artisan_id == bindparam("a"), _PROGRAMME.c.programme_code == bindparam("p")
            )
            session.connection().execute(statement, removed)
        bulk_insert(session, _PROGRAMME, added)
        # Every artisan the file changed moves to a new version: an officer's edit form opened
        # before the import then meets a conflict instead of writing over it (services/concurrency.py).
        changed_ids = [change.artisan_id for change in plan.updates]
        if changed_ids:
            session.execute(
                update(_ARTISAN).where(_ARTISAN.c.id.in_(changed_ids)).values(version=_ARTISAN.c.version + 1)
            )
        # A new name or phone: new search keys (the statements above wrote the columns only).
        reindex_artisans(session, [change.artisan_id for change in plan.updates if _SEARCHED & change.changes.keys()])
        written = [*new_ids.values(), *(change.artisan_id for change in plan.updates)]
        artisans_written(session, written)
        if written:
            self.report.written = True


def _numbered(session: Session, records: list[ArtisanRecord]) -> list[ArtisanRecord]:
    """The records, each new artisan without an RNA number given the next of their region (one
    counter update per region and batch)."""
    wanting: dict[str, int] = {}
    for record in records:
        if record.rna_number is None:
            wanting[record.region_code] = wanting.get(record.region_code, 0) + 1
    if not wanting:
        return records
    numbers = {region: iter(allocate_rna_numbers(session, region, count)) for region, count in sorted(wanting.items())}
    return [
        record if record.rna_number is not None else replace(record, rna_number=next(numbers[record.region_code]))
        for record in records
    ]


def _row_change(existing: Any, change: _Update, programmes: set[str]) -> RowChange:
    """An update as people read it: each changed field's value before and after."""
    fields = {name: (_jsonable(getattr(existing, name)), _jsonable(value)) for name, value in change.changes.items()}
    if change.added_programmes or change.removed_programmes:
        after = (programmes - set(change.removed_programmes)) | set(change.added_programmes)
        fields["programmes"] = (sorted(programmes), sorted(after))
    ordered = {name: fields[name] for name in FIELDS if name in fields}
    name = f"{existing.first_name_latin} {existing.last_name_latin}"
    return RowChange(change.line, change.artisan_id, existing.rna_number, name, ordered)


def _jsonable(value: Any) -> Any:
    """A column's value as the audit trail keeps it (artisans.artisan_snapshot)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


_COLUMN_ORDER = {name: position for position, name in enumerate(FIELDS)}


def _in_file_order(problem: RowProblem) -> tuple[int, int]:
    """By line, then the row's own problems (None) before its cells' in the template's order."""
    return problem.line, _COLUMN_ORDER.get(problem.column or "", -1)


def _batches(rows: Iterator[tuple[int, list[Any]]], size: int) -> Iterator[list[tuple[int, list[Any]]]]:
    batch: list[tuple[int, list[Any]]] = []
    for line, cells in rows:
        if all(_is_empty(cell) for cell in cells):
            continue  # blank lines and the empty rows a workbook keeps after its data
        batch.append((line, cells))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class ImportRequest:
    """An import to run: the file, who runs it and within which scope (an officer: their region)."""

    path: Path
    file_name: str
    actor: Actor
    scope: Scope
    mode: ImportMode
    max_bytes: int
    today: date | None = None
    batch_size: int = BATCH_SIZE
    max_problems: int = MAX_PROBLEMS_KEPT
    max_changes: int = MAX_CHANGES_KEPT


Checkpoint = Callable[[Session, "ImportReport", int], None]


@dataclass(frozen=True)
class _Sinks:
    """Where a pass hands what it finds: problems, changes, and (when writing) its checkpoints."""

    on_problem: ProblemSink | None = None
    on_change: ChangeSink | None = None
    checkpoint: Checkpoint | None = None


def import_register(
    session_scope: SessionScope,
    request: ImportRequest,
    *,
    progress: ProgressCallback | None = None,
    on_problem: ProblemSink | None = None,
    on_change: ChangeSink | None = None,
    checkpoint: Checkpoint | None = None,
) -> ImportReport:
    """Run an import (or its dry run) of `request.path`; ImportRefused when the file is refused whole.

    `session_scope()` opens a session that commits when its block ends (a transaction per batch
    of an import, one for the whole write of a strict import). `progress(done, total)` is called
    after each batch (rows done, an estimate of the total or None); `on_problem` receives every
    problem and `on_change` every update with what it changes, once their batch is committed (the
    report keeps only the first ones). `checkpoint(session, report, last_line)` is called in each
    written batch's own transaction, after its writes: what it records there is committed with
    the rows, or not at all (a worker killed mid-way leaves exactly what was written on record).
    """
    kind = check_file(request.path, request.max_bytes)
    today = request.today or datetime.now(MOROCCO).date()
    with session_scope() as session:
        reference = reference_codes(session)
    passes = 2 if request.mode == ImportMode.STRICT else 1
    done = 0

    def step(rows: int, total: int | None) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, total * passes if total is not None else None)

    sinks = _Sinks(on_problem, on_change, checkpoint)
    if request.mode == ImportMode.STRICT:
        # The check pass tells its problems; its changes are told by the write pass (once).
        check = _Sinks(on_problem=on_problem)
        report = _run_pass(session_scope, request, kind, reference, today, write=False, step=step, sinks=check)
        if _complete(report):
            held = _HeldSteps()
            with session_scope() as session:
                # On SQLite this one transaction holds the database's only write lock until it
                # ends: a progress report written in a transaction of its own would wait for it,
                # so the pass's progress is told once the transaction has ended.
                quiet = session.get_bind().dialect.name == "sqlite"
                report = _run_pass(
                    lambda: _Reuse(session),
                    request,
                    kind,
                    reference,
                    today,
                    write=True,
                    step=held if quiet else step,
                    sinks=sinks,
                )
                if not _complete(report):
                    # The register changed since the check (another import, an edit): keep nothing.
                    session.rollback()
                    report.written = False
            if held.rows:
                step(held.rows, held.total)
        with session_scope() as session:
            _audit(session, request, report)
        return report
    write = request.mode == ImportMode.IMPORT
    report = _run_pass(session_scope, request, kind, reference, today, write=write, step=step, sinks=sinks)
    if write:
        with session_scope() as session:
            _audit(session, request, report)
    return report


@dataclass
class _HeldSteps:
    """Progress kept back until a transaction ends."""

    rows: int = 0
    total: int | None = None

    def __call__(self, rows: int, total: int | None) -> None:
        self.rows += rows
        self.total = total


def _complete(report: ImportReport) -> bool:
    """Every row accepted and the file read to its end (what a strict import requires)."""
    return report.refused == 0 and report.stopped_at is None


class _Reuse(AbstractContextManager[Session]):
    """The strict import's one session, handed to each batch without committing it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, *_exc: object) -> None:
        return None


def _run_pass(
    session_scope: SessionScope,
    request: ImportRequest,
    kind: ImportFileKind,
    reference: ReferenceCodes,
    today: date,
    *,
    write: bool,
    step: Callable[[int, int | None], None],
    sinks: _Sinks,
) -> ImportReport:
    report = ImportReport(request.mode)
    importer = _Importer(
        report,
        reference,
        request.scope,
        today,
        request.max_problems,
        sinks.on_problem,
        max_changes=request.max_changes,
        on_change=sinks.on_change,
    )
    table = _open(request.path, kind, request.max_bytes)
    try:
        positions, width = _header_positions(table.header)
        for batch in _batches(table.rows, request.batch_size):
            with session_scope() as session:
                plan = importer.plan(session, importer.records(batch, positions, width))
                if write:
                    importer.write(session, plan)
                    if sinks.checkpoint is not None:
                        sinks.checkpoint(session, report, batch[-1][0])
            importer.flush_problems()
            step(len(batch), table.total)
        if table.stopped_at is not None:
            report.stopped_at = table.stopped_at
            importer.problem(table.stopped_at, None, UNREADABLE_FROM_HERE)
            importer.flush_problems()
    finally:
        table.close()
    return report


def _audit(session: Session, request: ImportRequest, report: ImportReport) -> None:
    """One audit event per import run: who, which file, what it did."""
    record_event(
        session,
        request.actor,
        "register.import",
        after={
            "file": request.file_name,
            "mode": request.mode.value,
            "region": request.scope.region_code,
            "rows": report.rows,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "refused": report.refused,
            "written": report.written,
        },
    )


# --- the template -------------------------------------------------------------------------------------

TEMPLATE_EXAMPLE: dict[str, str] = {
    "rna_number": "RNA-03-0001234",
    "cin": "AB123456",
    "first_name_latin": "Khadija",
    "last_name_latin": "Bennani",
    "first_name_ar": "خديجة",
    "last_name_ar": "بناني",
    "birth_date": "1980-05-17",
    "gender": "female",
    "phone": "0612345678",
    "region_code": "03",
    "province": "Fès",
    "address_line": "12 Derb Sidi Ahmed",
    "postal_code": "30110",
    "city": "Fès",
    "trade_code": "ZEL",
    "legal_status": "cooperative_member",
    "cnss_status": "registered",
    "cooperative_name": "Coopérative Al Amal",
    "activity_start_year": "2001",
    "programmes": "WOMEN;EXCELLENCE",
}


def template_rows() -> tuple[list[str], list[list[str]]]:
    """The import template: the header row (the register's columns) and one example row."""
    return list(FIELDS), [[TEMPLATE_EXAMPLE[name] for name in FIELDS]]
