"""Bulk import of the register: files read in every encoding and layout people send, each bad row
named (line, column, why), whole files refused before reading, re-imports that update and never
duplicate, officers kept to their region, and strict imports that write nothing at all."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import Artisan, AuditEvent, CnssStatus, Gender, ImportFileKind, SupportProgramme
from webapp.services.register.artisan_fields import FIELDS, OPTIONAL_COLUMNS, clean_artisan_record, reference_codes
from webapp.services.register.artisans import artisans_version
from webapp.services.register.imports import (
    FORMULA,
    OPTIONAL_HEADER_COLUMNS,
    TEMPLATE_EXAMPLE,
    EmptyFile,
    FileTooLarge,
    ImportMode,
    ImportRequest,
    UnknownFileType,
    UnreadableWorkbook,
    WorkbookTooLarge,
    WrongColumns,
    check_file,
    import_register,
    template_rows,
)
from webapp.services.scope import NATIONAL, Scope

TODAY = date(2026, 12, 2)
MAX_BYTES = 10 * 1024 * 1024


def person(serial: int, **changes: Any) -> dict[str, Any]:
    """A valid row of the template, unique by serial (RNA number and CIN)."""
    return TEMPLATE_EXAMPLE | {"rna_number": f"RNA-03-{serial:07d}", "cin": f"AB{serial:06d}"} | changes


def write_csv(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    header: list[str] | None = None,
) -> Path:
    header = header or list(FIELDS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]], header: list[str] | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header or list(FIELDS))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def cells(row: dict[str, Any]) -> list[Any]:
    return [row[name] for name in FIELDS]


@pytest.fixture
def run(app):
    """Import a file as the test actor (nationally unless a scope is given); returns the report."""

    def run_import(
        path: Path,
        mode: ImportMode = ImportMode.IMPORT,
        scope: Scope = NATIONAL,
        *,
        progress: Any = None,
        on_problem: Any = None,
        on_change: Any = None,
        checkpoint: Any = None,
        **options: Any,
    ):
        request = ImportRequest(path, path.name, TEST_ACTOR, scope, mode, max_bytes=MAX_BYTES, today=TODAY, **options)
        session_scope = app.extensions["database"].session_scope
        return import_register(
            session_scope, request, progress=progress, on_problem=on_problem, on_change=on_change, checkpoint=checkpoint
        )

    return run_import


def count_artisans(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Artisan)) or 0


def problems(report) -> list[tuple[int, str | None, str]]:
    return [(problem.line, problem.column, problem.message) for problem in report.problems]


# --- reading files --------------------------------------------------------------------------------------


def test_a_good_file_registers_every_row(session, run, tmp_path):
    """Every valid row becomes an artisan with its stored values, its programmes and nothing refused."""
    report = run(write_csv(tmp_path / "register.csv", [person(1), person(2, gender="Homme", phone="06 11 22 33 44")]))
    assert (report.rows, report.created, report.updated, report.unchanged, report.refused) == (2, 2, 0, 0, 0)
    assert report.written
    artisan = session.scalar(select(Artisan).where(Artisan.rna_number == "RNA-03-0000002"))
    assert artisan.gender is Gender.MALE and artisan.phone == "+212611223344" and artisan.first_name_ar == "خديجة"
    assert sorted(p.code for p in artisan.programmes) == ["EXCELLENCE", "WOMEN"]


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("utf-8-sig", ";"), ("cp1256", ";"), ("cp1256", ","), ("utf-8", "\t")],
)
def test_encodings_and_separators_people_send_are_read(session, run, tmp_path, encoding, delimiter):
    """UTF-8, UTF-8 with a BOM (Excel's "CSV UTF-8") and Windows-1256 (Arabic Windows), separated by
    commas, semicolons (Excel in French) or tabs: Arabic and accented names arrive intact."""
    rows = [person(1, province="Fès", last_name_ar="الفاسي الفهري", cooperative_name="Coopérative Tifaouine")]
    report = run(write_csv(tmp_path / "register.csv", rows, encoding=encoding, delimiter=delimiter))
    assert (report.created, report.refused) == (1, 0), problems(report)
    artisan = session.scalar(select(Artisan))
    assert (artisan.province, artisan.last_name_ar, artisan.cooperative_name) == (
        "Fès",
        "الفاسي الفهري",
        "Coopérative Tifaouine",
    )


def test_windows_1256_bytes_are_not_read_as_utf8(tmp_path, run, session):
    """A Windows-1256 file is told apart from UTF-8 by its bytes (its Arabic is not valid UTF-8)."""
    path = write_csv(tmp_path / "arabic.csv", [person(1, first_name_ar="مريم")], encoding="cp1256", delimiter=";")
    assert "مريم".encode("cp1256") in path.read_bytes()
    assert run(path).created == 1
    assert session.scalar(select(Artisan.first_name_ar)) == "مريم"


@pytest.mark.parametrize(
    ("header", "missing", "unknown"),
    [
        ([name for name in FIELDS if name != "cin"], ["cin"], []),
        ([*FIELDS, "nickname"], [], ["nickname"]),
        # The postal address's columns may be left out (files made before they existed), and so may
        # the RNA number's (the register gives the numbers).
        (["nom", "prénom"], [name for name in FIELDS if name not in OPTIONAL_HEADER_COLUMNS], ["nom", "prénom"]),
        ([name.upper() for name in FIELDS], [], []),  # names are read case-insensitively: accepted
    ],
)
def test_the_header_must_name_the_registers_columns(run, session, tmp_path, header, missing, unknown):
    """Missing or unknown columns refuse the whole file with one problem naming them; nothing is read."""
    path = write_csv(tmp_path / "register.csv", [dict(zip(header, cells(person(1)), strict=False))], header=header)
    if not missing and not unknown:
        assert run(path).created == 1
        return
    with pytest.raises(WrongColumns) as refused:
        run(path)
    assert (refused.value.missing, refused.value.unknown) == (missing, unknown)
    assert count_artisans(session) == 0


def test_a_file_without_the_address_columns_keeps_the_registers_addresses(run, session, tmp_path):
    """A file made before the postal address existed imports; an update keeps the stored address."""
    header = [name for name in FIELDS if name not in OPTIONAL_COLUMNS]
    first = write_csv(tmp_path / "first.csv", [person(1), person(2)])
    assert run(first).created == 2
    older = write_csv(tmp_path / "older.csv", [person(1, province="Meknès"), person(3)], header=header)
    report = run(older)
    assert (report.created, report.updated) == (1, 1)
    rows = session.execute(select(Artisan.rna_number, Artisan.province, Artisan.address_line, Artisan.city)).all()
    by_rna = {row.rna_number: row for row in rows}
    assert by_rna["RNA-03-0000001"][1:] == ("Meknès", TEMPLATE_EXAMPLE["address_line"], "Fès")
    assert by_rna["RNA-03-0000003"][2:] == (None, None)


def test_a_file_without_the_rna_number_column_numbers_its_new_artisans(run, session, tmp_path):
    """Without the rna_number column every row is one without a number: a known CIN updates its
    artisan, who keeps their number; a new artisan gets the next number of their region."""
    assert run(write_csv(tmp_path / "first.csv", [person(1), person(2)])).created == 2
    header = [name for name in FIELDS if name != "rna_number"]
    rows = [person(1, province="Meknès"), person(7, cin="CD000007"), person(8, cin="CD000008", region_code="06")]
    rows[2]["province"] = "Casablanca"
    report = run(write_csv(tmp_path / "no-numbers.csv", rows, header=header))
    assert (report.created, report.updated, report.refused) == (2, 1, 0)
    numbers = {cin: rna for cin, rna in session.execute(select(Artisan.cin, Artisan.rna_number))}
    assert numbers["AB000001"] == "RNA-03-0000001"
    assert numbers["CD000007"] == "RNA-03-0000003" and numbers["CD000008"].startswith("RNA-06-")


def test_a_column_named_twice_is_refused(run, tmp_path):
    """A header naming a column twice is refused (which of the two would count?)."""
    header = [*FIELDS, "cin"]
    with pytest.raises(WrongColumns) as refused:
        run(write_csv(tmp_path / "register.csv", [person(1)], header=header))
    assert refused.value.repeated == ["cin"]


def test_columns_may_come_in_any_order_and_an_exports_card_columns_are_ignored(run, session, tmp_path):
    """The header is matched by name, not position; card_number, card_status and card_expires_at
    (what an export adds) are accepted and ignored."""
    header = [*reversed(FIELDS), "card_number", "card_status", "card_expires_at"]
    row = person(1) | {"card_number": "ABCDEFGHJK", "card_status": "active", "card_expires_at": "2030-01-01"}
    report = run(write_csv(tmp_path / "register.csv", [row], header=header))
    assert (report.created, report.refused) == (1, 0)


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), UnknownFileType),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00", UnknownFileType),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), UnknownFileType),  # Excel 97-2003 .xls
        ("rna_number,cin\n".encode("utf-16"), UnknownFileType),
        (b"", EmptyFile),
    ],
    ids=["png", "pdf", "xls", "utf-16", "empty"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_before_reading(run, tmp_path, content, refusal):
    """Images, PDFs, old .xls workbooks, UTF-16 text and empty files are refused whatever their
    name says (here: .csv)."""
    path = tmp_path / "register.csv"
    path.write_bytes(content)
    with pytest.raises(refusal):
        run(path)


def test_a_zip_that_is_not_a_workbook_is_refused(run, tmp_path):
    """A zip file (an .xlsx by its first bytes) that holds no workbook is refused as unreadable."""
    path = tmp_path / "register.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(UnreadableWorkbook):
        run(path)


def test_the_kind_comes_from_the_content_not_the_name(tmp_path):
    """A workbook named .csv is read as a workbook, a CSV named .xlsx as CSV."""
    workbook = write_xlsx(tmp_path / "looks-like.csv", [cells(person(1))])
    text = write_csv(tmp_path / "looks-like.xlsx", [person(1)])
    assert check_file(workbook, MAX_BYTES) == ImportFileKind.XLSX
    assert check_file(text, MAX_BYTES) == ImportFileKind.CSV


def test_an_oversized_file_is_refused_before_reading(app, session, tmp_path):
    """A file over the limit is refused with the limit in the message; nothing is read or written."""
    path = write_csv(tmp_path / "register.csv", [person(serial) for serial in range(1, 50)])
    request = ImportRequest(path, path.name, TEST_ACTOR, NATIONAL, ImportMode.IMPORT, max_bytes=1024, today=TODAY)
    with pytest.raises(FileTooLarge) as refused:
        import_register(app.extensions["database"].session_scope, request)
    assert refused.value.http_status == 413
    assert count_artisans(session) == 0


def test_a_workbook_that_unpacks_too_large_is_refused(app, tmp_path):
    """A small XLSX that unpacks to far more than the limit (a "zip bomb") is refused unopened."""
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (25 * 1024 * 1024))
    request = ImportRequest(path, path.name, TEST_ACTOR, NATIONAL, ImportMode.IMPORT, max_bytes=1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(WorkbookTooLarge):
        import_register(app.extensions["database"].session_scope, request)


# --- rows ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"cin": "123456"}, "cin"),
        ({"cin": ""}, "cin"),
        ({"rna_number": "R1"}, "rna_number"),
        ({"birth_date": "31/02/1980"}, "birth_date"),
        ({"first_name_latin": "خديجة"}, "first_name_latin"),
        ({"region_code": "13"}, "region_code"),
        ({"trade_code": "NOPE"}, "trade_code"),
        ({"phone": "0812345678"}, "phone"),
    ],
)
def test_a_bad_row_is_named_by_line_and_column_and_the_others_are_written(run, session, tmp_path, changes, column):
    """A wrong value refuses its row only, with the line as a spreadsheet numbers it (header = 1)."""
    rows = [person(1), person(2, **changes), person(3)]
    report = run(write_csv(tmp_path / "register.csv", rows))
    assert (report.created, report.refused) == (2, 1)
    assert [(line, col) for line, col, _message in problems(report)] == [(3, column)]
    assert count_artisans(session) == 2


def test_every_problem_of_a_row_is_reported(run, tmp_path):
    """A row with several wrong cells gets one problem per cell, in the template's column order."""
    report = run(write_csv(tmp_path / "register.csv", [person(1, cin="?", phone="12", trade_code="")]))
    assert [column for _line, column, _message in problems(report)] == ["cin", "phone", "trade_code"]
    assert report.refused == 1 and report.problem_count == 3


def test_a_duplicated_row_is_reported_on_the_later_line(run, session, tmp_path):
    """Two rows with the same RNA number, or the same CIN: the first is written, the later refused
    with the line of the first."""
    rows = [person(1), person(2), person(1, cin="ZZ999"), person(3, cin="AB000002")]
    report = run(write_csv(tmp_path / "register.csv", rows))
    assert problems(report) == [
        (4, "rna_number", "The same RNA number as line %(line)s."),
        (5, "cin", "The same CIN as line %(line)s."),
    ]
    assert [problem.params for problem in report.problems] == [{"line": 2}, {"line": 3}]
    assert count_artisans(session) == 2


def test_a_duplicate_across_batches_is_found(run, tmp_path):
    """Duplicates are found across the whole file, not only inside one batch."""
    rows = [person(serial) for serial in range(1, 6)] + [person(1, cin="ZZ1")]
    report = run(write_csv(tmp_path / "register.csv", rows), batch_size=2)
    assert problems(report) == [(7, "rna_number", "The same RNA number as line %(line)s.")]


def test_blank_rows_are_skipped_and_rows_with_extra_cells_refused(run, tmp_path):
    """Blank lines are not rows; a row with a filled cell past the header's columns is refused."""
    path = tmp_path / "register.csv"
    header = ",".join(FIELDS)
    good = ",".join(str(value) for value in cells(person(1)))
    extra = ",".join(str(value) for value in cells(person(2))) + ",surprise"
    path.write_text(f"{header}\n\n{good}\n,,,\n{extra}\n", encoding="utf-8")
    report = run(path)
    assert (report.rows, report.created, report.refused) == (2, 1, 1)
    assert problems(report) == [(5, None, "This row has more cells than the header row has columns.")]


def test_a_csv_that_cannot_be_read_to_its_end_says_where(run, tmp_path):
    """A quotation mark never closed stops the reading: the rows before are imported, the line where
    reading stopped is reported, and the report says the file was not read to its end."""
    path = tmp_path / "register.csv"
    header = ",".join(FIELDS)
    good = ",".join(str(value) for value in cells(person(1)))
    path.write_text(f'{header}\n{good}\n"RNA-03-9,' + "x" * 200_000 + "\n", encoding="utf-8")
    report = run(path)
    assert report.created == 1 and report.stopped_at == 3
    assert [(line, column) for line, column, _message in problems(report)] == [(3, None)]


def test_the_report_keeps_the_first_problems_and_counts_them_all(run, tmp_path):
    """Memory stays bounded on a bad file: the first problems are kept, all are counted, and a
    sink receives every one, in the file's order."""
    path = write_csv(tmp_path / "register.csv", [person(serial, cin="bad") for serial in range(1, 31)])
    seen = []
    report = run(path, ImportMode.DRY_RUN, max_problems=5, batch_size=7, on_problem=lambda p: seen.append(p.line))
    assert report.problem_count == 30 and len(report.problems) == 5 and report.refused == 30
    assert seen == list(range(2, 32))


def test_progress_is_reported_after_each_batch(run, tmp_path):
    """The progress callback gets the rows done and the file's size in rows, batch after batch."""
    calls = []
    run(
        write_csv(tmp_path / "register.csv", [person(serial) for serial in range(1, 6)]),
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(2, 5), (4, 5), (5, 5)]


# --- XLSX ---------------------------------------------------------------------------------------------


def test_a_workbook_is_read_with_its_typed_cells(run, session, tmp_path):
    """Date cells, number cells (a year, a region, a phone that lost its 0) are read as people meant."""
    row = cells(person(1))
    row[FIELDS.index("birth_date")] = date(1980, 5, 17)
    row[FIELDS.index("phone")] = 612345678
    row[FIELDS.index("region_code")] = 3
    row[FIELDS.index("activity_start_year")] = 2001
    report = run(write_xlsx(tmp_path / "register.xlsx", [row]))
    assert (report.created, report.refused) == (1, 0), problems(report)
    artisan = session.scalar(select(Artisan))
    assert (artisan.birth_date, artisan.phone, artisan.region_code) == (date(1980, 5, 17), "+212612345678", "03")


def test_a_formula_cell_is_refused_and_never_stored(run, session, tmp_path):
    """A formula is the problem of its cell: the row is refused, the formula neither evaluated nor
    stored; the other rows are written."""
    bad = cells(person(2))
    bad[FIELDS.index("last_name_latin")] = '=HYPERLINK("http://evil.test","x")'
    report = run(write_xlsx(tmp_path / "register.xlsx", [cells(person(1)), bad]))
    assert problems(report) == [(3, "last_name_latin", FORMULA)]
    assert count_artisans(session) == 1
    assert session.scalar(select(func.count()).select_from(Artisan).where(Artisan.last_name_latin.like("%HYPER%"))) == 0


def test_a_workbooks_empty_trailing_rows_are_skipped(run, tmp_path):
    """The empty rows a workbook keeps after its data are not rows of the register."""
    report = run(write_xlsx(tmp_path / "register.xlsx", [cells(person(1)), [None] * len(FIELDS), [], [""]]))
    assert (report.rows, report.created, report.refused) == (1, 1, 0)


# --- matching the register ------------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(run, session, tmp_path):
    """A second import of the same file finds every artisan unchanged and writes nothing new."""
    path = write_csv(tmp_path / "register.csv", [person(serial) for serial in range(1, 6)])
    run(path)
    version = artisans_version(session)
    report = run(path)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert count_artisans(session) == 5 and not report.written
    session.expire_all()
    assert artisans_version(session) == version


def test_a_changed_row_updates_only_what_changed(run, session, tmp_path):
    """Re-importing with a new phone and programmes updates that artisan (no duplicate), only those."""
    run(write_csv(tmp_path / "first.csv", [person(1), person(2)]))
    before = session.scalar(select(Artisan).where(Artisan.rna_number == "RNA-03-0000001"))
    registered_at, artisan_id = before.registered_at, before.id
    report = run(write_csv(tmp_path / "second.csv", [person(1, phone="0700000000", programmes="EXPORT"), person(2)]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    session.expire_all()
    after = session.get(Artisan, artisan_id)
    assert after.phone == "+212700000000" and after.registered_at == registered_at
    assert [p.code for p in after.programmes] == ["EXPORT"]
    assert count_artisans(session) == 2


def test_an_import_moves_the_changed_artisans_to_a_new_version(run, session, tmp_path):
    """An artisan the file changes is at a new version (an edit form opened before meets a conflict:
    services/concurrency.py); an unchanged one keeps its version."""
    run(write_csv(tmp_path / "first.csv", [person(1), person(2)]))
    run(write_csv(tmp_path / "second.csv", [person(1, programmes="EXPORT"), person(2)]))
    session.expire_all()
    versions = dict(session.execute(select(Artisan.rna_number, Artisan.version)).all())
    assert versions == {"RNA-03-0000001": 2, "RNA-03-0000002": 1}


def test_imported_artisans_are_searchable_and_a_renaming_reimport_is_searched_by_the_new_name(run, session, tmp_path):
    """The register search finds imported artisans by a name variant and by phone at once, and a
    re-import that changes a name or a phone finds them by the new one only."""
    from webapp.services.register.search import ArtisanQuery, search_artisans

    def found(text: str) -> list[str]:
        session.expire_all()
        return [row.rna_number for row in search_artisans(session, NATIONAL, ArtisanQuery(text=text)).rows]

    run(write_csv(tmp_path / "first.csv", [person(1, first_name_latin="Youssef"), person(2)]))
    assert found("Youssouf") == ["RNA-03-0000001"]
    assert found("06 12 34 56 78") == ["RNA-03-0000002", "RNA-03-0000001"]
    run(write_csv(tmp_path / "second.csv", [person(1, first_name_latin="Brahim", phone="0700000000"), person(2)]))
    assert (found("Youssouf"), found("Brahim"), found("0700000000")) == ([], ["RNA-03-0000001"], ["RNA-03-0000001"])
    assert found("0612345678") == ["RNA-03-0000002"]


def test_a_row_matches_on_rna_number_then_on_cin(run, session, make_artisan, tmp_path):
    """A known RNA number updates that artisan (their CIN too); else a known CIN updates that one
    (their RNA number too); a row whose RNA number and CIN name two artisans is refused."""
    by_rna = make_artisan(rna_number="RNA-03-0000001", cin="AA111111")
    by_cin = make_artisan(rna_number="RNA-03-0000777", cin="AB000002")
    make_artisan(rna_number="RNA-03-0000888", cin="CC333333")
    make_artisan(rna_number="RNA-03-0000999", cin="DD444444")
    session.commit()
    rows = [person(1, cin="AA111112"), person(2), person(3, rna_number="RNA-03-0000888", cin="DD444444")]
    report = run(write_csv(tmp_path / "register.csv", rows))
    assert (report.created, report.updated, report.refused) == (0, 2, 1)
    assert problems(report) == [
        (4, "cin", "This RNA number and this CIN belong to two different artisans of the register.")
    ]
    session.expire_all()
    assert session.get(Artisan, by_rna.id).cin == "AA111112"
    assert session.get(Artisan, by_cin.id).rna_number == "RNA-03-0000002"
    assert count_artisans(session) == 4


@pytest.mark.parametrize("batch_size", [1, 100])
@pytest.mark.parametrize("mode", [ImportMode.DRY_RUN, ImportMode.IMPORT])
def test_a_cin_given_up_by_one_row_may_be_taken_by_a_later_one(run, session, make_artisan, tmp_path, mode, batch_size):
    """An artisan's CIN corrected on one row frees the old CIN for a later row (a new artisan): the
    dry run tells exactly what the import does, in one batch or across batches."""
    make_artisan(rna_number="RNA-03-0000001", cin="AB000099")
    session.commit()
    rows = [person(1, cin="AB000001"), person(2, cin="AB000099")]
    report = run(write_csv(tmp_path / "register.csv", rows), mode, batch_size=batch_size)
    assert (report.created, report.updated, report.refused) == (1, 1, 0), problems(report)


def test_a_strict_import_writes_nothing_if_any_row_is_refused(run, session, make_artisan, tmp_path):
    """With one bad row among good ones, a strict import writes nothing at all: no new artisan, no
    update; the report names the bad row."""
    make_artisan(rna_number="RNA-03-0000001", cin="AB000001", province="Meknès")
    session.commit()
    before = count_artisans(session)
    rows = [person(1), person(2), person(3, cin="bad"), person(4)]
    report = run(write_csv(tmp_path / "register.csv", rows), ImportMode.STRICT, batch_size=2)
    assert not report.written and report.refused == 1
    assert problems(report)[0][:2] == (4, "cin")
    assert count_artisans(session) == before
    assert session.scalar(select(Artisan.province).where(Artisan.rna_number == "RNA-03-0000001")) == "Meknès"


def test_a_clean_strict_import_writes_everything(run, session, tmp_path):
    """A strict import of a clean file writes every row (checked first, then written at once)."""
    calls = []
    rows = [person(serial) for serial in range(1, 5)]
    report = run(
        write_csv(tmp_path / "register.csv", rows),
        ImportMode.STRICT,
        batch_size=2,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert report.written and report.created == 4
    assert count_artisans(session) == 4
    assert calls[-1] == (8, 8)  # two passes over four rows


def test_a_dry_run_writes_nothing_and_says_what_would_change(run, session, make_artisan, tmp_path):
    """The dry run counts what would be created, updated and left unchanged, and writes nothing."""
    make_artisan(**clean_artisan_record(person(1, programmes=""), reference_codes(session), TODAY).columns())
    make_artisan(rna_number="RNA-03-0000002", cin="AB000002")
    session.commit()
    rows = [person(1, programmes=""), person(2), person(3), person(4, cin="")]
    report = run(write_csv(tmp_path / "register.csv", rows), ImportMode.DRY_RUN)
    assert (report.created, report.updated, report.unchanged, report.refused) == (1, 1, 1, 1)
    assert not report.written and count_artisans(session) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("mode", [ImportMode.DRY_RUN, ImportMode.IMPORT, ImportMode.STRICT])
def test_each_update_says_which_fields_change_from_what_to_what(run, session, tmp_path, mode):
    """Every updated artisan is told once, with its changed fields' values before and after (in
    the template's order, programmes as sorted codes); the report keeps the first ones only."""
    run(write_csv(tmp_path / "first.csv", [person(serial, programmes="WOMEN") for serial in range(1, 5)]))
    rows = [
        person(1, phone="0700000000", programmes="EXPORT;WOMEN", gender="male"),
        person(2, programmes="WOMEN"),
        person(3, birth_date="1981-06-18", programmes="WOMEN"),
        person(4, first_name_ar="زينب", programmes="WOMEN"),
    ]
    told = []
    report = run(write_csv(tmp_path / "second.csv", rows), mode, batch_size=2, max_changes=2, on_change=told.append)
    assert (report.updated, report.unchanged) == (3, 1) and [change.line for change in told] == [2, 4, 5]
    assert report.changes == told[:2]
    first = told[0]
    assert (first.rna_number, first.name) == ("RNA-03-0000001", "Khadija Bennani")
    assert first.fields == {
        "gender": ("female", "male"),
        "phone": ("+212612345678", "+212700000000"),
        "programmes": (["WOMEN"], ["EXPORT", "WOMEN"]),
    }
    assert told[1].fields == {"birth_date": ("1980-05-17", "1981-06-18")}
    assert told[2].fields == {"first_name_ar": ("خديجة", "زينب")}


def test_a_checkpoint_is_written_with_each_batch(run, session, tmp_path, make_user):
    """The checkpoint runs in each written batch's transaction with the figures so far and the
    batch's last line; a dry run has none."""
    seen = []

    def checkpoint(batch_session, report, last_line):
        assert batch_session.in_transaction()
        seen.append((report.rows, report.created, report.refused, last_line))

    rows = [person(1), person(2, cin=""), person(3), person(4), person(5)]
    run(write_csv(tmp_path / "register.csv", rows), ImportMode.DRY_RUN, batch_size=2, checkpoint=checkpoint)
    assert seen == []
    run(write_csv(tmp_path / "register.csv", rows), batch_size=2, checkpoint=checkpoint)
    assert seen == [(2, 1, 1, 3), (4, 3, 1, 5), (5, 4, 1, 6)]


def test_an_officer_imports_only_their_regions_rows(run, session, make_artisan, tmp_path):
    """An officer's rows of another region are refused (region_code), and so is a row that would
    change an artisan registered in another region; their own region's rows are written."""
    make_artisan(rna_number="RNA-05-0000001", cin="AB000009", region_code="05")
    session.commit()
    rows = [
        person(1),
        person(2, region_code="06", rna_number="RNA-06-0000002", province="Casablanca"),
        person(3, rna_number="", cin="AB000009"),  # matched by its CIN: the artisan of region 05
    ]
    report = run(write_csv(tmp_path / "register.csv", rows), scope=Scope(region_code="03"))
    assert [(line, column) for line, column, _message in problems(report)] == [(3, "region_code"), (4, "cin")]
    assert report.problems[0].params == {"region": "03"}
    assert report.created == 1
    session.expire_all()
    assert session.scalar(select(Artisan.region_code).where(Artisan.rna_number == "RNA-05-0000001")) == "05"


def test_an_administrator_imports_every_region(run, tmp_path):
    """A national scope accepts rows of any region."""
    rows = [
        person(1, region_code="01", rna_number="RNA-01-0000001", province="Tétouan"),
        person(2, region_code="12", rna_number="", province="Aousserd"),
    ]
    assert run(write_csv(tmp_path / "register.csv", rows)).created == 2


def test_one_audit_event_per_import_run(run, session, tmp_path):
    """An import (not a dry run) leaves one audit event with who, the file and the counts."""
    run(write_csv(tmp_path / "register.csv", [person(1), person(2, cin="x")]))
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "register.import")).all()
    assert len(events) == 1
    assert events[0].actor == TEST_ACTOR.label
    assert events[0].after | {} == {
        "file": "register.csv",
        "mode": "import",
        "region": None,
        "rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "refused": 1,
        "written": True,
    }


def test_an_import_moves_the_registers_artisans_version(run, session, tmp_path):
    """Written artisans move the version eligibility lists compare; a dry run does not."""
    path = write_csv(tmp_path / "register.csv", [person(1)])
    run(path, ImportMode.DRY_RUN)
    assert artisans_version(session) == 0
    run(path)
    session.expire_all()
    assert artisans_version(session) == 1


def test_the_template_row_is_a_valid_record(session):
    """The template's example row passes the register's rules (it shows the expected forms)."""
    header, rows = template_rows()
    assert header == list(FIELDS)
    record = clean_artisan_record(dict(zip(header, rows[0], strict=True)), reference_codes(session), TODAY)
    assert record.cnss_status is CnssStatus.REGISTERED
    assert set(record.programmes) <= set(session.scalars(select(SupportProgramme.code)))


def test_a_strict_import_keeps_nothing_when_the_register_changes_after_its_check(run, app, session, tmp_path):
    """If the register changes between a strict import's check and its write (another officer's
    edit makes a row conflict), the write is rolled back whole: not even the rows before it stay."""
    database = app.extensions["database"]

    def meanwhile(done: int, total: int | None) -> None:
        if done == 2:  # the check of both rows is over, the write has not begun
            with database.session_scope() as other:
                other.add_all(
                    [
                        Artisan(**clean_artisan_record(person(2, cin="ZZ1"), reference_codes(other), TODAY).columns()),
                        Artisan(
                            **clean_artisan_record(person(99, cin="AB000002"), reference_codes(other), TODAY).columns()
                        ),
                    ]
                )

    report = run(write_csv(tmp_path / "register.csv", [person(1), person(2)]), ImportMode.STRICT, progress=meanwhile)
    assert not report.written and report.refused == 1
    assert count_artisans(session) == 2  # the two added meanwhile, not person(1)
    assert session.scalar(select(func.count()).select_from(Artisan).where(Artisan.rna_number == "RNA-03-0000001")) == 0


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"rna_number": "RNA-XX"}, "An RNA number is RNA-"),
        ({"rna_number": "RNA-XX-0000001"}, "An RNA number is RNA-"),
        ({"rna_number": "03-0000001"}, "An RNA number is RNA-"),
        ({"rna_number": "RNA-07-0000001"}, "This RNA number is of region"),
        (
            {"rna_number": "RNA-03-0000001", "region_code": "07", "province": "Marrakech"},
            "This RNA number is of region",
        ),
        ({"province": "Marrakech"}, "is in region"),
        ({"province": "Atlantis"}, "Not a province or prefecture"),
    ],
)
def test_a_row_with_a_wrong_number_or_province_is_refused_with_its_reason(run, session, tmp_path, changes, reason):
    """An RNA number of another format or another region, or a province outside the row's region,
    refuses the row with a reason on that column; the other rows are written."""
    report = run(write_csv(tmp_path / "register.csv", [person(1, **changes), person(2)]))
    [(line, column, message)] = problems(report)
    assert line == 2 and column in ("rna_number", "province") and reason in message
    assert report.created == 1


def test_new_rows_without_a_number_get_the_next_numbers_of_their_region(run, session, make_artisan, tmp_path):
    """Rows without an RNA number are new artisans numbered after the highest of the region,
    including the numbers the same file brings; a later registration continues after them."""
    from webapp.services.register.numbers import allocate_rna_number

    make_artisan(rna_number="RNA-03-0000010", cin="ZZ000001")
    session.commit()
    rows = [person(1, rna_number=""), person(2, rna_number="RNA-03-0000500"), person(3, rna_number="")]
    report = run(write_csv(tmp_path / "register.csv", rows))
    assert (report.created, report.refused) == (3, 0)
    numbers = dict(session.execute(select(Artisan.cin, Artisan.rna_number)).all())
    assert {numbers["AB000001"], numbers["AB000003"]} == {"RNA-03-0000011", "RNA-03-0000012"}
    assert numbers["AB000002"] == "RNA-03-0000500"
    assert allocate_rna_number(session, "03") == "RNA-03-0000501"


def test_a_row_without_a_number_updates_the_artisan_with_its_cin_who_keeps_theirs(run, session, make_artisan, tmp_path):
    """Matched by CIN, an artisan keeps their RNA number when the row has none."""
    artisan = make_artisan(rna_number="RNA-03-0000077", cin="AB000001")
    session.commit()
    report = run(write_csv(tmp_path / "register.csv", [person(1, rna_number="", first_name_latin="Amina")]))
    assert (report.updated, report.created) == (1, 0)
    session.expire_all()
    assert (artisan.rna_number, artisan.first_name_latin) == ("RNA-03-0000077", "Amina")
