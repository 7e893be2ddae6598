"""The verifier app (/scan) films a live code (docs/card-token.md section 13) made in Python as the
card app makes it: a fresh one is valid and "shown live from the holder's phone", online and on the
phone offline (the window read against the app's corrected clock, `ds` in the stored bundle's list);
a screenshot's, minutes old, is "replayed" both ways; the screen fits 360 px in French and Arabic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_scan_app import (  # the app's phone with a fake camera, and its helpers
    ON_THE_PHONE,
    assert_clean,
    assert_fits,
    phone_filming,  # noqa: F401 - a fixture
    scan_again_offline,
    shoot,
    verdict_of,
)
from webapp.models import utcnow
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.qr import card_qr_png

LIVE_FR = "Présentée en direct depuis le téléphone du titulaire"
REPLAYED_FR = "Copie d’un écran précédent : demandez au titulaire d’ouvrir l’application de sa carte."


def test_a_fresh_live_code_is_valid_and_shown_live_online_and_offline(
    live_server: str,
    make_card: Any,
    bind_phone: Any,
    phone_filming: Any,  # noqa: F811
) -> None:
    """A live code of this window: valid, with the holder's card and "shown live", then the same offline."""
    card = make_card()
    holder_phone, _device, token = bind_phone(card)
    # The next window's code: accepted until the end of the window after it, 60 to 90 s from now.
    code = holder_phone.live_code(token, utcnow() + timedelta(seconds=30))
    camera = phone_filming(card_qr_png(live_server, code))
    page = camera.page
    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator("[data-presentation]")).to_have_text(LIVE_FR)
    expect(screen.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))

    screen = scan_again_offline(camera)
    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)
    expect(screen.locator("[data-presentation]")).to_have_text(LIVE_FR)
    assert_clean(camera)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_screenshot_of_a_live_code_is_replayed_online_and_offline(
    live_server: str,
    make_card: Any,
    bind_phone: Any,
    phone_filming: Any,  # noqa: F811
    language: str,
) -> None:
    """A live code five minutes old: replayed, no card shown nor "shown live", in the reader's language;
    offline too."""
    card = make_card()
    holder_phone, _device, token = bind_phone(card)
    code = holder_phone.live_code(token, utcnow() - timedelta(minutes=5))
    camera = phone_filming(card_qr_png(live_server, code), locale=f"{language}-MA")
    page = camera.page
    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "replayed")
    expect(screen.locator("[data-card-details]")).to_be_hidden()
    expect(screen.locator("[data-presentation]")).to_be_hidden()  # a copy is not "shown live"
    if language == "fr":
        expect(screen.locator("[data-verdict-reason]")).to_have_text(REPLAYED_FR)
        expect(screen.locator("[data-verdict-title]")).to_have_text("Écran copié")
    else:
        expect(screen.locator("[data-verdict-title]")).to_have_text("شاشة منسوخة")
    assert_fits(page)
    shoot(page, "replayed", language)

    screen = scan_again_offline(camera)
    expect(screen).to_have_attribute("data-verdict", "replayed")
    assert_clean(camera)
