"""The administration's home: the figures an administrator starts from, each a link."""

import pytest

from webapp.models import OfferState, Role


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_home_counts_partners_offers_and_withdrawals(
    admin_client, session, make_offer, make_organisation, make_card, admin, language, direction
):
    """Organisations, offers waiting, offers in force and withdrawals in force, in the reader's language."""
    from webapp.services.partners.offers import withdraw_offer_from_card

    organisation = make_organisation()
    make_offer(organisation, state=OfferState.SUBMITTED)
    make_offer(organisation, state=OfferState.SUBMITTED)
    approved = make_offer(organisation)
    make_offer(make_organisation(), state=OfferState.DRAFT)
    from tests.fixtures.support import TEST_ACTOR

    withdraw_offer_from_card(session, approved, make_card(), "fraude", TEST_ACTOR)
    session.commit()
    page = admin_client.get(f"/admin/?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    tiles = {
        "/admin/partners": 2,
        "/admin/offers?state=submitted": 2,
        "/admin/offers?state=approved": 1,
        "/admin/withdrawals": 1,
    }
    for link, count in tiles.items():
        assert f'href="{link}"><strong>{count}</strong>' in page
    expected = {"fr": "offres en attente", "ar": "العروض"}[language]
    assert expected in page


@pytest.mark.parametrize("role", [Role.OFFICER, Role.PARTNER_MANAGER, Role.PARTNER_AGENT, Role.ARTISAN])
def test_only_administrators_enter(client, auth, make_user, role):
    """Every other role gets 403 on the administration."""
    auth.login(make_user(role))
    assert client.get("/admin/").status_code == 403
