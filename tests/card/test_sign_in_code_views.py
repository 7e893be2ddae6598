"""The sign-in-by-SMS pages (/card/sign-in-code, /card/sign-in-code/enter): the login page links them;
the same answer with or without a phone; the code (Arabic digits too) signs the artisan in and opens
the card app; refusals are form errors in the person's language, never a 500; forms need CSRF."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.card.test_views import post_activation
from tests.conftest import TEST_ACTOR
from tests.fixtures.support import csrf_token_from
from webapp.models import AuditEvent
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.settings import current_settings

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def activated(app, session, make_card):
    """A card activated with a phone number (then signed out: a fresh client)."""
    card = make_card()
    code = issue_activation_code(session, card, TEST_ACTOR, ActivationPolicy.from_settings(current_settings(app)))
    session.commit()
    assert post_activation(app.test_client(), card, code, phone="06 12 34 56 78").status_code == 303
    return card


def ask_code(client: FlaskClient, number: str, language: str = "fr"):
    page = client.get(f"/card/sign-in-code?lang={language}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/card/sign-in-code", data={"csrf_token": token, "card_number": number})


def type_code(client: FlaskClient, code: str, language: str = "fr"):
    page = client.get(f"/card/sign-in-code/enter?lang={language}")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/card/sign-in-code/enter", data={"csrf_token": token, "code": code})


def logged_code(caplog) -> str:
    return re.findall(r"SMS to \+212612345678: .*?(\d{6})", caplog.text)[-1]


def test_the_login_page_links_the_code_sign_in(client):
    """Artisans find the SMS sign-in from /login."""
    assert 'href="/card/sign-in-code"' in client.get("/login").get_data(as_text=True)


def test_the_code_by_sms_signs_the_artisan_in_and_opens_the_card_app(client, activated, caplog):
    """Card number, then the code typed in Arabic digits: 303 to /card/, the card API answers."""
    with caplog.at_level("INFO", logger="carte.sms"):
        response = ask_code(client, activated.number.lower(), language="fr")
    assert response.status_code == 303 and response.headers["Location"] == "/card/sign-in-code/enter"
    assert "votre code de connexion est" in caplog.text  # the SMS in the page's language
    response = type_code(client, logged_code(caplog).translate(ARABIC_DIGITS))
    assert response.status_code == 303 and response.headers["Location"] == "/card/"
    assert client.get("/card/api/card").get_json()["card"]["number"] == activated.number


def test_the_sms_is_in_arabic_when_asked_in_arabic(client, activated, caplog):
    """The text follows the language of the request."""
    with caplog.at_level("INFO", logger="carte.sms"):
        ask_code(client, activated.number, language="ar")
    assert "رمز الدخول الخاص بك هو" in caplog.text


def test_a_card_without_a_phone_gets_the_same_page_as_one_with(app, client, activated, make_card, caplog):
    """Unknown number, no phone, or a phone: the same redirect and the same code page (no digit of the phone)."""
    pages = []
    for number in (activated.number, make_card().number, "ZZZZZZZZZZ"):
        other = app.test_client()
        response = ask_code(other, number)
        assert response.status_code == 303 and response.headers["Location"] == "/card/sign-in-code/enter"
        html = other.get("/card/sign-in-code/enter?lang=fr").get_data(as_text=True)
        pages.append(re.sub(r"(csrf_token\" type=\"hidden\" value=\")[^\"]+|carte \S+ a un", "", html))
    assert pages[0] == pages[1] == pages[2]
    assert "5678" not in pages[0] and "56 78" not in pages[0]


@pytest.mark.parametrize(("language", "message"), [("fr", "Ce code est erroné"), ("ar", "هذا الرمز خاطئ")])
def test_a_wrong_code_is_a_form_error_in_the_persons_language(client, activated, language, message):
    """401, the form again with the message translated, the failure audited."""
    ask_code(client, activated.number)
    response = type_code(client, "000000" if language == "fr" else "abc", language=language)
    assert response.status_code == 401 and message in response.get_data(as_text=True)
    assert client.get("/card/api/card").status_code == 401


def test_five_wrong_codes_lock_with_a_429(client, session, activated):
    """The 5th wrong code answers 429 with Retry-After; locked is audited."""
    ask_code(client, activated.number)
    statuses = [type_code(client, "999999").status_code for _ in range(5)]
    assert statuses[:4] == [401] * 4 and statuses[4] == 429
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.sign_in_code_locked")) is not None


def test_the_fourth_code_in_an_hour_is_refused(client, activated):
    """The send cap: 429 and a message above the form."""
    for _ in range(3):
        assert ask_code(client, activated.number).status_code == 303
    response = ask_code(client, activated.number)
    assert response.status_code == 429 and "Trop de codes" in response.get_data(as_text=True)


def test_the_code_page_without_a_card_number_leads_back(client):
    """Straight to the code page: back to the card-number page."""
    response = client.get("/card/sign-in-code/enter")
    assert response.status_code == 303 and response.headers["Location"] == "/card/sign-in-code"


@pytest.mark.parametrize("url", ["/card/sign-in-code", "/card/sign-in-code/enter"])
def test_forms_without_csrf_are_refused(client, activated, url):
    """No CSRF token: the form again (400), nothing sent."""
    client.get("/card/sign-in-code")
    with client.session_transaction() as cookie:
        cookie["sms_code_card"] = activated.number
    response = client.post(url, data={"card_number": activated.number, "code": "123456"})
    assert response.status_code == 400


@pytest.mark.parametrize("typed", ["", "x" * 31])
def test_bad_card_numbers_are_form_errors(client, typed):
    """Empty or too long: 400, never a 500."""
    assert ask_code(client, typed).status_code == 400
