"""Redemptions in the portal: filters, keyset pages, charts per week and per region, CSV and XLSX
exports (same filters, translated headers, formula cells neutralised), and partners kept apart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import text

from tests.conftest import TEST_DATABASE_URL, csrf_token_from
from webapp.clock import format_day
from webapp.models import OfferState
from webapp.partner import views
from webapp.services.cards.numbers import format_card_number
from webapp.services.partners.rules import moroccan_today


@pytest.fixture
def scene(partner, make_partner, make_offer, make_card, make_artisan, make_redemption):
    """Partner A with two offers and redemptions in two regions, one over quota, one a month ago;
    partner B with one redemption of its own. Returns named cards to look for in the pages."""
    parcels, fair = make_offer(partner.organisation), make_offer(partner.organisation, name="Salon")
    other = make_partner()
    card = {
        "fes": make_card(make_artisan(region_code="03")),
        "casa": make_card(make_artisan(region_code="06")),
        "over": make_card(make_artisan(region_code="03")),
        "old": make_card(make_artisan(region_code="07")),
        "other": make_card(make_artisan(region_code="03")),
    }
    make_redemption(parcels, card["fes"], partner.agent)
    make_redemption(fair, card["casa"], partner.manager)
    make_redemption(parcels, card["over"], partner.agent, over_quota=True)
    make_redemption(parcels, card["old"], partner.agent, made_at=datetime.now(UTC) - timedelta(days=35))
    make_redemption(make_offer(other.organisation), card["other"], other.agent)
    return {"parcels": parcels, "fair": fair, "other": other, "card": card}


def numbers_in(html: str, scene) -> set[str]:
    return {name for name, card in scene["card"].items() if format_card_number(card.number) in html}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", {"fes", "casa", "over", "old"}),
        ("offer={fair}", {"casa"}),
        ("region=03", {"fes", "over"}),
        ("over_quota=yes", {"over"}),
        ("over_quota=no", {"fes", "casa", "old"}),
        ("date_from={week_ago}", {"fes", "casa", "over"}),
        ("date_to={week_ago}", {"old"}),
        ("offer={parcels}&region=03&over_quota=no", {"fes"}),
    ],
)
def test_filters_narrow_the_list(client, auth, partner, scene, query, expected):
    """Each filter keeps only the matching redemptions; partner B's never appear."""
    auth.login(partner.manager)
    week_ago = (moroccan_today() - timedelta(days=7)).isoformat()
    path = "/partner/redemptions?" + query.format(fair=scene["fair"].id, parcels=scene["parcels"].id, week_ago=week_ago)
    response = client.get(path)
    assert response.status_code == 200 and numbers_in(response.get_data(as_text=True), scene) == expected


@pytest.mark.parametrize(
    "query",
    [
        "date_from=yesterday",
        "date_from=2026-12-10&date_to=2026-12-01",
        "region=13",
        "offer=abc",
        "offer={other_offer}",
        "over_quota=maybe",
        "before=zero",
        "before=-4",
        "before=2147483648",
    ],
)
def test_bad_filters_are_refused(client, auth, partner, scene, make_offer, query):
    """A bad filter answers 422 on the page (with the form's errors) and 400 on the exports; no rows leak."""
    other_offer = make_offer(scene["other"].organisation)
    auth.login(partner.manager)
    query = query.format(other_offer=other_offer.id)
    page = client.get(f"/partner/redemptions?{query}")
    assert page.status_code == 422 and numbers_in(page.get_data(as_text=True), scene) == set()
    assert 'class="errors"' in page.get_data(as_text=True)
    for extension in ("csv", "xlsx"):
        assert client.get(f"/partner/redemptions.{extension}?{query}").status_code == 400


def test_pages_carry_the_filters(client, auth, partner, scene, monkeypatch):
    """The "Older" link keeps the filters and continues after the last row shown; the last page has none."""
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    auth.login(partner.manager)
    first = client.get(f"/partner/redemptions?offer={scene['parcels'].id}").get_data(as_text=True)
    assert numbers_in(first, scene) == {"over", "old"}
    older = first.split('<nav class="pagination"', 1)[1].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert f"offer={scene['parcels'].id}" in older and "before=" in older
    second = client.get(older).get_data(as_text=True)
    assert numbers_in(second, scene) == {"fes"} and '<nav class="pagination"' not in second


def test_the_charts_count_per_week_and_per_region(client, auth, partner, scene):
    """Twelve weeks labelled by their Monday, and the regions by name in the reader's language."""
    auth.login(partner.manager)
    html = client.get("/partner/redemptions?lang=ar").get_data(as_text=True)
    weeks, regions = html.split('<figure class="chart">')[1:3]
    assert weeks.count("<tr>") == 12
    today = moroccan_today()
    monday = today - timedelta(days=today.weekday())
    assert format_day(monday, "ar") in weeks  # the one date format, Morocco's month names (7 دجنبر 2026)
    assert "فاس مكناس" in regions and "الدار البيضاء سطات" in regions and "مراكش آسفي" in regions
    region_rows = regions.split("<tr>")[1:]
    assert "فاس مكناس" in region_rows[0] and '<td class="number">2</td>' in region_rows[0]


def csv_rows(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[list[object]]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    rows = [list(row) for row in workbook.active.iter_rows(values_only=True)]
    workbook.close()
    return rows


READERS = {"csv": csv_rows, "xlsx": xlsx_rows}


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_exports_parse_back_with_the_filters(client, auth, partner, scene, extension):
    """An export has translated headers, one row per filtered redemption of this partner, a dated name."""
    auth.login(partner.manager)
    response = client.get(f"/partner/redemptions.{extension}?region=03")
    rows = READERS[extension](response)
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{moroccan_today().isoformat()}.{extension}" in disposition
    assert rows[0][:4] == ["Numéro", "Faite le", "Enregistrée le", "Offre"]
    cards = {row[4] for row in rows[1:]}
    assert cards == {scene["card"]["fes"].number, scene["card"]["over"].number}
    over = next(row for row in rows[1:] if row[4] == scene["card"]["over"].number)
    # The region by its name for people, its code in a column of its own for spreadsheets that join on it.
    assert over[9] == "oui" and over[6] == "Fès-Meknès" and over[7] == "03"
    assert over[8] == "Poids (kg): 2,5; Pays de destination: France"


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_exports_never_hold_another_partners_redemptions(client, auth, partner, scene, extension):
    """Partner B's redemption is in neither of partner A's exports, and vice versa."""
    auth.login(partner.manager)
    rows = READERS[extension](client.get(f"/partner/redemptions.{extension}"))
    assert len(rows) == 5 and scene["card"]["other"].number not in {row[4] for row in rows}
    auth.logout()
    auth.login(scene["other"].manager)
    rows = READERS[extension](client.get(f"/partner/redemptions.{extension}"))
    assert [row[4] for row in rows[1:]] == [scene["card"]["other"].number]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_formula_cells_are_neutralised(client, auth, partner, make_offer, make_card, make_redemption, extension):
    """A text starting with "=" (an offer's name here) comes out as text, not as a formula."""
    offer = make_offer(partner.organisation, name='=HYPERLINK("https://evil.example","x")')
    make_redemption(offer, make_card(), partner.agent)
    auth.login(partner.manager)
    rows = READERS[extension](client.get(f"/partner/redemptions.{extension}"))
    assert rows[1][3] == '\'=HYPERLINK("https://evil.example","x")'


def test_the_xlsx_export_is_a_workbook(client, auth, partner, scene):
    """The XLSX answer has the spreadsheet media type and is not cached."""
    auth.login(partner.manager)
    response = client.get("/partner/redemptions.xlsx")
    xlsx_rows(response)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_offer_of_the_list_is_offered_in_the_filter(client, auth, partner, scene, make_offer):
    """The offer filter lists this partner's offers (drafts too), never another partner's."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    other = make_offer(scene["other"].organisation, name="Autre partenaire")
    auth.login(partner.manager)
    html = client.get("/partner/redemptions").get_data(as_text=True)
    assert f'value="{draft.id}"' in html and f'value="{other.id}"' not in html


def test_a_date_filter_counts_days_in_morocco(client, auth, partner, make_offer, make_card, make_redemption):
    """A redemption at 23:30 UTC on the eve of a day in Morocco's summer (UTC+1) counts for that day."""
    offer, card = make_offer(partner.organisation), make_card()
    day = date(2026, 7, 15)
    make_redemption(offer, card, partner.agent, made_at=datetime(2026, 7, 14, 23, 30, tzinfo=UTC))
    auth.login(partner.manager)
    html = client.get(f"/partner/redemptions?date_from={day}&date_to={day}").get_data(as_text=True)
    assert format_card_number(card.number) in html


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="reads PostgreSQL's list of connections")
def test_a_streamed_export_leaves_no_transaction_open(client, auth, partner, scene, session):
    """The CSV rows are read after the request's teardown: their transaction is ended too (else it
    would hold locks, idle in transaction, until the connection is collected)."""
    auth.login(partner.manager)
    client.get("/partner/redemptions.csv").get_data()
    session.commit()
    states = session.scalars(
        text("SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    ).all()
    assert "idle in transaction" not in states


# --- who recorded it, details by their labels, voiding ------------------------------------------------


@pytest.mark.parametrize(
    "language,label,value",
    [("fr", "Poids (kg)", "2,5"), ("ar", "الوزن (كغ)", "2.5"), ("en", "Weight (kg)", "2.5")],
)
def test_the_list_names_who_recorded_and_labels_the_details(
    client, auth, partner, make_offer, make_card, make_redemption, make_api_key, session, language, label, value
):
    """The staff member's name or the API key's name, and the fields by their labels (no raw key)."""
    offer = make_offer(partner.organisation)
    make_redemption(offer, make_card(), partner.agent)
    by_key = make_redemption(offer, make_card(), partner.agent)
    key = make_api_key(partner.organisation, label="Caisse du guichet 2").api_key
    by_key.recorded_by_user_id, by_key.api_key_id = None, key.id
    session.commit()
    auth.login(partner.manager)
    html = client.get(f"/partner/redemptions?lang={language}").get_data(as_text=True)
    assert partner.agent.display_name in html and "Caisse du guichet 2" in html
    assert f"<bdi>{label}</bdi>: <bdi>{value}</bdi>" in html and "weight_kg" not in html


def test_a_manager_voids_a_redemption_with_a_reason(
    client, auth, partner, session, make_offer, make_card, make_redemption
):
    """Confirmation page, then POST: listed struck with its reason and no longer counted."""
    offer = make_offer(partner.organisation)
    kept, mistaken = (
        make_redemption(offer, make_card(), partner.agent),
        make_redemption(offer, make_card(), partner.agent),
    )
    auth.login(partner.manager)
    page = client.get(f"/partner/redemptions/{mistaken.id}/void?lang=fr")
    assert page.status_code == 200 and "Pourquoi" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        f"/partner/redemptions/{mistaken.id}/void", data={"csrf_token": token, "reason": "Mauvaise carte"}
    )
    assert response.status_code == 302
    html = client.get("/partner/redemptions?lang=fr").get_data(as_text=True)
    assert "Mauvaise carte" in html and 'class="voided"' in html and "1 utilisation" in html
    session.expire_all()
    assert session.get(type(mistaken), mistaken.id).voided_at is not None
    assert session.get(type(kept), kept.id).voided_at is None
    rows = csv_rows(client.get("/partner/redemptions.csv"))
    voided_row = next(row for row in rows[1:] if row[0] == str(mistaken.id))
    assert voided_row[-1] == "Mauvaise carte" and voided_row[-2]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 201], ids=["empty", "blank", "too-long"])
def test_a_void_without_a_reason_is_sent_back(
    client, auth, partner, session, make_offer, make_card, make_redemption, reason
):
    """422 with the message under the labelled reason field; nothing voided."""
    redemption = make_redemption(make_offer(partner.organisation), make_card(), partner.agent)
    auth.login(partner.manager)
    token = csrf_token_from(client.get(f"/partner/redemptions/{redemption.id}/void").get_data(as_text=True))
    response = client.post(
        f"/partner/redemptions/{redemption.id}/void?lang=ar", data={"csrf_token": token, "reason": reason}
    )
    assert response.status_code == 422 and 'id="reason-errors"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(type(redemption), redemption.id).voided_at is None


def test_another_partners_redemption_cannot_be_voided(
    client, auth, partner, make_partner, make_offer, make_card, make_redemption
):
    """404, as for a redemption that does not exist."""
    other = make_partner()
    theirs = make_redemption(make_offer(other.organisation), make_card(), other.agent)
    auth.login(partner.manager)
    assert client.get(f"/partner/redemptions/{theirs.id}/void").status_code == 404
