"""The register screens: the list, an artisan's page, create and edit, and the card actions, for an
officer of Fès-Meknès (03) and an administrator, in French and Arabic; refusals on the page (422)
with nothing written; bad ids and query parameters never a server error."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.backoffice.conftest import OFFICER_REGION
from tests.fixtures.support import TEST_ACTOR
from webapp.models import Artisan, AuditEvent, Card, CardStatus, Gender, RevocationReason, Role
from webapp.services.cards import lifecycle as card_service
from webapp.services.register import artisans as register_service

GOOD_FORM = {
    "rna_number": "RNA-03-0001234",
    "cin": "AB123456",
    "first_name_latin": "Khadija",
    "last_name_latin": "Bennani",
    "first_name_ar": "خديجة",
    "last_name_ar": "بناني",
    "birth_date": "1980-05-17",
    "gender": "female",
    "phone": "06 12 34 56 78",
    "region_code": OFFICER_REGION,
    "province": "Fès",
    "trade_code": "ZEL",
    "legal_status": "independent",
    "cnss_status": "registered",
    "cooperative_name": "",
    "activity_start_year": "2001",
    "programmes": ["WOMEN", "EXPORT"],
}
LANGUAGES = [("fr", "ltr"), ("ar", "rtl")]


def html_of(response) -> str:
    """The page's text, without the bidi isolates around names and numbers inside sentences."""
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


def field_errors(html: str, field: str) -> str:
    """The error list under a field of a form page ('' when it has none)."""
    match = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def card_of(session, artisan) -> Card | None:
    """The artisan's card in force, read afresh."""
    session.expire_all()
    return session.scalar(select(Card).where(Card.artisan_id == artisan.id, Card.status != CardStatus.REVOKED))


@pytest.fixture
def fes(session, make_artisan):
    """An artisan of the officer's region (Fès-Meknès), with no card yet."""
    artisan = make_artisan(region_code=OFFICER_REGION, first_name_latin="Khadija", last_name_latin="Bennani")
    session.commit()
    return artisan


@pytest.fixture
def marrakech(session, make_artisan):
    """An artisan of another region."""
    artisan = make_artisan(region_code="07", first_name_latin="Youssef", last_name_latin="Alaoui")
    session.commit()
    return artisan


@pytest.fixture
def card(fes, make_card):
    """A fresh card in force for the Fès artisan."""
    return make_card(fes)


def artisan_url(artisan, tail: str = "") -> str:
    return f"/office/artisans/{artisan.id}{tail}"


def card_url(card, action: str) -> str:
    return f"/office/artisans/{card.artisan_id}/cards/{card.number}/{action}"


# Every screen ---------------------------------------------------------------------------------

SCREENS = [
    "/office/artisans",
    "/office/artisans?q=khadija&trade=ZEL&card=active&cnss=registered&gender=female&programme=WOMEN",
    "/office/artisans/{artisan}",
    "/office/artisans/{other}",
    "/office/artisans/new",
    "/office/artisans/{artisan}/edit",
    "/office/artisans/{other}/cards/issue",
    "/office/artisans/{artisan}/cards/{number}/suspend",
    "/office/artisans/{artisan}/cards/{number}/reinstate",
    "/office/artisans/{artisan}/cards/{number}/revoke",
    "/office/artisans/{artisan}/cards/{number}/renew",
    "/office/artisans/{artisan}/cards/{number}/replace",
]


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("who", ["officer", "admin"])
def test_every_screen_renders_in_both_languages(request, session, card, make_artisan, screen, who):
    """Each register screen answers 200 for an officer of the region and an administrator, in
    French and in Arabic, with the page's text direction."""
    other = make_artisan(region_code=OFFICER_REGION)
    session.commit()
    staff = request.getfixturevalue(f"as_{who}")
    for language, direction in LANGUAGES:
        response = staff.get(screen.format(artisan=card.artisan_id, other=other.id, number=card.number), language)
        html = html_of(response)
        assert response.status_code == 200, html[:500]
        assert f'<html lang="{language}" dir="{direction}">' in html


def test_the_sections_menu_and_the_header_lead_to_the_register(as_officer, client, auth, make_user):
    """Officers find the artisans from the back office's menu, the header and the home page; partner
    staff see no link to the back office."""
    office = html_of(as_officer.get("/office/"))
    assert 'href="/office/artisans"' in office
    home = html_of(as_officer.get("/"))
    assert home.count('href="/office/"') == 2  # the header and the home page's links
    auth.login(make_user(Role.PARTNER_AGENT))
    assert 'href="/office/"' not in html_of(client.get("/"))


# The list -------------------------------------------------------------------------------------


def names_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/office/artisans/\d+"><bdi dir="ltr">([^<]+)</bdi></a>', html)


def test_an_officer_lists_only_their_region_without_a_region_filter(as_officer, fes, marrakech):
    """Another region's artisans are not listed, and an officer is offered no region filter."""
    html = html_of(as_officer.get("/office/artisans"))
    assert names_listed(html) == ["Khadija Bennani"]
    assert 'name="region"' not in html
    assert "1 artisan" in html


def test_an_administrator_lists_every_region_and_filters_by_region(as_admin, fes, marrakech):
    """The national list holds both regions; the region filter narrows it, and says so in the count."""
    assert set(names_listed(html_of(as_admin.get("/office/artisans")))) == {"Khadija Bennani", "Youssef Alaoui"}
    html = html_of(as_admin.get("/office/artisans?region=07"))
    assert names_listed(html) == ["Youssef Alaoui"]
    assert 'name="region"' in html and "1 artisan" in html


def test_filters_and_search_are_get_parameters(as_officer, session, make_artisan, card):
    """The search box and each filter narrow the list; the card column says the card's state."""
    make_artisan(first_name_latin="Youssef", gender=Gender.MALE, trade_code="TAP")
    session.commit()
    assert names_listed(html_of(as_officer.get("/office/artisans?gender=male"))) == ["Youssef Bennani"]
    assert names_listed(html_of(as_officer.get("/office/artisans?card=active"))) == ["Khadija Bennani"]
    assert names_listed(html_of(as_officer.get(f"/office/artisans?q={card.number}"))) == ["Khadija Bennani"]
    html = html_of(as_officer.get("/office/artisans?q=nobody"))
    assert names_listed(html) == [] and "Aucun artisan ne correspond." in html
    assert "Valide" in html_of(as_officer.get("/office/artisans?card=active"))


def test_the_next_page_link_keeps_the_filters(as_officer, session, make_artisan, monkeypatch):
    """Keyset pages: a "next page" link carries the filters and the cursor; the last page has none;
    together the pages list every artisan once."""
    monkeypatch.setattr(register_service, "PAGE_SIZE", 2)
    for serial in range(5):
        make_artisan(first_name_latin=f"Amina{'abcde'[serial]}", trade_code="TAP")
    make_artisan(first_name_latin="Other", trade_code="ZEL")
    session.commit()
    url, seen = "/office/artisans?trade=TAP", []
    while url:
        html = html_of(as_officer.get(url))
        seen += names_listed(html)
        assert "5 artisans" in html
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        if url:
            assert "trade=TAP" in url and "after=" in url
    assert sorted(seen) == [f"Amina{letter} Bennani" for letter in "abcde"]


@pytest.mark.parametrize(
    "query",
    [
        "region=99",
        "region=07",  # an officer's list has only their own region
        "trade=NOPE",
        "card=lost",
        "cnss=maybe",
        "gender=other",
        "programme=%27%3B--",
        "q=" + "x" * 101,
        "after=abc",
        "after=-5",
        "after=0",
        "after=99999999999999999999",
        "after=" + "9" * 41,
        "after=%00",
        "q=%00",
        "q=%25%5F",
        "q=" + "\u0661" * 10,
        "trade=ZEL&trade=TAP",
    ],
)
def test_bad_query_parameters_never_give_a_server_error(as_officer, fes, query):
    """A hand-made query string is answered with the list page and its problem (or the list), never 500."""
    response = as_officer.get(f"/office/artisans?{query}")
    assert response.status_code in (200, 400, 422)
    assert "Artisans" in html_of(response)


def test_a_bad_cursor_offers_the_first_page(as_officer, fes):
    """A cursor no page gave answers 400 with a link back to the first page, filters kept."""
    response = as_officer.get("/office/artisans?trade=ZEL&after=abc")
    html = html_of(response)
    assert response.status_code == 400
    assert 'href="/office/artisans?trade=ZEL"' in html


# An artisan's page ----------------------------------------------------------------------------


def test_the_page_shows_the_record_the_card_its_history_and_the_trail(as_officer, session, fes, make_card, signer):
    """Both name scripts, the identifiers, the card in force with its QR image, every card (a
    replaced one too) and the trail, newest first."""
    first = make_card(fes)
    second = card_service.replace_card(
        session, first, signer, TEST_ACTOR, validity_years=5, reason=RevocationReason.LOST
    )
    session.commit()
    html = html_of(as_officer.get(artisan_url(fes)))
    for text in ("Khadija Bennani", "خديجة بناني", fes.cin, fes.rna_number, "Carte en vigueur"):
        assert text in html
    assert f'src="/office/artisans/{fes.id}/cards/{second.number}/qr.svg?v=' in html
    history = html.split("Historique des cartes", 1)[1]
    assert history.index(second.number[:5]) < history.index(first.number[:5])
    assert "Perdue" in history and "remplacée par une nouvelle carte" in history
    trail = html.split("Journal des opérations", 1)[1]
    assert trail.index("Carte émise") < trail.index("Carte révoquée")
    assert 'data-qr-text="https://carte.test/v#' in html


def test_an_artisan_without_a_card_is_offered_one(as_officer, fes):
    """No card in force: the page says so and offers to issue one."""
    html = html_of(as_officer.get(artisan_url(fes)))
    assert "Aucune carte en vigueur." in html
    assert f'href="/office/artisans/{fes.id}/cards/issue"' in html


@pytest.mark.parametrize("artisan_id", ["0", "999999", str(2**31), str(2**64), "-1", "abc"])
def test_bad_artisan_ids_answer_404(as_officer, artisan_id):
    """An id that names no artisan (or is no id at all) is not found, never a server error."""
    for tail in ("", "/edit", "/cards/issue", "/cards/ABCDEFGHJK/suspend", "/cards/ABCDEFGHJK/qr.svg"):
        assert as_officer.get(f"/office/artisans/{artisan_id}{tail}").status_code == 404


def test_another_regions_artisan_is_not_found(as_officer, marrakech, make_card):
    """Every page of another region's artisan answers 404, like one that does not exist."""
    other_card = make_card(marrakech)
    for url in (
        artisan_url(marrakech),
        artisan_url(marrakech, "/edit"),
        artisan_url(marrakech, "/cards/issue"),
        card_url(other_card, "suspend"),
        card_url(other_card, "qr.svg"),
    ):
        assert as_officer.get(url).status_code == 404, url


def test_a_card_number_of_another_artisan_is_not_found(as_officer, session, card, make_artisan, make_card):
    """A card action names the artisan and their card: another artisan's card in the URL is 404."""
    neighbour_card = make_card(make_artisan(region_code=OFFICER_REGION))
    url = f"/office/artisans/{card.artisan_id}/cards/{neighbour_card.number}/suspend"
    assert as_officer.get(url).status_code == 404
    assert as_officer.post(card_url(card, "suspend"), {"reason": "x"}, action=url).status_code == 404
    assert card_of(session, neighbour_card.artisan).status == CardStatus.ACTIVE


def test_the_qr_image_is_the_cards_code_and_privately_cacheable(as_officer, card):
    """The QR route answers an SVG, private, with an ETag; asked again with it, 304."""
    url = card_url(card, "qr.svg")
    response = as_officer.get(url)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<svg")
    assert response.headers["Cache-Control"].startswith("private")
    etag = response.headers["ETag"]
    again = as_officer.client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_revoked_cards_qr_image_is_not_served(as_officer, session, card):
    """A revoked card's code is never shown again."""
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    session.commit()
    assert as_officer.get(card_url(card, "qr.svg")).status_code == 404


# Create ---------------------------------------------------------------------------------------


def test_the_form_has_the_right_inputs(as_officer):
    """Arabic names are typed right to left, Latin ones left to right; a date input; selects with
    words in the reader's language; an officer's only region is chosen already."""
    html = html_of(as_officer.get("/office/artisans/new", "ar"))
    for name in ("first_name_ar", "last_name_ar"):
        assert re.search(rf'<input[^>]*dir="rtl"[^>]*name="{name}"', html), name
    for name in ("first_name_latin", "last_name_latin", "cin"):
        assert re.search(rf'<input[^>]*dir="ltr"[^>]*name="{name}"', html), name
    assert 'name="rna_number"' not in html  # the register gives the number
    assert re.search(r'<input[^>]*name="birth_date"[^>]*type="date"', html)
    assert '<option value="female">أنثى</option>' in html
    region = re.search(r'<select[^>]*name="region_code"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option[^>]*value="(\d+)"', region) == [OFFICER_REGION] and "فاس مكناس" in region


def test_registering_an_artisan(as_officer, session, officer):
    """A good form registers the artisan in canonical form, audits it under the officer's name, and
    leads to their page."""
    response = as_officer.post("/office/artisans/new", GOOD_FORM)
    assert response.status_code == 302
    artisan = session.scalar(select(Artisan).where(Artisan.cin == "AB123456"))
    assert response.headers["Location"] == f"/office/artisans/{artisan.id}"
    assert artisan.phone == "+212612345678" and {p.code for p in artisan.programmes} == {"WOMEN", "EXPORT"}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "artisan.create"))
    assert event.actor_user_id == officer.id and event.artisan_id == artisan.id
    page = html_of(as_officer.client.get(response.headers["Location"]))
    assert "Khadija Bennani est inscrit·e au registre." in page and "Samira Officer" in page


@pytest.mark.parametrize(
    ("changes", "field", "french", "arabic"),
    [
        ({"cin": "12"}, "cin", "Un numéro de CIN est formé", "البطاقة الوطنية"),
        ({"first_name_latin": "خديجة"}, "first_name_latin", "Lettres latines uniquement", None),
        ({"first_name_ar": "Khadija"}, "first_name_ar", "Lettres arabes uniquement", None),
        ({"birth_date": "17/13/1980"}, "birth_date", "Une date", None),
        ({"birth_date": ""}, "birth_date", "Obligatoire.", "إلزامي."),
        ({"phone": "12345"}, "phone", "Un numéro marocain", None),
        ({"gender": ""}, "gender", "Obligatoire.", None),
        ({"gender": "x"}, "gender", None, None),
        ({"trade_code": "NOPE"}, "trade_code", "NOPE", None),
        ({"programmes": ["NOPE"]}, "programmes", "NOPE", None),
        ({"activity_start_year": "1970"}, "activity_start_year", "Pas avant l", None),
        ({"legal_status": "cooperative_member"}, "cooperative_name", "Obligatoire pour un membre", None),
        ({"last_name_latin": "Bennani El Idrissi El Alaoui Mhamdi"}, "last_name_latin", "40", None),
        ({"region_code": "07", "province": "Marrakech"}, "region_code", "Votre région uniquement", "جهتك فقط"),
        ({"province": "Marrakech"}, "province", "Marrakech est dans la région Marrakech-Safi", None),
        ({"province": "Atlantis"}, "province", "choisissez-en une dans la liste", None),
        ({"province": "\x00"}, "province", "Obligatoire.", None),
    ],
)
def test_each_problem_is_shown_on_its_field_in_the_readers_language(
    as_officer, session, changes, field, french, arabic
):
    """A wrong field comes back on the form (422) with its problem under it, in French and in
    Arabic; nothing is written."""
    for language, expected in (("fr", french), ("ar", arabic)):
        response = as_officer.post("/office/artisans/new", GOOD_FORM | changes, language=language)
        assert response.status_code == 422
        errors = field_errors(html_of(response), field)
        assert errors, f"no error under {field}"
        if expected:
            assert expected in errors
    assert count(session, Artisan) == 0


@pytest.mark.parametrize(("changes", "fields"), [({}, ["cin"]), ({"rna_number": "RNA-03-0001234"}, ["cin"])])
def test_a_duplicate_is_refused_on_its_field(as_officer, session, make_artisan, changes, fields):
    """A CIN already in the register (any region) is refused on its field, with 422 (an RNA number
    typed into the request is ignored: the register gives the number)."""
    make_artisan(rna_number="RNA-03-0001234", cin="AB123456", region_code="07")
    session.commit()
    response = as_officer.post("/office/artisans/new", GOOD_FORM | changes)
    html = html_of(response)
    assert response.status_code == 422
    for field in fields:
        assert "Un autre artisan du registre a déjà" in field_errors(html, field)
    assert count(session, Artisan) == 1


def test_an_administrator_registers_in_any_region(as_admin, session):
    """An administrator chooses the region."""
    form = GOOD_FORM | {"region_code": "07", "province": "Marrakech"}
    assert as_admin.post("/office/artisans/new", form).status_code == 302
    assert session.scalar(select(Artisan.region_code)) == "07"


def shown_ids(html: str) -> str:
    """The ids of the likely duplicates the form says it showed (its hidden field)."""
    return re.search(r'name="duplicates_shown"[^>]*value="([^"]*)"', html).group(1)


@pytest.mark.parametrize(
    ("existing", "why"),
    [
        ({"first_name_latin": "Khadidja", "last_name_latin": "Benani"}, "nom semblable, même date de naissance"),
        ({"first_name_latin": "Zineb", "first_name_ar": "خديجة", "last_name_ar": "البناني"}, "nom semblable"),
        (
            {
                "first_name_latin": "Youssef",
                "first_name_ar": "يوسف",
                "birth_date": date(1990, 1, 1),
                "phone": "+212612345678",
            },
            "même téléphone",
        ),
    ],
)
def test_a_likely_duplicate_is_shown_and_needs_a_confirmation(as_officer, session, make_artisan, existing, why):
    """A similar name (either script) born the same day, or the same phone, is shown before saving;
    saving needs "register anyway", and the event keeps which records were shown."""
    other = make_artisan(region_code=OFFICER_REGION, cin="ZZ000001", **existing)
    session.commit()
    response = as_officer.post("/office/artisans/new", GOOD_FORM)
    html = html_of(response)
    assert response.status_code == 422 and count(session, Artisan) == 1
    assert "Déjà au registre ?" in html and why in html and f"/office/artisans/{other.id}" in html
    assert shown_ids(html) == str(other.id)
    refused = as_officer.post("/office/artisans/new", GOOD_FORM | {"duplicates_shown": str(other.id)})
    assert refused.status_code == 422 and count(session, Artisan) == 1  # not confirmed
    confirmed = GOOD_FORM | {"duplicates_shown": str(other.id), "confirm_duplicates": "y"}
    assert as_officer.post("/office/artisans/new", confirmed).status_code == 302
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "artisan.create"))
    assert event.after["likely_duplicates_shown"] == [other.id]


@pytest.mark.parametrize("shown", ["", "0", "999999", "abc", "999,,x", "-1"])
def test_a_confirmation_of_records_not_shown_is_asked_again(as_officer, session, make_artisan, shown):
    """A confirmation counts only for the records shown: a changed or empty list asks again."""
    make_artisan(region_code=OFFICER_REGION, cin="ZZ000001")
    session.commit()
    response = as_officer.post(
        "/office/artisans/new", GOOD_FORM | {"duplicates_shown": shown, "confirm_duplicates": "y"}
    )
    assert response.status_code == 422 and "Déjà au registre ?" in html_of(response)
    assert count(session, Artisan) == 1


def test_a_likely_duplicate_in_another_region_is_not_shown_to_an_officer(as_officer, session, make_artisan):
    """An officer is never shown another region's record: the duplicate check stays in the scope."""
    make_artisan(region_code="07", province="Marrakech", cin="ZZ000001")
    session.commit()
    assert as_officer.post("/office/artisans/new", GOOD_FORM).status_code == 302


def test_an_edit_that_makes_a_likely_duplicate_needs_a_confirmation(as_officer, session, make_artisan, fes):
    """Changing a record into another's name and birth date shows that one first."""
    other = make_artisan(first_name_latin="Amina", first_name_ar="أمينة", birth_date=date(1991, 3, 3), cin="ZZ000002")
    session.commit()
    changes = form_of(other, first_name_latin="Khadija", first_name_ar="خديجة")
    response = as_officer.post(artisan_url(other, "/edit"), changes)
    assert response.status_code == 422 and shown_ids(html_of(response)) == str(fes.id)
    confirmed = changes | {"duplicates_shown": str(fes.id), "confirm_duplicates": "y"}
    assert as_officer.post(artisan_url(other, "/edit"), confirmed).status_code == 302
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "artisan.update"))
    assert event.after["likely_duplicates_shown"] == [fes.id]


@pytest.mark.parametrize(("language", "meknes"), [("fr", "Meknès"), ("ar", "مكناس")])
def test_the_province_is_a_list_of_the_regions_provinces(as_officer, language, meknes):
    """The province is a select of the region's provinces in the reader's language (stored by its
    French name), followed by a module when the region changes."""
    html = html_of(as_officer.get("/office/artisans/new", language))
    select_html = re.search(r'<select[^>]*name="province"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert f'<option value="Meknès">{meknes}</option>' in select_html
    assert "Marrakech" not in select_html  # an officer's region only
    assert re.search(r'<select[^>]*data-provinces="[^"]*"[^>]*name="province"', html)
    assert 'src="/static/js/backoffice/province-select.js"' in html


def test_an_old_free_text_province_is_kept_until_changed(as_officer, session, make_artisan):
    """A province typed before the list existed stays choosable and is kept on an unrelated edit."""
    old = make_artisan(region_code=OFFICER_REGION, province="Fes medina", first_name_latin="Amina", cin="ZZ000003")
    session.commit()
    html = html_of(as_officer.get(artisan_url(old, "/edit")))
    assert '<option selected value="Fes medina">Fes medina</option>' in html
    form = form_of(old, first_name_latin="Amina", province="Fes medina", trade_code="TAP")
    assert as_officer.post(artisan_url(old, "/edit"), form).status_code == 302
    session.expire_all()
    assert old.province == "Fes medina" and old.trade_code == "TAP"


def test_a_form_without_its_csrf_token_writes_nothing(as_officer, session):
    """A POST without the CSRF token is refused and nothing is registered."""
    response = as_officer.client.post("/office/artisans/new", data=GOOD_FORM)
    assert response.status_code in (400, 422)
    assert count(session, Artisan) == 0


# Edit -----------------------------------------------------------------------------------------


def form_of(artisan, **changes) -> dict:
    """The edit form as a browser sends it: the record's keys, the version it showed, the changes."""
    return GOOD_FORM | {"rna_number": artisan.rna_number, "cin": artisan.cin, "version": str(artisan.version)} | changes


def test_editing_shows_the_stored_values_and_saves_changes(as_officer, session, fes):
    """The form opens with the record's values; a change is saved and audited before/after."""
    html = html_of(as_officer.get(artisan_url(fes, "/edit")))
    assert f'value="{fes.cin}"' in html and 'value="1980-05-17"' in html
    response = as_officer.post(artisan_url(fes, "/edit"), form_of(fes, province="Meknès"))
    assert response.status_code == 302
    session.expire_all()
    assert fes.province == "Meknès"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "artisan.update"))
    assert event.before["province"] == "Fès" and event.after["province"] == "Meknès"
    page = html_of(as_officer.client.get(response.headers["Location"]))
    assert "Fiche modifiée" in page and "Meknès" in page


def test_moving_an_artisan_out_of_the_region_is_refused_for_an_officer(as_officer, as_admin, session, fes):
    """An officer cannot move their artisan to another region (422 on the region); an admin can."""
    to_marrakech = form_of(fes, region_code="07", province="Marrakech")
    response = as_officer.post(artisan_url(fes, "/edit"), to_marrakech)
    assert response.status_code == 422
    assert "Votre région uniquement" in field_errors(html_of(response), "region_code")
    assert as_admin.post(artisan_url(fes, "/edit"), to_marrakech).status_code == 302
    session.expire_all()
    assert fes.region_code == "07"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [({"first_name_latin": "Khadidja"}, "le nom latin"), ({"trade_code": "TAP"}, "le métier")],
)
def test_a_change_of_what_the_card_carries_offers_renewal(as_officer, session, card, changes, detail):
    """After a change of the Latin name or trade, the page says the card's QR code is out of date and
    offers to renew it; once renewed, the notice is gone."""
    fes = card.artisan
    assert as_officer.post(artisan_url(fes, "/edit"), form_of(fes, **changes)).status_code == 302
    html = html_of(as_officer.get(artisan_url(fes)))
    assert "porte encore les anciennes données" in html and detail in html
    renew = card_url(card, "renew")
    assert f'href="{renew}"' in html
    assert as_officer.post(renew, {}).status_code == 302
    assert "porte encore les anciennes données" not in html_of(as_officer.get(artisan_url(fes)))


def test_a_change_elsewhere_leaves_the_card_up_to_date(as_officer, card):
    """A new phone number is not on the card: no notice."""
    fes = card.artisan
    assert as_officer.post(artisan_url(fes, "/edit"), form_of(fes, phone="0700000000")).status_code == 302
    assert "porte encore les anciennes données" not in html_of(as_officer.get(artisan_url(fes)))


# Card actions ---------------------------------------------------------------------------------


ACTIVATION_CODE = re.compile(r"data-activation-code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<")


def test_issuing_a_card(as_officer, session, fes, signer):
    """The confirmation page says until when; confirmed, the card is issued and the answer shows it
    with its activation code, once (not cached, not on the artisan's page afterwards)."""
    page = html_of(as_officer.get(artisan_url(fes, "/cards/issue")))
    assert "Émettre une carte valable jusqu’au" in page
    response = as_officer.post(artisan_url(fes, "/cards/issue"), {})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    card = card_of(session, fes)
    assert card is not None and card.status == CardStatus.ACTIVE
    answer = html_of(response)
    assert f"La carte {card.number[:5]}\u00a0{card.number[5:]} est émise." in answer
    assert ACTIVATION_CODE.search(answer) and "Earlier codes" not in answer
    assert not ACTIVATION_CODE.search(html_of(as_officer.get(artisan_url(fes))))


def test_a_second_card_is_refused_while_one_is_in_force(as_officer, session, card):
    """Issuing again is refused on the page (422), naming the card in force; no second card."""
    fes = card.artisan
    assert "déjà une carte en vigueur" in html_of(as_officer.get(artisan_url(fes, "/cards/issue")))
    response = as_officer.post(artisan_url(fes, "/cards/issue"), {}, action=artisan_url(fes, "/cards/issue"))
    assert response.status_code == 422
    assert "déjà une carte en vigueur" in html_of(response)
    assert count(session, Card) == 1


def test_a_card_after_a_revocation_for_cause_needs_a_reason(as_officer, session, card):
    """After a revocation for fraud, the page asks for a reason to override it: without one 422 on
    the reason; with one the card is issued and the override is in the trail."""
    card_service.revoke_card(session, card, RevocationReason.FRAUD, TEST_ACTOR)
    session.commit()
    fes = card.artisan
    url = artisan_url(fes, "/cards/issue")
    page = html_of(as_officer.get(url))
    assert "motif" in page and "Fraude" in page and 'name="reason"' in page
    refused = as_officer.post(url, {"reason": "  "})
    assert refused.status_code == 422 and "Un motif est obligatoire" in field_errors(html_of(refused), "reason")
    assert card_of(session, fes) is None
    assert as_officer.post(url, {"reason": "Fraud cleared by the court"}).status_code == 200  # the code page
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "card.issue").order_by(AuditEvent.id.desc()))
    assert event.reason == "Fraud cleared by the court" and event.after["overrides_revocation"]["reason"] == "fraud"


def test_suspending_needs_a_reason(as_officer, session, card):
    """Without a reason 422 under the reason field and the card stays active; with one it is suspended."""
    url = card_url(card, "suspend")
    page = html_of(as_officer.get(url))
    assert f"Suspendre la carte {card.number[:5]}\u00a0{card.number[5:]} maintenant" in page
    refused = as_officer.post(url, {"reason": ""})
    assert refused.status_code == 422 and "Un motif est obligatoire" in field_errors(html_of(refused), "reason")
    assert card_of(session, card.artisan).status == CardStatus.ACTIVE
    too_long = as_officer.post(url, {"reason": "x" * 201})
    assert too_long.status_code == 422 and field_errors(html_of(too_long), "reason")
    assert as_officer.post(url, {"reason": "Inquiry"}).status_code == 302
    assert card_of(session, card.artisan).status == CardStatus.SUSPENDED


@pytest.mark.parametrize("reason", ["", "Checks done"])
def test_reinstating_with_or_without_a_reason(as_officer, session, card, reason):
    """A suspension is lifted with a note or none."""
    card_service.suspend_card(session, card, "check", TEST_ACTOR)
    session.commit()
    assert as_officer.post(card_url(card, "reinstate"), {"reason": reason}).status_code == 302
    reinstated = card_of(session, card.artisan)
    assert reinstated.status == CardStatus.ACTIVE and reinstated.status_reason == (reason or None)


@pytest.mark.parametrize("choice", ["", "replaced", "nonsense"])
def test_revoking_needs_one_of_the_revocation_reasons(as_officer, session, card, choice):
    """No reason, the replacement's own reason or an unknown one: 422 on the select, card in force."""
    response = as_officer.post(card_url(card, "revoke"), {"revocation_reason": choice})
    assert response.status_code == 422
    assert field_errors(html_of(response), "revocation_reason")
    assert card_of(session, card.artisan).status == CardStatus.ACTIVE


def test_revoking_with_a_reason_and_a_note(as_officer, session, card):
    """The reason and the note are kept; the artisan's page shows them in the reader's language."""
    response = as_officer.post(card_url(card, "revoke"), {"revocation_reason": "stolen", "reason": "Police report 42"})
    assert response.status_code == 302
    session.expire_all()
    assert card.status == CardStatus.REVOKED and card.status_reason == "stolen: Police report 42"
    html = html_of(as_officer.get(artisan_url(card.artisan), "ar"))
    assert "سرقة: Police report 42" in html


def test_renewing_signs_a_new_token_with_a_new_expiry(as_officer, session, card):
    """Renew: same number, new token."""
    old_token = card.token
    assert as_officer.post(card_url(card, "renew"), {}).status_code == 302
    session.expire_all()
    assert card.status == CardStatus.ACTIVE and card.token != old_token


@pytest.mark.parametrize("choice", ["", "fraud", "deceased"])
def test_replacing_needs_a_replacement_reason(as_officer, session, card, choice):
    """No reason, or a revocation for cause: 422, the card stays and no other is issued."""
    response = as_officer.post(card_url(card, "replace"), {"replacement_reason": choice})
    assert response.status_code == 422
    assert field_errors(html_of(response), "replacement_reason")
    assert count(session, Card) == 1 and card_of(session, card.artisan).id == card.id


def test_replacing_revokes_and_issues(as_officer, session, card):
    """The old card is revoked (lost), a new one in force replaces it."""
    response = as_officer.post(card_url(card, "replace"), {"replacement_reason": "lost"})
    assert response.status_code == 200 and ACTIVATION_CODE.search(html_of(response))  # the new card's code
    new_card = card_of(session, card.artisan)
    assert new_card.id != card.id and new_card.replaces_id == card.id
    assert card.status == CardStatus.REVOKED and card.revocation_reason == RevocationReason.LOST


def test_a_replacement_that_fails_half_way_writes_nothing(as_officer, session, card, monkeypatch):
    """If issuing the new card is refused after the old one was revoked, the request keeps nothing:
    the old card is still in force."""

    def refuse(*_args, **_kwargs):
        raise card_service.NameTooLong("x" * 41)

    monkeypatch.setattr(card_service, "issue_card", refuse)
    response = as_officer.post(card_url(card, "replace"), {"replacement_reason": "lost"})
    html = html_of(response)
    assert response.status_code == 422 and 'role="alert"' in html
    assert "Valide" in html and 'name="replacement_reason"' in html  # the card as it stays, and the form again
    assert card_of(session, card.artisan).status == CardStatus.ACTIVE
    assert count(session, AuditEvent, AuditEvent.action == "card.revoke") == 0


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (CardStatus.SUSPENDED, "renew"),
        (CardStatus.SUSPENDED, "suspend"),
        (CardStatus.ACTIVE, "reinstate"),
        (CardStatus.REVOKED, "revoke"),
        (CardStatus.REVOKED, "replace"),
        (CardStatus.REVOKED, "reinstate"),
    ],
)
def test_an_action_the_cards_status_does_not_allow_is_refused_on_the_page(as_officer, session, card, status, action):
    """The confirmation page says why instead of offering the action; posting anyway answers 422
    with the reason, and changes nothing."""
    if status == CardStatus.SUSPENDED:
        card_service.suspend_card(session, card, "check", TEST_ACTOR)
    elif status == CardStatus.REVOKED:
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    token = card.token
    page = html_of(as_officer.get(card_url(card, action)))
    assert 'role="alert"' in page and "<button" not in page.split("</main>")[0].split('role="alert"')[1]
    response = as_officer.post(
        card_url(card, action), {"reason": "x", "revocation_reason": "lost", "replacement_reason": "lost"}
    )
    assert response.status_code == 422
    assert "ne peut pas être" in html_of(response)
    session.expire_all()
    assert card.status == status and card.token == token and count(session, Card) == 1


def test_without_a_signing_key_issuing_answers_503_saying_why(as_officer, session, fes):
    """No active signing key: not the officer's input but the service's state, so a 503 page that
    says so (issue 14: issuing answers 503 saying what is wrong; it was a 422 on the form), and no
    card is written."""
    response = as_officer.post(artisan_url(fes, "/cards/issue"), {}, action=artisan_url(fes, "/cards/issue"))
    assert response.status_code == 503 and "Aucune clé de signature active" in html_of(response)
    assert count(session, Card) == 0


@pytest.mark.parametrize("action", ["delete", "activate", "qr.png"])
def test_unknown_card_actions_are_not_found(as_officer, card, action):
    assert as_officer.get(card_url(card, action)).status_code == 404


def test_the_audit_trail_names_the_officer_for_each_card_action(as_officer, session, card, officer):
    """Card actions done on the screens are audited under the signed-in officer."""
    as_officer.post(card_url(card, "suspend"), {"reason": "Inquiry"})
    as_officer.post(card_url(card, "reinstate"), {"reason": ""})
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.card_id == card.id, AuditEvent.actor_user_id == officer.id)
    ).all()
    assert [event.action for event in events] == ["card.suspend", "card.reinstate"]
    assert all(event.artisan_id == card.artisan_id for event in events)
