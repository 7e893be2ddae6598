"""Staff in the portal: a manager adds people (temporary password shown once), disables and enables
them (never the last manager), only within their own organisation; every change is audited."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from
from tests.partner.conftest import field_errors
from webapp.models import Role, User

SECRET = re.compile(r'<p class="secret">([^<]+)</p>')


def add(client, **data: str):
    token = csrf_token_from(client.get("/partner/staff/new").get_data(as_text=True))
    form = {"email": "amal@example.ma", "display_name": "Amal Tazi", "role": "partner_agent"} | data
    return client.post("/partner/staff/new", data={**form, "csrf_token": token})


def test_a_new_account_shows_its_password_once(client, auth, partner, session, audit_actions):
    """The answer shows the temporary password once; it signs the person in; the list never shows it."""
    auth.login(partner.manager)
    response = add(client)
    html = response.get_data(as_text=True)
    password = SECRET.search(html).group(1)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "Remettez vous-même ce mot de passe" in html
    assert password not in client.get("/partner/staff").get_data(as_text=True)
    person = session.scalars(select(User).where(User.email == "amal@example.ma")).one()
    assert person.organisation_id == partner.organisation.id and person.role == Role.PARTNER_AGENT
    assert person.check_password(password) and password not in (person.password_hash or "")
    assert audit_actions()[-1] == "staff.create"


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"email": ""}, "email", ""),
        ({"email": "not-an-email"}, "email", "ce n'est pas une adresse e-mail"),
        ({"display_name": ""}, "display_name", ""),
        ({"display_name": "A"}, "display_name", "de 2 à 120 caractères"),
        ({"display_name": "x" * 121}, "display_name", ""),
        ({"role": "admin"}, "role", ""),
        ({"role": "artisan"}, "role", ""),
    ],
)
def test_a_bad_staff_member_is_refused_on_its_field(
    client, auth, partner, session, audit_actions, data, field, message
):
    """Each bad input gets 422 with the problem under its field, and no account is made."""
    auth.login(partner.manager)
    before = session.scalar(select(func.count()).select_from(User))
    response = add(client, **data)
    errors = field_errors(response.get_data(as_text=True), field)
    assert response.status_code == 422 and errors and message in " ".join(errors)
    assert session.scalar(select(func.count()).select_from(User)) == before and "staff.create" not in audit_actions()


def test_a_taken_email_is_refused(client, auth, partner):
    """An address already in use (in any organisation) is refused on the email field."""
    auth.login(partner.manager)
    response = add(client, email=partner.agent.email.upper())
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "email")
    assert errors == ["Un compte existe déjà avec cette adresse e-mail."]


def change(client, user_id: int, action: str):
    token = csrf_token_from(client.get("/partner/staff").get_data(as_text=True))
    return client.post(f"/partner/staff/{user_id}/{action}", data={"csrf_token": token}, follow_redirects=True)


def test_a_manager_disables_and_enables_an_agent(client, auth, partner, session, audit_actions):
    """Disabling and enabling are shown as flashes, take effect, and are audited."""
    auth.login(partner.manager)
    assert "ne peut plus se connecter" in change(client, partner.agent.id, "disable").get_data(as_text=True)
    session.expire_all()
    assert session.get(User, partner.agent.id).is_enabled is False
    assert "peut de nouveau se connecter" in change(client, partner.agent.id, "enable").get_data(as_text=True)
    session.expire_all()
    assert session.get(User, partner.agent.id).is_enabled is True
    assert audit_actions()[-2:] == ["staff.disable", "staff.enable"]


def test_the_last_manager_stays(client, auth, partner, session, audit_actions):
    """Disabling the organisation's last active manager is refused with a flash; nothing changes."""
    auth.login(partner.manager)
    response = change(client, partner.manager.id, "disable")
    assert response.status_code == 200 and "dernier responsable actif" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, partner.manager.id).is_enabled is True and "staff.disable" not in audit_actions()


@pytest.mark.parametrize("action", ["disable", "enable"])
def test_another_partners_staff_member_is_not_found(client, auth, make_partner, session, action):
    """A manager of partner A gets 404 for partner B's people, who stay as they were."""
    a, b = make_partner(), make_partner()
    auth.login(a.manager)
    assert change(client, b.agent.id, action).status_code == 404
    session.expire_all()
    assert session.get(User, b.agent.id).is_enabled is True


def test_the_list_shows_only_the_organisations_people(client, auth, make_partner):
    """Partner B's people never appear in partner A's staff list."""
    a, b = make_partner(), make_partner()
    auth.login(a.manager)
    html = client.get("/partner/staff").get_data(as_text=True)
    assert a.agent.email in html and b.agent.email not in html and b.manager.email not in html
