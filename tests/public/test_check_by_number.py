"""Checking a card by its number (/check), and the holder's photo that only partner staff see."""

import re
from datetime import timedelta

import pytest

from tests.conftest import TEST_ACTOR
from tests.fixtures.photos import store_photo
from webapp.models import RevocationReason, Role, utcnow
from webapp.services.cards import lifecycle as card_service

JPEG = b"\xff\xd8\xff\xe0" + b"demo photo" + b"\xff\xd9"


def verdict_of(page: str) -> str | None:
    match = re.search(r'<section class="verdict verdict-(\w+)" data-verdict="\w+"', page)
    return match[1] if match else None


def test_the_home_page_offers_to_scan_and_to_check_by_number(client):
    """The home page links to the scanner and has a card-number form that goes to /check."""
    page = client.get("/?lang=fr").get_data(as_text=True)
    assert 'href="/scan/"' in page
    assert 'action="/check"' in page and 'name="card"' in page


def test_a_valid_card_by_number_shows_valid_with_both_names(client, make_card):
    """A card in force, typed in any form (spaces, lower case): valid, Latin and Arabic names, valid-until date."""
    card = make_card()
    typed = f"{card.number[:4].lower()} {card.number[4:]}"
    response = client.get("/check", query_string={"card": typed, "lang": "fr"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and verdict_of(page) == "valid"
    assert "Khadija Bennani" in page and "خديجة بناني" in page
    assert "Valable jusqu'au" in page


@pytest.mark.parametrize(("change", "label"), [("suspend", "Suspendue le"), ("revoke", "Révoquée le")])
def test_a_suspended_or_revoked_card_shows_the_day_of_the_change(client, session, make_card, change, label):
    """A suspended or revoked card shows 'suspended on' / 'revoked on' its date, never 'valid until'."""
    card = make_card()
    if change == "suspend":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    else:
        card_service.revoke_card(session, card, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    page = client.get("/check", query_string={"card": card.number, "lang": "fr"}).get_data(as_text=True)
    assert verdict_of(page) == ("suspended" if change == "suspend" else "revoked")
    assert label in page and "Valable jusqu" not in page


def test_an_expired_card_says_expired_on(client, make_card):
    """A card past its expiry: the expired verdict and 'expired on' its date."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366))
    page = client.get("/check", query_string={"card": card.number, "lang": "en"}).get_data(as_text=True)
    assert verdict_of(page) == "expired" and "Expired on" in page


@pytest.mark.parametrize(
    ("typed", "status", "message"),
    [
        ("12", 422, "This is not a card number"),
        ("<script>alert(1)</script>", 422, "This is not a card number"),
        ("K7M2Q9XH4V", 404, "No card has this number"),
    ],
)
def test_a_wrong_or_unknown_number_is_said_clearly(client, typed, status, message):
    """A malformed number (422) or one no card has (404) is said on the form, never a 500."""
    response = client.get("/check", query_string={"card": typed, "lang": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == status and message in page
    assert "<script>alert" not in page


def test_the_public_never_sees_the_photo(client, session, make_card):
    """Signed out, a valid card's check page has no photo, and the photo URL sends to the login page."""
    card = make_card()
    store_photo(session, card.artisan, JPEG)
    session.commit()
    page = client.get("/check", query_string={"card": card.number}).get_data(as_text=True)
    assert f"/partner/cards/{card.number}/photo" not in page
    response = client.get(f"/partner/cards/{card.number}/photo")
    assert response.status_code in (302, 401) and JPEG not in response.get_data()


@pytest.mark.parametrize("role", [Role.OFFICER, Role.ADMIN, Role.ARTISAN])
def test_staff_other_than_partners_get_no_photo(client, auth, session, make_card, make_user, role):
    """The photo is for partner staff tying a card to its holder: other roles are refused."""
    card = make_card()
    store_photo(session, card.artisan, JPEG)
    session.commit()
    auth.login(make_user(role))
    assert client.get(f"/partner/cards/{card.number}/photo").status_code == 403


def test_partner_staff_see_the_photo_of_a_valid_card(client, auth, session, make_card, make_user):
    """Signed-in partner staff: the check page shows the photo, served as JPEG and never cached."""
    card = make_card()
    store_photo(session, card.artisan, JPEG)
    session.commit()
    auth.login(make_user(Role.PARTNER_AGENT))
    page = client.get("/check", query_string={"card": card.number}).get_data(as_text=True)
    assert f'src="/partner/cards/{card.number}/photo"' in page
    response = client.get(f"/partner/cards/{card.number}/photo")
    assert response.status_code == 200 and response.data == JPEG
    assert response.mimetype == "image/jpeg" and "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("state", ["no photo", "revoked", "expired", "unknown number", "bad number"])
def test_no_photo_for_a_card_not_in_force(client, auth, session, make_card, make_user, state):
    """No photo (404) when the register has none, the card is not in force, or the number is no card's."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366)) if state == "expired" else make_card()
    if state != "no photo":
        store_photo(session, card.artisan, JPEG)
    if state == "revoked":
        card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    number = {"unknown number": "K7M2Q9XH4V", "bad number": "not-a-number"}.get(state, card.number)
    auth.login(make_user(Role.PARTNER_AGENT))
    assert client.get(f"/partner/cards/{number}/photo").status_code == 404


def _mistyped_number() -> str:
    """A number of the right shape whose check character does not match (one character mistyped)."""
    from webapp.services.cards.numbers import ALPHABET, new_card_number

    number = new_card_number()
    wrong = next(char for char in ALPHABET if char != number[-1])
    return number[:-1] + wrong


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr", "vérifiez la saisie"),
        ("ar", "تحقق من الكتابة"),
        ("en", "check for a typo"),
    ],
)
def test_a_wrong_check_character_asks_to_check_for_a_typo(client, lang, message):
    """Ten letters and digits with a wrong check character: 'check for a typo', not '10 letters and digits'."""
    response = client.get("/check", query_string={"card": _mistyped_number(), "lang": lang})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr", "Tapez le numéro imprimé sur la carte"),
        ("ar", "اكتب رقم البطاقة المطبوع عليها"),
        ("en", "Type the card number printed on the card"),
    ],
)
@pytest.mark.parametrize("typed", ["", "   ", " - "])
def test_an_empty_submission_says_what_to_type(client, lang, message, typed):
    """The form sent with nothing in it: a message on the field (422), never a bare error page."""
    response = client.get("/check", query_string={"card": typed, "lang": lang})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and 'id="card-errors"' in page


def test_the_check_page_without_a_submission_is_just_the_form(client):
    """/check opened from a link (no `card` sent): the empty form, no error."""
    response = client.get("/check?lang=fr")
    assert response.status_code == 200 and 'id="card-errors"' not in response.get_data(as_text=True)
