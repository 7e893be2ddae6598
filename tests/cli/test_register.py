"""`register import | template | export`: the bulk import with its report and exit status, the
template people fill in, and exports of the register."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.cli.conftest import run
from tests.services.register.test_imports import person, write_csv, write_xlsx
from webapp.models import Artisan, AuditEvent, Region
from webapp.services.register.artisan_fields import FIELDS
from webapp.services.register.exports import EXPORT_COLUMNS


def count_artisans(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Artisan)) or 0


def test_import_writes_the_rows_and_prints_a_summary(runner, session, tmp_path):
    """A clean file: every row written, a one-line summary, exit status 0, one audit event."""
    path = write_csv(tmp_path / "register.csv", [person(1), person(2)], delimiter=";")
    code, output = run(runner, "register", "import", str(path))
    assert code == 0, output
    assert "2 rows: 2 created, 0 updated, 0 unchanged, 0 refused" in output
    assert count_artisans(session) == 2
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "register.import"))
    assert event.actor.startswith("cli:") and event.after["file"] == "register.csv"


def test_refused_rows_are_listed_and_the_exit_status_says_so(runner, session, tmp_path):
    """Each refused row is printed as line, column and reason; the others are written; exit 1."""
    path = write_csv(tmp_path / "register.csv", [person(1), person(2, cin="12"), person(1, cin="ZZ1")])
    code, output = run(runner, "register", "import", str(path))
    assert code == 1
    assert "line 3, cin: A CIN is one or two letters followed by up to six digits, e.g. AB123456." in output
    assert "line 4, rna_number: The same RNA number as line 2." in output
    assert "3 rows: 1 created, 0 updated, 0 unchanged, 2 refused" in output
    assert count_artisans(session) == 1


def test_a_dry_run_writes_nothing(runner, session, tmp_path):
    """--dry-run reports what would change and writes nothing (no artisan, no audit event)."""
    path = write_xlsx(tmp_path / "register.xlsx", [[person(1)[name] for name in FIELDS]])
    code, output = run(runner, "register", "import", str(path), "--dry-run")
    assert code == 0, output
    assert "dry run, nothing written. 1 rows would give: 1 created" in output
    assert count_artisans(session) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_strict_writes_nothing_when_a_row_is_refused(runner, session, tmp_path):
    """--strict with one bad row: the row is named, nothing at all is written, exit 1."""
    path = write_csv(tmp_path / "register.csv", [person(1), person(2, birth_date="soon"), person(3)])
    code, output = run(runner, "register", "import", str(path), "--strict")
    assert code == 1
    assert "line 3, birth_date:" in output and "strict: nothing written, 1 rows refused (of 3)" in output
    assert count_artisans(session) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nom;prénom\nKhadija;Bennani\n", "The header row does not match the template: missing columns cin"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "neither a CSV file nor an Excel workbook"),
    ],
)
def test_a_refused_file_is_one_line(runner, session, tmp_path, content, message):
    """Wrong columns or a file that is not a spreadsheet: one line, exit 1, no traceback."""
    path = tmp_path / "register.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, output = run(runner, "register", "import", str(path))
    assert code == 1 and message in output and "Traceback" not in output


def test_an_oversized_file_is_refused(make_app, tmp_path):
    """A file over REGISTER_IMPORT_MAX_BYTES is refused before reading, with the limit."""
    path = write_csv(tmp_path / "register.csv", [person(serial) for serial in range(1, 20)])
    code, output = run(make_app(REGISTER_IMPORT_MAX_BYTES=2048).test_cli_runner(), "register", "import", str(path))
    assert code == 1 and "The file is larger than 2 KB: split it into several files." in output


@pytest.mark.parametrize("name", ["template.csv", "template.xlsx"])
def test_the_template_has_the_columns_and_an_example_that_imports(runner, session, tmp_path, name):
    """The template: the register's columns in order and one example row, which imports as is."""
    path = tmp_path / name
    code, output = run(runner, "register", "template", str(path))
    assert code == 0, output
    if name.endswith(".xlsx"):
        workbook = load_workbook(path, read_only=True)
        rows = [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]
        workbook.close()
    else:
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    assert rows[0] == list(FIELDS) and len(rows) == 2
    assert run(runner, "register", "import", str(path))[0] == 0
    assert count_artisans(session) == 1


def test_template_format_option_wins_over_the_name(runner, tmp_path):
    """--format xlsx writes a workbook whatever the file is called."""
    path = tmp_path / "template.txt"
    assert run(runner, "register", "template", "--format", "xlsx", str(path))[0] == 0
    assert path.read_bytes().startswith(b"PK\x03\x04")


def test_export_writes_the_chosen_region(runner, session, make_artisan, tmp_path):
    """register export --region 05 writes that region's artisans only, as CSV with a BOM."""
    make_artisan(region_code="03")
    wanted = make_artisan(region_code="05", first_name_ar="زينب")
    session.commit()
    path = tmp_path / "register-05.csv"
    code, output = run(runner, "register", "export", str(path), "--region", "05")
    assert code == 0 and "1 artisans written" in output
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(EXPORT_COLUMNS)
    assert [row[0] for row in rows[1:]] == [wanted.rna_number] and "زينب" in rows[1]


def test_export_refuses_another_file_type(runner, tmp_path):
    """The export's file name says its format: .csv or .xlsx, nothing else."""
    code, output = run(runner, "register", "export", str(Path(tmp_path / "register.pdf")))
    assert code == 2 and ".csv or .xlsx" in output


def test_the_chamber_command_changes_an_address(runner, session):
    """`register chamber 03 --address-fr ...` stores the ministry's address and prints the chamber."""
    code, output = run(runner, "register", "chamber", "03", "--address-fr", "Avenue des Almohades, 30000 Fès")
    assert code == 0 and "Avenue des Almohades, 30000 Fès" in output
    session.expire_all()
    assert session.get(Region, "03").chamber_address_fr == "Avenue des Almohades, 30000 Fès"
    code, output = run(runner, "register", "chamber", "99", "--name-fr", "x")
    assert code == 1 and "There is no region 99." in output
