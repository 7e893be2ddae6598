"""Sign-in: CSRF-protected, rate limited, no open redirect; deny by default elsewhere."""

import pytest

from tests.conftest import TEST_PASSWORD as PASSWORD
from tests.conftest import csrf_token_from
from tests.fixtures.auth import AuthActions
from webapp.models import Role


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, region="03", email="officer@chambre.test", display_name="Agent Fès")


def login(client, email, password, next_url=None):
    return AuthActions(client).login(email, password, next_url=next_url)


def test_login_then_account_then_logout(client, officer):
    """A user signs in, sees their account in their language, and signs out with a CSRF-protected POST."""
    response = login(client, "Officer@Chambre.test", PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    page = client.get("/account?lang=ar").get_data(as_text=True)
    assert "Agent Fès" in page and 'dir="rtl"' in page and "فاس مكناس" in page
    token = csrf_token_from(page)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [("officer@chambre.test", "wrong"), ("nobody@chambre.test", PASSWORD), ("officer@chambre.test", "")],
    ids=["wrong-password", "unknown-user", "empty-password"],
)
def test_bad_credentials_get_a_form_error(client, officer, email, password):
    """Wrong credentials re-show the form with an error, in French by default, and sign nobody in."""
    response = login(client, email, password)
    assert response.status_code in (400, 401)
    assert 'class="errors"' in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_login_error_is_translated(client, officer):
    """The wrong-password message follows the chosen language."""
    client.get("/?lang=en")
    assert "Incorrect email or password." in login(client, "officer@chambre.test", "nope").get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, officer):
    """A POST without the form's CSRF token is a 400 and signs nobody in."""
    response = client.post("/login", data={"email": "officer@chambre.test", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


def test_logout_without_csrf_token_keeps_the_session(client, officer):
    """Another site cannot sign a user out: logout needs the CSRF token."""
    login(client, "officer@chambre.test", PASSWORD)
    assert client.post("/logout").status_code == 400
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/account?x=1", "/account?x=1"),
        ("https://evil.example/", "/office/"),
        ("//evil.example/", "/office/"),
        ("/\\evil.example", "/office/"),
        ("javascript:alert(1)", "/office/"),
        ("http:/office/", "/office/"),
        ("evil.example/office/", "/office/"),
    ],
)
def test_next_redirect_stays_on_site(client, officer, next_url, expected):
    """After login, `next` is followed only to a path of this site; otherwise the officer's back office."""
    from urllib.parse import quote

    response = login(client, "officer@chambre.test", PASSWORD, next_url=quote(next_url, safe=""))
    assert response.headers["Location"] == expected


def test_disabled_user_cannot_sign_in(client, session, officer):
    """A disabled account is refused like a wrong password."""
    officer.is_enabled = False
    session.commit()
    assert login(client, "officer@chambre.test", PASSWORD).status_code == 401


def test_private_pages_redirect_to_login(client):
    """Deny by default: a page not marked public sends anonymous visitors to the login page."""
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


class TestLoginRateLimit:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_login_attempts_are_rate_limited(self, client, officer):
        """Past the limit, login POSTs get 429 (even with the right password)."""
        codes = [login(client, "officer@chambre.test", "wrong").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        assert login(client, "officer@chambre.test", PASSWORD).status_code == 429


def test_an_artisan_signs_in_with_a_card_number_and_lands_on_the_card_app(client, make_user, make_card):
    """The login form takes an artisan's card number (they have no address) and opens the card app."""
    card = make_card()
    make_user(Role.ARTISAN, artisan=card.artisan)
    response = login(client, card.number.lower(), PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/card/"
    page = client.get("/login?lang=ar").get_data(as_text=True)
    assert 'type="text"' in page and "/card/activate" in page
