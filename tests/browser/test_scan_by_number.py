"""The verifier app's card-number field, signed out: the public check by number answers."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect


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
