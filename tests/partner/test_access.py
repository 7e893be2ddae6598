"""Who may do what in the portal: agents see only their own recent redemptions and get 403 on every
manager screen, export and action; every POST needs its CSRF token; other roles are kept out."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from
from webapp.models import ApiKey, AuditEvent, Offer, OfferState, Redemption, Role, User
from webapp.services.cards.numbers import format_card_number

MANAGER_PAGES = [
    "/partner/offers",
    "/partner/offers/{offer}",
    "/partner/offers/new",
    "/partner/offers/{draft}/edit",
    "/partner/offers/{draft}/delete",
    "/partner/redemptions",
    "/partner/redemptions.csv",
    "/partner/redemptions.xlsx",
    "/partner/redemptions/{redemption}/void",
    "/partner/staff",
    "/partner/staff/new",
    "/partner/api-keys",
    "/partner/api-keys/new",
    "/partner/api-keys/{prefix}/revoke",
]
POSTS = [
    ("/partner/offers/new", {"name_fr": "x"}),
    ("/partner/offers/{draft}/edit", {"name_fr": "x"}),
    ("/partner/offers/{draft}/submit", {}),
    ("/partner/offers/{draft}/delete", {}),
    ("/partner/offers/{offer}/retire", {"reason": "because"}),
    ("/partner/staff/new", {"email": "new@example.ma", "display_name": "New One", "role": "partner_agent"}),
    ("/partner/staff/{agent}/disable", {}),
    ("/partner/staff/{agent}/enable", {}),
    ("/partner/offers/preview", {"conditions": "[]"}),
    ("/partner/api-keys/new", {"label": "System", "scopes": ["verify"]}),
    ("/partner/api-keys/{prefix}/revoke", {}),
    ("/partner/redemptions/{redemption}/void", {"reason": "mistake"}),
]


@pytest.fixture
def ids(partner, make_offer, make_api_key, make_card, make_redemption) -> dict[str, object]:
    offer = make_offer(partner.organisation)
    return {
        "offer": offer.id,
        "redemption": make_redemption(offer, make_card(), partner.agent).id,
        "draft": make_offer(partner.organisation, state=OfferState.DRAFT).id,
        "prefix": make_api_key(partner.organisation).api_key.prefix,
        "agent": partner.agent.id,
    }


def counts(session) -> tuple[int, ...]:
    """Rows of the tables an action could change, disabled accounts and revoked keys."""
    session.expire_all()
    statements = [select(func.count()).select_from(table) for table in (AuditEvent, Offer, User, ApiKey)]
    statements.append(select(func.count()).select_from(User).where(User.is_enabled.is_(False)))
    statements.append(select(func.count()).select_from(ApiKey).where(ApiKey.revoked_at.is_not(None)))
    statements.append(select(func.count()).select_from(Redemption).where(Redemption.voided_at.is_not(None)))
    statements.append(select(func.count()).select_from(Offer).where(Offer.deleted_at.is_not(None)))
    return tuple(session.scalar(statement) for statement in statements)


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_an_agent_gets_403_on_manager_pages(client, auth, partner, ids, path):
    """Every manager screen and export is refused to a counter agent."""
    auth.login(partner.agent)
    assert client.get(path.format(**ids)).status_code == 403


@pytest.mark.parametrize("path,data", POSTS)
def test_an_agent_gets_403_on_manager_actions(client, auth, partner, session, ids, path, data):
    """Every manager action is refused to an agent, even with a valid CSRF token, and changes nothing."""
    auth.login(partner.agent)
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    before = counts(session)
    assert client.post(path.format(**ids), data={**data, "csrf_token": token}).status_code == 403
    assert counts(session) == before


@pytest.mark.parametrize("path,data", POSTS)
def test_every_post_needs_its_csrf_token(client, auth, partner, session, ids, path, data):
    """A manager's POST without the CSRF token answers 400 and changes nothing."""
    auth.login(partner.manager)
    before = counts(session)
    assert client.post(path.format(**ids), data=data).status_code == 400
    assert client.post(path.format(**ids), data={**data, "csrf_token": "forged"}).status_code == 400
    assert counts(session) == before


def test_the_agent_menu_has_only_home(client, auth, partner):
    """An agent's menu shows no manager section."""
    auth.login(partner.agent)
    html = client.get("/partner/").get_data(as_text=True)
    assert 'href="/partner/offers"' not in html and 'href="/partner/redemptions"' not in html


def test_an_agent_sees_only_their_own_redemptions(
    client, auth, partner, make_user, make_offer, make_card, make_redemption
):
    """The agent's home lists what they recorded, never a colleague's or another partner's."""
    colleague = make_user(Role.PARTNER_AGENT, organisation=partner.organisation)
    offer = make_offer(partner.organisation)
    mine, theirs, managers = make_card(), make_card(), make_card()
    make_redemption(offer, mine, partner.agent)
    make_redemption(offer, theirs, colleague)
    make_redemption(offer, managers, partner.manager)
    auth.login(partner.agent)
    html = client.get("/partner/").get_data(as_text=True)
    shown = [format_card_number(card.number) for card in (mine, theirs, managers)]  # grouped, as on screen
    assert shown[0] in html and shown[1] not in html and shown[2] not in html


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN, Role.ARTISAN])
def test_other_roles_are_kept_out(client, auth, make_user, role):
    """People who are not partner staff get 403 on the portal."""
    auth.login(make_user(role))
    assert client.get("/partner/").status_code == 403
    assert client.get("/partner/redemptions.csv").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    """Without a session, the portal and its exports lead to the sign-in page."""
    for path in ("/partner/", "/partner/redemptions.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    ["/partner/offers/2147483648", "/partner/offers/99999999999999999999/edit", "/partner/staff/2147483648/disable"],
)
def test_ids_beyond_sql_integers_are_not_found(client, auth, partner, path):
    """A number too large to be an id answers 404 (it never reaches a query, where PostgreSQL would overflow)."""
    auth.login(partner.manager)
    response = client.post(path) if path.endswith("disable") else client.get(path)
    assert response.status_code == 404
