"""API keys in the portal: created with scopes and an optional expiry, shown once; revoked after a
confirmation; only the organisation's own keys; every change audited."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from
from tests.partner.conftest import field_errors
from webapp.clock import MOROCCO
from webapp.models import ApiKey

SECRET = re.compile(r'<p class="secret">([^<]+)</p>')


def create(client, data: dict[str, object]):
    token = csrf_token_from(client.get("/partner/api-keys/new").get_data(as_text=True))
    return client.post("/partner/api-keys/new", data={**data, "csrf_token": token})


def test_a_new_key_is_shown_once_and_works(client, auth, partner, session, audit_actions):
    """The answer shows the whole key once; it authenticates with its scopes; the list shows only its prefix."""
    auth.login(partner.manager)
    response = create(client, {"label": "Loans back office", "scopes": ["eligibility", "verify"]})
    plaintext = SECRET.search(response.get_data(as_text=True)).group(1)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    stored = session.scalars(select(ApiKey)).one()
    assert stored.organisation_id == partner.organisation.id and stored.scopes == "eligibility verify"
    listing = client.get("/partner/api-keys").get_data(as_text=True)
    secret = plaintext.removeprefix(f"ca_{stored.prefix}_")  # 43 characters, "_" among them
    assert stored.prefix in listing and secret not in listing
    auth.logout()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert me.status_code == 200
    assert audit_actions()[-1] == "api_key.create"


def test_an_expiry_date_lasts_the_whole_day(client, auth, partner, session):
    """A key expiring on a day works until midnight at the end of that day in Morocco."""
    auth.login(partner.manager)
    day = date.today() + timedelta(days=30)
    create(client, {"label": "Logistics", "scopes": ["redeem"], "expires_on": day.isoformat()})
    expires_at = session.scalars(select(ApiKey)).one().expires_at
    assert expires_at == datetime.combine(day + timedelta(days=1), datetime.min.time(), MOROCCO)


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"label": "", "scopes": ["verify"]}, "label", ""),
        ({"label": "   ", "scopes": ["verify"]}, "label", ""),
        ({"label": "x" * 121, "scopes": ["verify"]}, "label", ""),
        ({"label": "Bank"}, "scopes", "Choisissez-en au moins un."),
        ({"label": "Bank", "scopes": ["admin"]}, "scopes", ""),
        ({"label": "Bank", "scopes": ["verify"], "expires_on": "soon"}, "expires_on", ""),
        (
            {"label": "Bank", "scopes": ["verify"], "expires_on": (date.today() - timedelta(days=2)).isoformat()},
            "expires_on",
            "L'expiration",
        ),
    ],
)
def test_a_bad_key_is_refused_on_its_field(client, auth, partner, session, audit_actions, data, field, message):
    """Each bad input gets 422 with the problem under its field, and no key is made."""
    auth.login(partner.manager)
    response = create(client, data)
    errors = field_errors(response.get_data(as_text=True), field)
    assert response.status_code == 422 and errors and message in " ".join(errors)
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 0 and audit_actions() == []


def test_revoking_asks_for_confirmation_then_revokes(client, auth, partner, make_api_key, session, audit_actions):
    """The confirmation page changes nothing; its POST form revokes the key, audited."""
    new_key = make_api_key(partner.organisation)
    auth.login(partner.manager)
    page = client.get(f"/partner/api-keys/{new_key.api_key.prefix}/revoke")
    session.expire_all()
    assert page.status_code == 200 and session.get(ApiKey, new_key.api_key.id).revoked_at is None
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(f"/partner/api-keys/{new_key.api_key.prefix}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(ApiKey, new_key.api_key.id).revoked_at is not None
    assert audit_actions()[-1] == "api_key.revoke"
    assert "déjà révoquée" in client.get(f"/partner/api-keys/{new_key.api_key.prefix}/revoke").get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_partners_key_is_not_found(client, auth, make_partner, make_api_key, session, method):
    """A manager of partner A gets 404 for partner B's key, which stays active."""
    a, b = make_partner(), make_partner()
    new_key = make_api_key(b.organisation)
    auth.login(a.manager)
    token = csrf_token_from(client.get("/partner/api-keys/new").get_data(as_text=True))
    path = f"/partner/api-keys/{new_key.api_key.prefix}/revoke"
    response = client.get(path) if method == "get" else client.post(path, data={"csrf_token": token})
    assert response.status_code == 404
    assert new_key.api_key.prefix not in client.get("/partner/api-keys").get_data(as_text=True)
    session.expire_all()
    assert session.get(ApiKey, new_key.api_key.id).revoked_at is None


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ["vérifier des cartes", "enregistrer des utilisations", "demander l'éligibilité d'une carte"]),
        ("ar", ["التحقق من البطاقات", "تسجيل الاستفادات", "الاستعلام عن أهلية بطاقة"]),
    ],
)
def test_a_keys_scopes_are_named_in_the_readers_language(client, auth, partner, make_api_key, language, words):
    """The keys' list says what each key may do in words, not its codes (eligibility redeem verify)."""
    make_api_key(partner.organisation)
    auth.login(partner.manager)
    page = client.get(f"/partner/api-keys?lang={language}").get_data(as_text=True).replace("&#39;", "'")
    assert all(word in page for word in words)
    assert "eligibility redeem verify" not in page
