"""/office/reported-checks: the checks holders reported as "this was not me", for the officers of the
holders' region (administrators: all), with the count."""

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from webapp.models import CardCheck, CheckKind, Redemption, Role, User, utcnow
from webapp.services.cards.checks import Checker, note_check, report_check, report_redemption


@pytest.fixture
def reported(app, session, make_card, make_artisan, make_organisation, make_user):
    """One reported check of a Fès-Meknès holder (03), one of a Rabat holder (04)."""
    organisation = make_organisation(name="Souk Expo")
    cards = {
        region: make_card(make_artisan(region_code=region, last_name_latin=f"Holder{region}"))
        for region in ("03", "04")
    }
    with app.extensions["database"].engine.connect() as connection:
        for card in cards.values():
            note_check(
                connection, card.number, Checker(organisation.id, CheckKind.STAFF_SCAN, f"Stand {card.id}"), utcnow()
            )
    for card in cards.values():
        check = session.scalars(select(CardCheck).where(CardCheck.card_id == card.id)).one()
        holder = make_user(Role.ARTISAN, artisan=card.artisan)
        report_check(session, card.artisan_id, check.id, holder.id, TEST_ACTOR)
    session.commit()
    return cards


@pytest.mark.parametrize(
    ("region", "shown", "hidden"), [("03", "Holder03", "Holder04"), ("04", "Holder04", "Holder03")]
)
def test_officers_see_their_regions_reports_only(client, auth, make_user, reported, region, shown, hidden):
    """An officer sees the reports of their region's holders, with partner and place; not another region's."""
    auth.login(make_user(Role.OFFICER, region=region))
    page = client.get("/office/reported-checks?lang=fr").get_data(as_text=True)
    assert shown in page and hidden not in page
    assert "Souk Expo" in page and f"Stand {reported[region].id}" in page
    assert "1 vérification signalée en tout." in page


def test_administrators_see_every_region(client, auth, make_user, reported):
    """A national administrator sees both."""
    auth.login(make_user(Role.ADMIN))
    page = client.get("/office/reported-checks?lang=en").get_data(as_text=True)
    assert "Holder03" in page and "Holder04" in page and "2 reported checks in all." in page


@pytest.mark.parametrize(
    ("role", "region", "count", "language", "label"),
    [
        (Role.OFFICER, "03", 1, "fr", "vérifications et utilisations signalées par les titulaires"),
        (Role.OFFICER, "05", 0, "ar", "عمليات تحقق واستعمالات أبلغ عنها أصحاب البطاقات"),
        (Role.ADMIN, None, 2, "en", "checks and uses reported by card holders"),
    ],
)
def test_the_dashboard_counts_the_reports_of_the_readers_region(
    client, auth, make_user, reported, role, region, count, language, label
):
    """The dashboard's tile gives the number of reported checks in the reader's scope and links to them."""
    auth.login(make_user(role, region=region))
    home = client.get(f"/office/?lang={language}").get_data(as_text=True)
    tiles = home.split("summary-tiles tile-links", 1)[1].split("</ul>", 1)[0]
    tile = tiles.split('href="/office/reported-checks"', 1)[1].split("</a>", 1)[0]
    assert f"<strong>{count}</strong>" in tile and label in tile


@pytest.fixture
def reported_redemption(session, reported, make_offer, make_organisation, make_user):
    """A reported (synced offline) redemption of the Fès-Meknès holder's card at Dar Tourisme."""
    organisation = make_organisation(name="Dar Tourisme")
    card = reported["03"]
    redemption = Redemption(
        offer_id=make_offer(organisation).id,
        card_id=card.id,
        made_at=utcnow(),
        fields={},
        made_offline=True,
        recorded_by_user_id=make_user(Role.PARTNER_AGENT, organisation=organisation).id,
    )
    session.add(redemption)
    session.flush()
    holder = session.scalars(select(User).where(User.artisan_id == card.artisan_id)).one()
    report_redemption(session, card.artisan_id, redemption.id, holder.id, TEST_ACTOR)
    session.commit()
    return redemption


@pytest.mark.parametrize(
    ("region", "listed", "count", "language", "total"),
    [
        ("03", True, 2, "fr", "1 utilisation signalée en tout."),
        ("04", False, 1, "ar", "لا يوجد استعمال لعرض مُبلغ عنه."),
    ],
)
def test_reported_redemptions_are_listed_and_counted_for_their_region(
    client, auth, make_user, reported_redemption, region, listed, count, language, total
):
    """The reported redemption is in its own section for the holder's region only, and the dashboard's
    count adds it to the region's reported checks."""
    auth.login(make_user(Role.OFFICER, region=region))
    page = client.get(f"/office/reported-checks?lang={language}").get_data(as_text=True)
    section = page.split('id="reported-redemptions"', 1)[1]
    assert ("Dar Tourisme" in section) == listed and total in section
    tiles = client.get("/office/").get_data(as_text=True).split("summary-tiles tile-links", 1)[1].split("</ul>", 1)[0]
    tile = tiles.split('href="/office/reported-checks"', 1)[1].split("</a>", 1)[0]
    assert f"<strong>{count}</strong>" in tile
