"""The change-password screen: forced after a temporary password (every other page leads there until
it is done), open to anyone signed in otherwise; the rules of a new password, in the reader's language."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import AuditEvent, Role

NEW_PASSWORD = "Tapis de Taznakht 1990"


@pytest.fixture
def newcomer(make_user, session):
    """An officer whose password was given by an administrator (a temporary one)."""
    officer = make_user(Role.OFFICER, email="hind@chambre.test", display_name="Hind Alami")
    officer.must_change_password = True
    session.commit()
    return officer


def test_a_temporary_password_leads_to_the_change_screen_first(auth, newcomer):
    """Sign-in sends the person to the change screen, keeping where they were going."""
    response = auth.login(newcomer, next_url="/admin/")
    assert response.status_code == 302 and response.headers["Location"] == "/account/password?next=/admin/"


@pytest.mark.parametrize("path", ["/account", "/admin/", "/admin/staff", "/partner/", "/partner/offers"])
def test_every_page_leads_to_the_change_screen_until_it_is_done(client, auth, newcomer, path):
    """Any signed-in page redirects there (with `next`), whatever the person's role would allow."""
    auth.login(newcomer)
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/account/password?next=")


def test_programs_get_a_json_refusal(client, auth, newcomer):
    """A JSON path answers 403 with its reason code instead of a redirect."""
    auth.login(newcomer)
    response = client.post("/api/v1/redemptions", json={})
    assert response.status_code == 403 and response.get_json()["error"] == "password_change_required"


def test_public_pages_and_signing_out_stay_open(client, auth, newcomer):
    """The home page answers, and the person can sign out without changing anything."""
    auth.login(newcomer)
    assert client.get("/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account").headers["Location"].startswith("/login")


def test_choosing_a_password_ends_the_forced_change(client, auth, session, newcomer):
    """A good new password: back to where the person was going, the flag down, audited, the new password works."""
    auth.login(newcomer, next_url="/account")
    response = auth.change_password(TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    session.refresh(newcomer)
    assert not newcomer.must_change_password and newcomer.check_password(NEW_PASSWORD)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.password_change")).one()
    assert event.account_id == newcomer.id and NEW_PASSWORD not in repr(event.after)
    auth.logout()
    assert auth.login(newcomer, NEW_PASSWORD).headers["Location"] == "/office/"  # an officer: the back office


def test_a_changed_password_ends_the_other_sessions(app, client, auth, newcomer):
    """A session opened before the change (another phone) is signed out; this one stays."""
    other_phone = AuthActions(app.test_client())
    other_phone.login(newcomer)
    auth.login(newcomer)
    auth.change_password(TEST_PASSWORD, NEW_PASSWORD)
    assert client.get("/account").status_code == 200
    assert other_phone.client.get("/account").headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field", "message"),
    [
        ("wrong", NEW_PASSWORD, NEW_PASSWORD, "current_password", "n'est pas votre mot de passe actuel"),
        (TEST_PASSWORD, TEST_PASSWORD, TEST_PASSWORD, "new_password", "différent de l'actuel"),
        (TEST_PASSWORD, "court", "court", "new_password", "au moins 12 caractères"),
        (TEST_PASSWORD, "hind@chambre.test", "hind@chambre.test", "new_password", "votre nom"),
        (TEST_PASSWORD, "Hind Alami 2026!", "Hind Alami 2026!", "new_password", "votre nom"),
        (TEST_PASSWORD, "qwertyuiop123", "qwertyuiop123", "new_password", "des plus courants"),
        (TEST_PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "confirm_password", "ne sont pas identiques"),
        (TEST_PASSWORD, "", "", "new_password", ""),
    ],
    ids=["wrong-current", "unchanged", "too-short", "the-email", "the-name", "common", "mismatch", "empty"],
)
def test_a_refused_password_is_explained_under_its_field(
    client, auth, session, newcomer, current, new, confirm, field, message
):
    """422, the reason in French under the field concerned; the old password and the forced change stay."""
    auth.login(newcomer)
    response = auth.change_password(current, new, confirm)
    page = html.unescape(response.get_data(as_text=True)).replace("\u2068", "").replace("\u2069", "")
    assert response.status_code == 422
    errors = page[page.index(f'id="{field}-errors"') :]
    assert message in errors[: errors.index("</ul>")]
    session.refresh(newcomer)
    assert newcomer.must_change_password and newcomer.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(("language", "words"), [("ar", "كلمة المرور"), ("en", "Choose your own password")])
def test_the_change_screen_speaks_the_readers_language(client, auth, newcomer, language, words):
    """The forced-change notice and labels in Arabic (right to left) and English."""
    auth.login(newcomer)
    page = client.get(f"/account/password?lang={language}").get_data(as_text=True)
    assert words in page
    assert ('dir="rtl"' in page) == (language == "ar")


def test_anyone_signed_in_may_change_their_password(client, auth, make_user):
    """Without a forced change the screen is reached from the account page, and works the same."""
    officer = make_user(Role.OFFICER)
    auth.login(officer)
    assert 'href="/account/password"' in client.get("/account").get_data(as_text=True)
    assert auth.change_password(TEST_PASSWORD, NEW_PASSWORD).status_code == 302
