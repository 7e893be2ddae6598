"""Exports of the register: the import's columns plus the card, streamed a page at a time, cells
that a spreadsheet would run as formulas neutralised, Arabic readable by Excel (UTF-8 BOM)."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from webapp.clock import MOROCCO
from webapp.models import Artisan, RevocationReason, SupportProgramme, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.register import exports
from webapp.services.register.artisans import ArtisanQuery, artisan_ids
from webapp.services.register.exports import EXPORT_COLUMNS, count_selected, export_rows, write_export
from webapp.services.register.imports import ImportMode, ImportRequest, import_register
from webapp.services.scope import NATIONAL, Scope


def column(rows, name):
    return [row[EXPORT_COLUMNS.index(name)] for row in rows]


def test_rows_follow_the_import_template_and_add_the_card(session, make_artisan, make_card):
    """One row per artisan: the register's fields in the template's stored forms, then the card's
    number, its state as a verifier reads it today, and its expiry (empty without a card)."""
    artisan = make_artisan(phone="+212612345678")
    artisan.programmes.append(session.get(SupportProgramme, "WOMEN"))
    card = make_card(artisan)
    no_card = make_artisan(region_code="05")
    session.commit()
    rows = list(export_rows(session, artisan_ids(NATIONAL, ArtisanQuery())))
    assert len(rows) == 2 and all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    first = dict(zip(EXPORT_COLUMNS, rows[0], strict=True))
    assert first["birth_date"] == "1980-05-17" and first["gender"] == "female" and first["programmes"] == "WOMEN"
    assert first["phone"] == "'+212612345678"  # a leading + would be a formula in a spreadsheet
    assert (first["card_number"], first["card_status"]) == (card.number, "active")
    assert first["card_expires_at"] == card.expires_at.astimezone(MOROCCO).date().isoformat()
    assert dict(zip(EXPORT_COLUMNS, rows[1], strict=True))["rna_number"] == no_card.rna_number
    assert column(rows[1:], "card_number") == [""]


@pytest.mark.parametrize("dangerous", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(session, make_artisan, dangerous):
    """A cell starting with =, +, -, @, a tab or a carriage return gets a leading quote."""
    make_artisan(province=dangerous, cooperative_name=dangerous)
    session.commit()
    row = dict(zip(EXPORT_COLUMNS, next(export_rows(session, [session.scalar(select(Artisan.id))])), strict=True))
    assert row["province"] == "'" + dangerous and row["cooperative_name"] == "'" + dangerous


def test_filters_and_scope_choose_the_artisans(session, make_artisan, make_card, signer):
    """The export reads the register list's query (services/register/artisans.py): region, trade and
    card filters choose the rows; an officer's scope keeps them to their region whatever they ask for."""
    fes_zel = make_card(make_artisan(region_code="03", trade_code="ZEL")).artisan
    fes_tap_revoked = make_card(make_artisan(region_code="03", trade_code="TAP"))
    card_service.revoke_card(session, fes_tap_revoked, RevocationReason.LOST, TEST_ACTOR)
    expired = make_card(make_artisan(region_code="03"), now=utcnow() - timedelta(days=6 * 366)).artisan
    rabat = make_artisan(region_code="04", trade_code="POT")
    session.commit()

    def ids(scope=NATIONAL, **chosen):
        selection = artisan_ids(scope, ArtisanQuery(**chosen))
        found = sorted(session.scalars(selection))
        assert count_selected(session, selection) == len(found)
        return found

    assert ids(trade_code="ZEL") == [fes_zel.id, expired.id]
    assert ids(card_status="revoked") == [fes_tap_revoked.artisan_id]
    assert ids(card_status="expired") == [expired.id]
    assert ids(card_status="active") == [fes_zel.id]
    assert ids(card_status="none") == [rabat.id]
    assert ids(region_code="04") == [rabat.id]
    assert ids(Scope(region_code="03"), region_code="04") == []
    assert len(ids(Scope(region_code="03"))) == 3


def test_a_renewed_then_replaced_card_shows_the_latest(session, make_artisan, make_card, signer):
    """An artisan with a replaced card shows the new card in the export's card columns."""
    old = make_card()
    new = card_service.replace_card(
        session, old, signer, TEST_ACTOR, validity_years=5, reason=RevocationReason.REPLACED
    )
    session.commit()
    rows = list(export_rows(session, artisan_ids(NATIONAL, ArtisanQuery(card_status="active"))))
    assert column(rows, "card_number") == [new.number]
    assert list(session.scalars(artisan_ids(NATIONAL, ArtisanQuery(card_status="revoked")))) == []


def test_pages_stream_the_whole_selection(session, make_artisan, monkeypatch):
    """Rows come a page at a time (keyset by id), every artisan once, in id order or in the ids' order."""
    monkeypatch.setattr(exports, "PAGE_SIZE", 3)
    made = [make_artisan().id for _ in range(8)]
    session.commit()
    rows = list(export_rows(session, artisan_ids(NATIONAL, ArtisanQuery())))
    by_rna = {artisan.rna_number: artisan.id for artisan in session.scalars(select(Artisan))}
    assert [by_rna[rna] for rna in column(rows, "rna_number")] == made
    chosen = [made[5], made[1], 10**6, made[7]]
    assert [by_rna[rna] for rna in column(list(export_rows(session, chosen)), "rna_number")] == [
        made[5],
        made[1],
        made[7],
    ]


def test_a_csv_export_opens_in_excel_with_its_arabic_and_imports_again(app, session, make_artisan, tmp_path):
    """The CSV starts with a UTF-8 BOM (Excel then reads Arabic right), and importing it back
    changes nothing (the quotes of neutralised cells are read back, the card columns ignored)."""
    make_artisan(first_name_ar="فاطمة الزهراء", phone="+212612345678", rna_number="RNA-03-0000042")
    session.commit()
    path = tmp_path / "register.csv"
    assert write_export(session, artisan_ids(NATIONAL, ArtisanQuery()), path) == 1
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "فاطمة الزهراء".encode() in data
    with path.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == list(EXPORT_COLUMNS)
    request = ImportRequest(path, path.name, TEST_ACTOR, NATIONAL, ImportMode.IMPORT, max_bytes=10**7)
    report = import_register(app.extensions["database"].session_scope, request)
    assert (report.unchanged, report.refused) == (1, 0)


def test_an_xlsx_export_is_a_workbook_of_the_same_rows(session, make_artisan, tmp_path):
    """The XLSX export holds the header and the same cells (formulas neutralised as text)."""
    make_artisan(province="=cmd")
    session.commit()
    path = tmp_path / "register.xlsx"
    write_export(session, artisan_ids(NATIONAL, ArtisanQuery()), path)
    workbook = load_workbook(path, read_only=True)
    sheet_rows = [[cell.value for cell in row] for row in workbook.worksheets[0].iter_rows()]
    types = [cell.data_type for cell in next(workbook.worksheets[0].iter_rows(min_row=2))]
    workbook.close()
    assert sheet_rows[0] == list(EXPORT_COLUMNS)
    assert sheet_rows[1][EXPORT_COLUMNS.index("province")] == "'=cmd" and "f" not in types
