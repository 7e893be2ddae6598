"""Every screen of the portal renders for a manager, in French and in Arabic (right to left)."""

from __future__ import annotations

import pytest

from webapp.models import OfferState

LANGUAGES = [("fr", 'dir="ltr"'), ("ar", 'dir="rtl"')]
SCREENS = [
    "/partner/",
    "/partner/offers",
    "/partner/offers/{draft}",
    "/partner/offers/{approved}",
    "/partner/offers/new",
    "/partner/offers/new?example=lender",
    "/partner/offers/{draft}/edit",
    "/partner/offers/{draft}/edit?example=market_organiser",
    "/partner/redemptions",
    "/partner/staff",
    "/partner/staff/new",
    "/partner/api-keys",
    "/partner/api-keys/new",
    "/partner/api-keys/{prefix}/revoke",
]


@pytest.mark.parametrize("language,direction", LANGUAGES)
@pytest.mark.parametrize("screen", SCREENS)
def test_every_screen_renders_for_a_manager(
    client, auth, partner, make_offer, make_api_key, make_card, make_redemption, screen, language, direction
):
    """Each manager screen answers 200 in the language asked, with the page's text direction."""
    draft = make_offer(partner.organisation, state=OfferState.DRAFT)
    approved = make_offer(partner.organisation)
    make_redemption(approved, make_card(), partner.agent)
    key = make_api_key(partner.organisation)
    auth.login(partner.manager)
    path = screen.format(draft=draft.id, approved=approved.id, prefix=key.api_key.prefix)
    separator = "&" if "?" in path else "?"
    response = client.get(f"{path}{separator}lang={language}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'lang="{language}"' in html and direction in html.split(">", 2)[1]


@pytest.mark.parametrize("language,direction", LANGUAGES)
def test_an_agent_home_renders(client, auth, partner, language, direction):
    """An agent's one screen renders in both languages."""
    auth.login(partner.agent)
    response = client.get(f"/partner/?lang={language}")
    assert response.status_code == 200
    assert direction in response.get_data(as_text=True).split(">", 2)[1]
