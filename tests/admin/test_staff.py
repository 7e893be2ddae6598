"""Staff accounts in the administration: officers (with their region) and administrators listed,
created with a temporary password shown once, disabled, enabled again and reset; refusals on the page
they came from; every change in the audit trail."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from tests.admin.conftest import audit_count
from tests.fixtures.auth import AuthActions
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import AuditEvent, Role, User

SECRET = re.compile(r'<p class="secret">([^<]+)</p>')
NEW_OFFICER = {
    "display_name": "Hind Alami",
    "email": "Hind.Alami@Chambre-Marrakech.ma",
    "role": "officer",
    "region": "07",
}


def create(forms, language: str = "fr", **changes: str):
    return forms.post("/admin/staff/new", "/admin/staff/new", NEW_OFFICER | changes, language)


@pytest.mark.parametrize(
    ("language", "direction", "region", "role"),
    [("fr", "ltr", "Marrakech-Safi", "Agent du registre"), ("ar", "rtl", "مراكش آسفي", "موظف السجل")],
)
def test_the_list_shows_officers_and_administrators_not_partner_staff(
    admin_client, make_user, language, direction, region, role
):
    """Name, role and region in the reader's language; partner staff and artisans are not there."""
    make_user(Role.OFFICER, region="07", display_name="Youssef Marrakech")
    make_user(Role.PARTNER_AGENT, display_name="Agent Partenaire")
    page = admin_client.get(f"/admin/staff?lang={language}").get_data(as_text=True)
    assert f'dir="{direction}"' in page
    assert "Youssef Marrakech" in page and "Nadia Admin" in page and region in page and role in page
    assert "Agent Partenaire" not in page


def test_a_new_officer_gets_a_temporary_password_shown_once(client, forms, session, auth):
    """The answer shows the password once (not cached); the officer signs in with it and must change it."""
    response = create(forms)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = SECRET.search(page).group(1)
    officer = session.scalars(select(User).where(User.email == "hind.alami@chambre-marrakech.ma")).one()
    assert (officer.role, officer.region_code, officer.must_change_password) == (Role.OFFICER, "07", True)
    assert password not in client.get(f"/admin/staff/{officer.id}").get_data(as_text=True)
    assert audit_count(session, "account.create") == 1
    newcomer = AuthActions(client.application.test_client())
    assert newcomer.login(officer.email, password).headers["Location"].startswith("/account/password")


def test_a_new_administrator_is_national(forms, session):
    """An administrator is created without the region that the form happened to hold."""
    assert create(forms, role="admin", email="omar@artisanat.gov.ma").status_code == 200
    created = session.scalars(select(User).where(User.email == "omar@artisanat.gov.ma")).one()
    assert created.role == Role.ADMIN and created.region_code is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "ce n'est pas une adresse e-mail"),
        ({"email": "nadia.admin@test.carte-artisan.ma"}, "email", "existe déjà"),
        ({"display_name": "H"}, "display_name", "de 2 à 120 caractères"),
        ({"region": ""}, "region", "choisissez-la"),
        ({"region": "99"}, "region", "choisissez-la"),
        ({"role": "partner_manager"}, "role", ""),
        ({"display_name": ""}, "display_name", ""),
    ],
    ids=["bad-email", "taken-email", "short-name", "officer-without-region", "unknown-region", "bad-role", "no-name"],
)
def test_a_bad_account_is_refused_on_its_field_and_nothing_is_written(forms, session, admin, changes, field, message):
    """422 with the reason under its field, in French; no account, no audit event."""
    if "existe" in message:
        admin.email = "nadia.admin@test.carte-artisan.ma"
        session.commit()
    before = session.scalars(select(User.id)).all()
    response = create(forms, **changes)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    errors = page[page.index(f'id="{field}-errors"') :]
    assert message in errors[: errors.index("</ul>")]
    assert session.scalars(select(User.id)).all() == before and audit_count(session) == 0


def test_disabling_an_officer_ends_their_session_and_enabling_lets_them_back(app, forms, session, make_user):
    """Disabled: the officer's open session is gone and their password no longer works; enabled again: it does."""
    officer = make_user(Role.OFFICER)
    phone = AuthActions(app.test_client())
    assert phone.login(officer).status_code == 302
    response = forms.post(f"/admin/staff/{officer.id}", f"/admin/staff/{officer.id}/disable", {})
    assert response.status_code == 302
    assert phone.client.get("/account").headers["Location"].startswith("/login")
    assert phone.login(officer).status_code == 401
    forms.post(f"/admin/staff/{officer.id}", f"/admin/staff/{officer.id}/enable", {})
    assert phone.login(officer).status_code == 302
    assert [audit_count(session, action) for action in ("account.disable", "account.enable")] == [1, 1]


def test_an_administrator_cannot_disable_themselves(forms, session, admin, make_user):
    """Refused on the account's page (422), in the reader's language; still enabled, nothing audited (the
    page offers no such button: the request is forged)."""
    make_user(Role.ADMIN)
    response = forms.post("/admin/staff/new", f"/admin/staff/{admin.id}/disable", {}, language="en")
    assert response.status_code == 422 and "You cannot disable your own account" in response.get_data(as_text=True)
    session.refresh(admin)
    assert admin.is_enabled and audit_count(session, "account.disable") == 0


def test_a_reset_shows_a_new_password_once_and_opens_the_account(app, forms, session, make_user):
    """The old password and sessions stop working, a lock is lifted; the new password signs in to the change screen."""
    officer = make_user(Role.OFFICER)
    phone = AuthActions(app.test_client())
    phone.login(officer)
    for _ in range(5):
        AuthActions(app.test_client()).login(officer, "wrong")
    session.refresh(officer)
    assert officer.locked_until is not None
    response = forms.post(f"/admin/staff/{officer.id}", f"/admin/staff/{officer.id}/reset-password", {})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    password = SECRET.search(response.get_data(as_text=True)).group(1)
    assert phone.client.get("/account").headers["Location"].startswith("/login")
    assert phone.login(officer, TEST_PASSWORD).status_code == 401
    assert phone.login(officer, password).headers["Location"].startswith("/account/password")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "account.reset_password")).one()
    assert event.account_id == officer.id and password not in repr(event.after)


def test_an_administrator_does_not_reset_their_own_password_here(forms, admin):
    """Refused (422): their own password is changed from their account page."""
    response = forms.post("/admin/staff/new", f"/admin/staff/{admin.id}/reset-password", {}, language="en")
    assert response.status_code == 422 and "use your account page" in response.get_data(as_text=True)


def test_the_account_page_shows_its_sign_ins_and_changes(app, admin_client, forms, make_user):
    """Failures (with why), sign-ins and the administrator's changes, newest first, with who did them
    (a person's name, or the client address of a refused sign-in)."""
    officer = make_user(Role.OFFICER, display_name="Hind Alami")
    phone = AuthActions(app.test_client())
    phone.login(officer, "wrong")
    phone.login(officer)
    forms.post(f"/admin/staff/{officer.id}", f"/admin/staff/{officer.id}/disable", {})
    page = admin_client.get(f"/admin/staff/{officer.id}?lang=en").get_data(as_text=True)
    order = [page.index(words) for words in ("account disabled", "signed in", "sign-in refused (wrong password)")]
    assert order == sorted(order) and "Nadia Admin" in page and ">127.0.0.1<" in page


@pytest.mark.parametrize("account_role", [Role.PARTNER_AGENT, Role.ARTISAN])
def test_other_accounts_are_not_found_here(admin_client, make_user, account_role):
    """Partner staff and artisans are not staff accounts: 404, and no change."""
    other = make_user(account_role)
    assert admin_client.get(f"/admin/staff/{other.id}").status_code == 404
