"""Where each role lands after signing in, and the one navigation of the spaces a person may use."""

import re

import pytest

from webapp.models import Role

# The spaces each role may use, as the blueprints' access rules allow (webapp/access.py).
SPACES = {
    Role.ADMIN: {"scan", "backoffice", "admin", "account"},
    Role.OFFICER: {"scan", "backoffice", "account"},
    Role.PARTNER_MANAGER: {"scan", "partner", "account"},
    Role.PARTNER_AGENT: {"scan", "partner", "account"},
    Role.ARTISAN: {"card", "scan", "account"},
}
ENTRY = {
    "card": "/card/",
    "scan": "/scan/",
    "partner": "/partner/",
    "backoffice": "/office/",
    "admin": "/admin/",
    "account": "/account",
}


def nav_spaces(page: str) -> dict[str, str]:
    """The header navigation's spaces: key -> link."""
    match = re.search(r'<nav class="spaces".*?</nav>', page, re.S)
    if match is None:
        return {}
    return dict((key, href) for href, key in re.findall(r'href="([^"]+)" data-space="(\w+)"', match[0]))


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.ADMIN, "/admin/"),
        (Role.OFFICER, "/office/"),
        (Role.PARTNER_MANAGER, "/partner/"),
        (Role.PARTNER_AGENT, "/partner/"),
        (Role.ARTISAN, "/card/"),
    ],
)
def test_each_role_lands_in_its_workspace(auth, make_user, role, landing):
    """Without a `next`, signing in leads to the role's workspace, not to the account page."""
    response = auth.login(make_user(role))
    assert response.status_code == 302 and response.headers["Location"] == landing


@pytest.mark.parametrize("role", list(Role))
def test_a_safe_next_comes_before_the_workspace(auth, make_user, role):
    """A same-site `next` (where the person was going) wins over the role's workspace."""
    response = auth.login(make_user(role), next_url="/account%3Flang%3Dar")
    assert response.headers["Location"] == "/account?lang=ar"


@pytest.mark.parametrize("next_url", ["https://evil.example/admin/", "//evil.example/", "javascript:alert(1)"])
@pytest.mark.parametrize(("role", "landing"), [(Role.ADMIN, "/admin/"), (Role.PARTNER_AGENT, "/partner/")])
def test_an_unsafe_next_is_ignored(auth, make_user, role, landing, next_url):
    """Another host, a protocol-relative URL or a scheme: the person lands in their workspace instead."""
    from urllib.parse import quote

    response = auth.login(make_user(role), next_url=quote(next_url, safe=""))
    assert response.headers["Location"] == landing


@pytest.mark.parametrize("path", ["/", "/account", "/check", "/v"])
@pytest.mark.parametrize("role", list(Role))
def test_the_navigation_shows_exactly_the_allowed_spaces(client, auth, make_user, role, path):
    """Every page's header lists every space the role may use, and only those, with their entry page."""
    auth.login(make_user(role))
    spaces = nav_spaces(client.get(path).get_data(as_text=True))
    assert set(spaces) == SPACES[role]
    assert spaces == {key: ENTRY[key] for key in SPACES[role]}


@pytest.mark.parametrize("role", list(Role))
def test_every_space_offered_opens(client, auth, make_user, role):
    """No space in the navigation answers 403: the list comes from the same rules the blueprints enforce."""
    auth.login(make_user(role))
    for href in nav_spaces(client.get("/account").get_data(as_text=True)).values():
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize("path", ["/scan/", "/scan/offline", "/card/", "/card/offline"])
def test_pages_kept_offline_carry_no_ones_navigation(client, auth, make_user, path):
    """The apps' pages a service worker keeps are the same for everyone: no spaces in their header."""
    auth.login(make_user(Role.ADMIN))
    assert nav_spaces(client.get(path).get_data(as_text=True)) == {}


def test_staff_pages_carry_the_navigation(client, auth, make_user):
    """An administrator on a back-office page sees administration and the scanner too, not the register only."""
    auth.login(make_user(Role.ADMIN))
    page = client.get("/office/").get_data(as_text=True)
    assert set(nav_spaces(page)) == SPACES[Role.ADMIN]
    assert re.search(r'data-space="backoffice" aria-current="true"', page)


def test_the_anonymous_home_offers_sign_in_and_no_spaces(client):
    """Signed out: the home page offers to sign in; the header has no spaces."""
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert 'href="/login"' in page and nav_spaces(page) == {}


@pytest.mark.parametrize("role", list(Role))
def test_the_signed_in_home_offers_spaces_not_sign_in(client, auth, make_user, role):
    """Signed in: the home page lists the person's spaces and never offers to sign in."""
    auth.login(make_user(role))
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert 'href="/login"' not in page
    listed = set(re.findall(r'data-space="(\w+)"', page.split('<main id="main">', 1)[1]))
    assert listed == SPACES[role]
