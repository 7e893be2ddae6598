"""The verifier app's card-number field: signed out, the public check by number answers; for partner
staff, the register's holder (name in both scripts, photo) and a warning that the number proves
nothing come before any redemption, and offline a number never leads to one."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.test_scan_app import assert_fits, shoot, sign_in, ui_text
from tests.fixtures.photos import drawn_image, store_photo
from webapp.models import Role

NUMBER_PROVES_NOTHING = {
    "fr": "Un numéro de carte seul ne prouve rien sur la personne en face de vous.",
    "ar": "رقم البطاقة وحده لا يثبت شيئًا عن الشخص الذي أمامك.",
}
# The identity box comes before the offers' record buttons in the page (what a person reads first).
BOX_BEFORE_BUTTON = """() => {
  const box = document.querySelector("[data-identity-check]");
  const button = document.querySelector(".offer-standing button");
  return Boolean(box && button && box.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


def test_signed_out_a_typed_number_opens_the_public_check(live_server: str, page: Any, make_card: Any) -> None:
    """Signed out and online, a typed card number (any case, with spaces) shows the register's verdict
    on /check, with the holder's name and no photo."""
    card = make_card()
    page.goto(f"{live_server}/scan/?lang=fr")
    typed = f"{card.number[:4].lower()} {card.number[4:]}"
    page.fill("[data-number-form] input", typed)
    page.locator("[data-number-form] button[type=submit]").click()

    page.wait_for_url(f"{live_server}/check?card={card.number}")
    verdict = page.locator("section.verdict")
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(page.locator('[data-field="name"]')).to_have_text("Khadija Bennani")
    expect(page.locator("[data-holder-photo]")).to_be_hidden()


def test_offline_a_typed_number_says_the_network_is_needed(live_server: str, page: Any, make_card: Any) -> None:
    """Offline, the number field says a number needs the network (the register is not on the phone)."""
    card = make_card()
    page.goto(f"{live_server}/scan/?lang=en")
    page.context.set_offline(True)
    page.fill("[data-number-form] input", card.number)
    page.locator("[data-number-form] button[type=submit]").click()

    expect(page.locator("[data-number-help]")).to_contain_text("needs a network connection")
    page.context.set_offline(False)


def check_number_as_staff(page: Any, live_server: str, email: str, number: str, language: str) -> Any:
    """Signed in as partner staff on the app in `language`, the number typed and checked: the verdict screen."""
    page.goto(f"{live_server}/scan/?lang={language}")
    sign_in(page, live_server, email)
    expect(page.locator("[data-place-setting]")).to_be_visible()  # the app knows it is partner staff
    page.fill("[data-number-form] input", number)
    page.locator("[data-number-form] button[type=submit]").click()
    screen = page.locator("[data-verdict-screen]")
    expect(screen).to_be_visible()
    return screen


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_staff_checking_a_number_see_the_holder_and_the_warning_before_any_redemption(
    live_server: str, page: Any, session: Session, make_card: Any, make_user: Any, make_offer: Any, language: str
) -> None:
    """Online, a number checked by partner staff shows the register's name in both scripts and photo,
    and says the number alone proves nothing; the record button appears only after the agent says
    they compared, below that warning. Fits 360 px."""
    offer = make_offer()
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()
    store_photo(session, card.artisan, drawn_image((240, 300)))
    session.commit()

    screen = check_number_as_staff(page, live_server, agent.email, card.number, language)

    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator('[data-field="name"]')).to_have_text(card.artisan.name_latin)
    expect(screen.locator('[data-field="name_ar"]')).to_have_text(card.artisan.name_ar)
    photo = screen.locator("[data-holder-photo]")
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.naturalWidth") == 240
    box = screen.locator("[data-identity-check]")
    expect(box).to_be_visible()
    expect(box).to_contain_text(NUMBER_PROVES_NOTHING[language])
    expect(screen.locator(".offer-eligible")).to_have_count(1)
    expect(screen.locator(".offer-standing button")).to_have_count(0)  # nothing to record yet
    assert_fits(page)
    shoot(page, "number-holder", language)

    box.locator('[data-action="same-person"]').click()
    record = screen.locator(".offer-standing button")
    expect(record).to_be_visible()
    assert page.evaluate(BOX_BEFORE_BUTTON)
    expect(box.locator("[data-identity-confirmed]")).to_be_visible()
    shoot(page, "number-compared", language)


def test_staff_checking_a_number_of_a_holder_without_photo_are_told_to_ask_for_an_id(
    live_server: str, page: Any, make_card: Any, make_user: Any, make_offer: Any
) -> None:
    """No photo in the register: the screen says so and asks for the holder's identity card."""
    offer = make_offer()
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()

    screen = check_number_as_staff(page, live_server, agent.email, card.number, "en")

    expect(screen.locator("[data-identity-no-photo]")).to_be_visible()
    expect(screen.locator("[data-holder-photo]")).to_be_hidden()
    expect(screen.locator(".offer-standing button")).to_have_count(0)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_offline_staff_checking_a_number_are_offered_no_redemption(
    live_server: str, page: Any, make_card: Any, make_user: Any, make_offer: Any, language: str
) -> None:
    """Offline, partner staff typing a number get no verdict and no record button, and are told why:
    an online check or the card's QR code is needed."""
    offer = make_offer()
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()
    page.goto(f"{live_server}/scan/?lang={language}")
    sign_in(page, live_server, agent.email)
    expect(page.locator("[data-place-setting]")).to_be_visible()
    page.context.set_offline(True)
    page.fill("[data-number-form] input", card.number)
    page.locator("[data-number-form] button[type=submit]").click()

    expect(page.locator("[data-number-help]")).to_contain_text(ui_text(page, "number_offline_no_redemption"))
    expect(page.locator("[data-verdict-screen]")).to_be_hidden()
    expect(page.locator(".offer-standing button")).to_have_count(0)
    page.locator("[data-number-help]").scroll_into_view_if_needed()
    assert_fits(page)
    shoot(page, "number-offline", language)
    page.context.set_offline(False)
