"""The card app's Flask side: the activation page (a form error for every refusal, in the person's
language; guessing locked; nothing half-written; signed in after), the card API (face, holder-bound
token of this phone, server time; artisans only), and the PWA shell (manifest, worker, offline page)."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.fixtures.auth import AuthActions
from tests.fixtures.live import Phone
from tests.fixtures.support import csrf_token_from, missing_static_imports
from webapp.card.views import SHELL_STATIC_FILES
from webapp.models import ActivationCode, AuditEvent, CardDevice, Role, User, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.settings import PROJECT_ROOT, current_settings

BIRTH = "17/05/1980"  # the factory's birth date
PASSWORD = "tajine bleu de fes"


@pytest.fixture
def policy(app) -> ActivationPolicy:
    return ActivationPolicy.from_settings(current_settings(app))


@pytest.fixture
def card(make_card):
    return make_card()


@pytest.fixture
def issue(session, policy):
    def issue(card, **options) -> str:
        code = issue_activation_code(session, card, TEST_ACTOR, policy, **options)
        session.commit()
        return code

    return issue


def post_activation(client: FlaskClient, card, code: str, *, language: str = "fr", **fields) -> object:
    page = client.get(f"/card/activate?lang={language}")
    data = {
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "card_number": card.number,
        "code": code,
        "birth_date": BIRTH,
        "password": PASSWORD,
        "phone": "",
        "device_key": Phone.new().device_key,
    } | fields
    return client.post("/card/activate", data=data)


def test_the_activation_page_has_every_field_and_the_key_script(client):
    """The page asks card number, code, birth date, password, phone; its module fills device_key."""
    page = client.get("/card/activate")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("card_number", "code", "birth_date", "password", "phone", "device_key"):
        assert f'name="{name}"' in html
    assert 'type="hidden"' in html and "js/card/activate.js" in html
    assert 'inputmode="numeric"' in html  # the birth date: a digit keypad
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_activation_signs_in_uses_the_code_binds_the_phone_and_opens_the_app(client, session, card, issue):
    """Success: 303 to /card/, the person signed in as the artisan, the API gives the phone's token."""
    code = issue(card)
    phone = Phone.new()
    response = post_activation(client, card, code, device_key=phone.device_key, phone="٠٦١٢٣٤٥٦٧٨")
    assert response.status_code == 303 and response.headers["Location"] == "/card/"
    account = session.scalar(select(User).where(User.artisan_id == card.artisan_id))
    assert account.role == Role.ARTISAN and account.phone == "+212612345678"
    assert session.scalar(select(ActivationCode.used_at)) is not None
    answer = client.get("/card/api/card").get_json()
    assert answer["device"]["key"] == phone.device_key
    claims = jwt.decode(answer["token"], options={"verify_signature": False})
    assert claims["cnf"] == {"k": phone.device_key} and claims["n"] and isinstance(claims["ds"], int)
    assert abs(answer["server_time"] - time.time()) < 5
    assert answer["qr_prefix"].endswith("/v#")
    assert answer["card"]["number"] == card.number and answer["card"]["state"] == "active"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("fr", "Le code d’activation ou la date de naissance est erroné."),
        ("ar", None),
    ],
)
def test_a_wrong_code_is_a_form_error_in_the_persons_language(client, session, card, issue, language, message):
    """A wrong code: 401, the form again with the service's message translated, nothing bound."""
    issue(card)
    response = post_activation(client, card, "AAAA-BBBB-CCCC", language=language)
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'class="flash flash-error"' in html and 'name="card_number"' in html
    if message:
        assert message in html
    else:
        assert 'dir="rtl"' in html and re.search(r'flash-error" role="alert">[\u0600-\u06ff]', html)
    assert session.scalar(select(CardDevice.id)) is None
    assert (
        session.scalar(select(AuditEvent.reason).where(AuditEvent.action == "card.activation_failed")) == "wrong_code"
    )


def test_a_used_code_says_so_and_an_expired_one_too(client, session, card, issue):
    """Used and expired codes get their own messages through the page (the service tells them apart)."""
    code = issue(card)
    assert post_activation(client, card, code).status_code == 303
    again = post_activation(app_client := client.application.test_client(), card, code)
    assert again.status_code == 401 and "déjà été utilisé" in again.get_data(as_text=True)
    old = issue(card, now=utcnow() - timedelta(days=61))
    expired = post_activation(app_client, card, old)
    assert expired.status_code == 401 and "expiré" in expired.get_data(as_text=True)


def test_a_wrong_birth_date_is_refused_like_a_wrong_code(client, card, issue):
    """One answer for a wrong code or a wrong birth date (a guesser learns nothing)."""
    code = issue(card)
    response = post_activation(client, card, code, birth_date="18/05/1980")
    assert response.status_code == 401
    assert "Le code d’activation ou la date de naissance est erroné." in response.get_data(as_text=True)


def test_guessing_past_the_limit_locks_the_card_even_for_the_right_code(app, client, session, card, issue):
    """After ACTIVATION_LOCK_AFTER_FAILURES wrong codes: 429 with Retry-After, and the right code is
    refused too while the lock lasts; every failure is kept (audited) though the answers are errors."""
    code = issue(card)
    limit = current_settings(app).ACTIVATION_LOCK_AFTER_FAILURES
    statuses = [post_activation(client, card, "AAAA-BBBB-CCCC").status_code for _ in range(limit)]
    assert statuses == [401] * (limit - 1) + [429]
    right = post_activation(client, card, code)
    assert right.status_code == 429 and "Retry-After" in right.headers
    assert "activation est suspendue" in right.get_data(as_text=True)
    assert session.scalar(select(ActivationCode.used_at)) is None
    failures = session.scalars(select(AuditEvent.reason).where(AuditEvent.action == "card.activation_failed")).all()
    assert failures.count("wrong_code") == limit and "card_locked" in failures


@pytest.mark.parametrize(
    ("fields", "field", "status"),
    [
        ({"password": "court"}, "password", 422),
        ({"password": "password123"}, "password", 422),
        ({"phone": "0512345678"}, "phone", 422),
        ({"birth_date": "31/02/1980"}, "birth_date", 422),
        ({"device_key": ""}, "device_key", 400),
        ({"device_key": "x" * 87}, None, 422),
        ({"card_number": ""}, "card_number", 400),
    ],
)
def test_bad_input_is_a_form_error_and_nothing_is_written(client, session, card, issue, fields, field, status):
    """A refused password, phone, birth date or device key: a form error, the code unused, no account."""
    code = issue(card)
    response = post_activation(client, card, code, **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert 'class="errors"' in html or 'flash-error" role="alert"' in html
    if field and field != "device_key":
        assert f'id="{field}-errors"' in html
    assert session.scalar(select(ActivationCode.used_at)) is None
    assert session.scalar(select(User.id).where(User.artisan_id == card.artisan_id)) is None
    assert session.scalar(select(CardDevice.id)) is None
    assert post_activation(client, card, code).status_code == 303  # the same code still works


def test_reactivation_on_a_new_phone_moves_the_card(client, app, session, card, issue):
    """A new code on a second phone: the first phone's API answer names another key (the app then
    says the card is on another phone), the second phone's names its own."""
    first_phone, second_phone = Phone.new(), Phone.new()
    assert post_activation(client, card, issue(card), device_key=first_phone.device_key).status_code == 303
    other = app.test_client()
    new_password = "couscous du vendredi"
    response = post_activation(other, card, issue(card), device_key=second_phone.device_key, password=new_password)
    assert response.status_code == 303
    assert other.get("/card/api/card").get_json()["device"]["key"] == second_phone.device_key
    # The first phone's session ended with the password change (the session carries its mark).
    assert client.get("/card/api/card").status_code == 401
    account = session.scalar(select(User).where(User.artisan_id == card.artisan_id))
    session.refresh(account)
    assert account.check_password(new_password)


def test_the_card_api_is_for_artisans_and_says_what_a_suspended_card_must_do(client, session, card, make_user):
    """Anonymous 401 (JSON), an officer 403; a suspended card: no token, the state and what to do."""
    assert client.get("/card/api/card").status_code == 401
    officer = make_user(Role.OFFICER)
    staff = AuthActions(client)
    assert staff.login(officer).status_code == 302
    assert client.get("/card/api/card").status_code == 403
    artisan = make_user(Role.ARTISAN, artisan=card.artisan)
    card_service.suspend_card(session, card, "test", TEST_ACTOR)
    session.commit()
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/account").get_data(as_text=True))})
    assert AuthActions(client).login(artisan).status_code == 302
    response = client.get("/card/api/card?lang=fr")
    answer = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert answer["token"] is None and answer["device"] is None
    assert answer["card"]["state"] == "suspended" and "chambre" in answer["card"]["advice"]


def test_the_shell_is_public_and_the_worker_never_caches_the_card(client):
    """Page, offline page, manifest and worker open signed out; the worker precaches the shell and
    leaves /card/api/ and /card/activate to the network."""
    for path in ("/card/", "/card/offline", "/card/manifest.webmanifest", "/card/sw.js"):
        assert client.get(path).status_code == 200, path
    worker = client.get("/card/sw.js")
    body = worker.get_data(as_text=True)
    assert worker.headers["Cache-Control"] == "no-cache, max-age=0"
    precache = json.loads(re.search(r"^const PRECACHE = (\[.*\]);$", body, re.MULTILINE).group(1))
    assert set(precache) >= {"/card/", "/card/offline", *(f"/static/{name}" for name in SHELL_STATIC_FILES)}
    assert "/^\\/card\\/api\\//" in body and "/^\\/card\\/activate$/" in body
    manifest = client.get("/card/manifest.webmanifest?lang=ar").get_json()
    assert (manifest["scope"], manifest["start_url"], manifest["dir"]) == ("/card/", "/card/", "rtl")


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_app_page_is_in_each_language(client, language):
    """The app's texts in the page's language (Arabic right to left)."""
    html = client.get(f"/card/?lang={language}").get_data(as_text=True)
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    assert {"fr": "Ma carte", "ar": "بطاقتي", "en": "My card"}[language] in html


def test_a_signed_out_phone_learns_its_card_moved_to_another_phone(app, client, card, issue):
    """/card/api/binding?key= says true for the current phone, false once the card moved, null for
    a key never bound or not a key at all; no session needed."""
    first, second = Phone.new(), Phone.new()
    assert post_activation(client, card, issue(card), device_key=first.device_key).status_code == 303
    anonymous = app.test_client()
    assert anonymous.get(f"/card/api/binding?key={first.device_key}").get_json() == {"current": True}
    assert post_activation(app.test_client(), card, issue(card), device_key=second.device_key).status_code == 303
    assert anonymous.get(f"/card/api/binding?key={first.device_key}").get_json() == {"current": False}
    assert anonymous.get(f"/card/api/binding?key={second.device_key}").get_json() == {"current": True}
    for key in (Phone.new().device_key, "short", "x" * 87, ""):
        response = anonymous.get("/card/api/binding", query_string={"key": key})
        assert response.status_code == 200 and response.get_json() == {"current": None}


def test_a_phone_number_given_gets_a_confirmation_text_through_the_gateway(client, card, issue, caplog):
    """With a phone number, the console gateway logs the confirmation text in the page's language."""
    with caplog.at_level("INFO", logger="carte.sms"):
        response = post_activation(client, card, issue(card), phone="07 12 34 56 78")
    assert response.status_code == 303
    assert "SMS to +212712345678: Carte Artisan : votre carte est maintenant sur votre téléphone" in caplog.text


def test_activation_signs_in_with_a_lasting_cookie_that_follows_the_session_cookies_rules(app, client, card, issue):
    """The remember-me cookie (the phone keeps its session) is HttpOnly, SameSite and Secure as the session's."""
    response = post_activation(client, card, issue(card))
    cookie = next(header for header in response.headers.getlist("Set-Cookie") if header.startswith("remember_token="))
    assert "HttpOnly" in cookie and f"SameSite={app.config['SESSION_COOKIE_SAMESITE']}" in cookie
    assert ("Secure" in cookie) == app.config["SESSION_COOKIE_SECURE"]


def test_the_shell_lists_every_module_its_scripts_import():
    """Every app module imported by another (the IndexedDB helper in static/js/lib/ too) is precached."""
    assert "js/lib/idb.js" in SHELL_STATIC_FILES
    assert missing_static_imports(PROJECT_ROOT / "static", SHELL_STATIC_FILES) == set()


def test_the_worker_shares_the_shell_code_under_its_own_cache_prefix(client):
    """The card app's worker renders the shared shell part (templates/_pwa/sw_shell.js) with its own
    cache names and its own never-cached paths, with no template syntax left."""
    body = client.get("/card/sw.js").get_data(as_text=True)
    assert 'const CACHE_PREFIX = "carte-card-shell-";' in body
    assert body.count("const NEVER_CACHED = [") == 1 and "/^\\/card\\/api\\//" in body
    assert body.count('self.addEventListener("fetch"') == 1
    assert "{{" not in body and "{%" not in body and "{#" not in body
