"""The back office's home: the register at a glance, within the reader's scope."""

import pytest

from webapp.models import Role


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_sees_their_regions_figures(client, auth, make_user, make_artisan, make_card, language):
    """An officer's dashboard counts their region only and says which region, in their language."""
    make_card(make_artisan(region_code="03"))
    make_card(make_artisan(region_code="07"))
    auth.login(make_user(Role.OFFICER, region="03"))
    page = client.get(f"/office/?lang={language}").get_data(as_text=True)
    assert {"fr": "Registre de Fès-Meknès", "ar": "سجل جهة فاس مكناس"}[language] in page
    tiles = page.split('class="summary-tiles"', 1)[1].split("</ul>", 1)[0]
    # one artisan, one woman, one card in force, none without: the other region's artisan is not counted
    assert tiles.count("<strong>1</strong>") == 3 and tiles.count("<strong>0</strong>") == 1
    assert {"fr": "Artisans par région", "ar": "الصناع حسب الجهة"}[language] not in page  # one region only


def test_an_admin_sees_the_national_register_by_region(client, auth, make_user, make_artisan):
    """The national administrator's dashboard has every region's artisans."""
    make_artisan(region_code="03")
    make_artisan(region_code="07")
    auth.login(make_user(Role.ADMIN))
    page = client.get("/office/?lang=en").get_data(as_text=True)
    assert "National register" in page and "Artisans by region" in page
    assert "Fez-Meknes" in page and "Marrakesh-Safi" in page


@pytest.mark.parametrize("role", [Role.PARTNER_MANAGER, Role.PARTNER_AGENT, Role.ARTISAN])
def test_no_back_office_for_partners_and_artisans(client, auth, make_user, role):
    """Partner staff and artisans are refused the back office."""
    auth.login(make_user(role))
    assert client.get("/office/").status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/office/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
