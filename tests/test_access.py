"""Access: deny by default, roles per blueprint and per view, scopes per role, and a second way in
for partner systems (API keys) alongside password sessions."""

import pytest
from flask import Blueprint
from flask_login import current_user

from webapp.access import PARTNER_SYSTEM, current_scope, public, restrict_blueprint, roles_required
from webapp.db import get_session
from webapp.models import Role
from webapp.services.register.artisans import get_artisan
from webapp.services.scope import NATIONAL, NOTHING, Scope


@pytest.fixture
def guarded_app(make_app):
    """The app with a back-office-like blueprint for officers and admins, one admin-only view,
    one public view and one view that reports the scope."""
    guarded = make_app()
    area = Blueprint("area", __name__, url_prefix="/area")
    restrict_blueprint(area, Role.OFFICER, Role.ADMIN)

    @area.get("/")
    def index():
        return f"hello {current_user.role}"

    @area.get("/admin-only")
    @roles_required(Role.ADMIN)
    def admin_only():
        return "admin"

    @area.get("/open")
    @public
    def open_view():
        return "open"

    @area.get("/scope")
    def scope():
        return repr(current_scope())

    @area.get("/artisans/<int:artisan_id>")
    def artisan(artisan_id):
        return get_artisan(get_session(), artisan_id, current_scope()).rna_number

    guarded.register_blueprint(area)
    return guarded


@pytest.fixture
def guarded_client(guarded_app):
    return guarded_app.test_client()


def sign_in(client, user):
    from tests.fixtures.auth import AuthActions

    response = AuthActions(client).login(user)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_anonymous_people_are_sent_to_sign_in_and_public_views_stay_open(guarded_client):
    """Deny by default: a non-public view redirects to the login page; a @public one answers."""
    response = guarded_client.get("/area/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=/area/")
    assert guarded_client.get("/area/open").get_data(as_text=True) == "open"


@pytest.mark.parametrize(
    ("role", "index_status", "admin_status"),
    [
        (Role.ADMIN, 200, 200),
        (Role.OFFICER, 200, 403),
        (Role.PARTNER_MANAGER, 403, 403),
        (Role.PARTNER_AGENT, 403, 403),
        (Role.ARTISAN, 403, 403),
    ],
)
def test_roles_on_blueprints_and_views(guarded_client, make_user, role, index_status, admin_status):
    """A blueprint lets in only its roles; a view can narrow that further; others get 403."""
    sign_in(guarded_client, make_user(role))
    assert guarded_client.get("/area/").status_code == index_status
    assert guarded_client.get("/area/admin-only").status_code == admin_status
    assert guarded_client.get("/area/open").status_code == 200


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, NATIONAL),
        (Role.OFFICER, Scope(region_code="07")),
        (Role.ARTISAN, NOTHING),
    ],
)
def test_each_role_has_its_scope(guarded_app, make_user, role, expected):
    """Admins see the nation, officers their region, artisans none of the register."""
    user = make_user(role, region="07")
    with guarded_app.test_request_context("/area/scope"):
        from flask_login import login_user

        login_user(user)
        assert current_scope() == expected


def test_partner_staff_are_scoped_to_their_organisation(guarded_app, make_user):
    """Partner staff see only their own organisation's records."""
    user = make_user(Role.PARTNER_AGENT)
    with guarded_app.test_request_context("/"):
        from flask_login import login_user

        login_user(user)
        assert current_scope() == Scope(organisation_id=user.organisation_id)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_another_regions_record_answers_404(guarded_client, session, make_user, make_artisan, language):
    """An officer opens their region's artisan; another region's answers 404, like a missing one."""
    own, other = make_artisan(region_code="03"), make_artisan(region_code="07")
    session.commit()
    sign_in(guarded_client, make_user(Role.OFFICER, region="03"))
    assert guarded_client.get(f"/area/artisans/{own.id}").get_data(as_text=True) == own.rna_number
    refused = guarded_client.get(f"/area/artisans/{other.id}?lang={language}")
    missing = guarded_client.get(f"/area/artisans/999999?lang={language}")
    assert refused.status_code == missing.status_code == 404
    # The same page but for the address asked (the language links keep it): nothing tells them apart.
    refused_page = refused.get_data(as_text=True).replace(f"/artisans/{other.id}", "/artisans/ID")
    assert refused_page == missing.get_data(as_text=True).replace("/artisans/999999", "/artisans/ID")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_partner_system_calls_with_its_api_key(client, make_api_key):
    """`Authorization: Bearer <key>` signs a partner's system in as its organisation, with no cookie."""
    new_key = make_api_key(label="logistics platform")
    response = client.get("/api/v1/me", headers=bearer(new_key.plaintext))
    assert response.status_code == 200
    assert response.get_json()["organisation"]["name"] == new_key.api_key.organisation.name
    assert response.get_json()["api_key"] == {
        "prefix": new_key.api_key.prefix,
        "scopes": ["eligibility", "redeem", "verify"],
    }
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "presented",
    ["", "ca_", "ca_abcdefghij_short", "Zm9vOmJhcg==", "ca_ABCDEFGHIJ_" + "a" * 43, "ca_abcdefghij_" + "a" * 43],
    ids=["empty", "scheme-only", "short-secret", "basic-credentials", "bad-prefix", "unknown-key"],
)
def test_a_bad_api_key_is_refused_with_401(client, make_api_key, presented):
    """A malformed or unknown key answers 401 with a reason code, never anonymous access or a 500."""
    make_api_key()
    response = client.get("/api/v1/me", headers=bearer(presented))
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_api_key"


def test_a_wrong_secret_or_revoked_key_is_refused(client, session, make_api_key):
    """The right prefix with another secret fails; a revoked key fails."""
    from tests.conftest import TEST_ACTOR
    from webapp.services.partners.api_keys import revoke_api_key
    from webapp.services.scope import NATIONAL

    new_key = make_api_key()
    forged = new_key.plaintext[:-1] + ("A" if new_key.plaintext[-1] != "A" else "B")
    assert client.get("/api/v1/me", headers=bearer(forged)).status_code == 401
    revoke_api_key(session, new_key.api_key.prefix, TEST_ACTOR, NATIONAL)
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(new_key.plaintext)).status_code == 401


def test_the_partner_system_endpoint_is_for_systems_only(client, auth, make_user):
    """Without a key the API answers 401; partner staff signed in with a password get 403 there."""
    assert client.get("/api/v1/me").get_json()["error"] == "login_required"
    auth.login(make_user(Role.PARTNER_MANAGER))
    assert client.get("/api/v1/me").status_code == 403
    assert PARTNER_SYSTEM not in set(Role)
