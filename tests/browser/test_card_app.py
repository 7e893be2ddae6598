"""The artisan's card app (/card) in Debian's Chromium: activation makes the phone's key and binds
it, the card and its live QR show, and keep showing offline after a reload (IndexedDB and the
service worker); the live QR, read back from a screenshot by zxing-cpp, verifies `valid` (live)
through the verify API; "remove the card from this phone" forgets it."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from flask import Flask
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import PageProblems
from tests.browser.test_scan_app import ON_THE_PHONE, phone_filming, scan_again_offline, verdict_of  # noqa: F401
from tests.conftest import TEST_ACTOR
from webapp.models import Card
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.activation import ActivationPolicy, issue_activation_code
from webapp.services.cards.numbers import format_card_number
from webapp.settings import current_settings

PASSWORD = "tajine bleu de fes"
QR_DRAWN = "document.getElementById('card-app').dataset.window !== undefined"


def wait_until(page: Any, expression: str, seconds: float = 20) -> None:
    """Poll with evaluate (wait_for_function evaluates strings, which the page's CSP forbids)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def activation_code(app: Flask, session: Session, card: Card) -> str:
    code = issue_activation_code(session, card, TEST_ACTOR, ActivationPolicy.from_settings(current_settings(app)))
    session.commit()
    return code


def activate(page: Any, base_url: str, card: Card, code: str, language: str = "fr") -> None:
    page.goto(f"{base_url}/card/activate?lang={language}")
    page.fill("input[name=card_number]", card.number)
    page.fill("input[name=code]", code)
    page.fill("input[name=birth_date]", "17051980")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/card/")


def read_live_qr(page: Any) -> str:
    """The QR on screen, as a phone's camera would read it: a screenshot decoded by zxing-cpp."""
    image = Image.open(io.BytesIO(page.locator("[data-qr]").screenshot()))
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1, "no QR code read from the screen"
    assert results[0].ec_level == "M"
    return results[0].text


def verify(page: Any, base_url: str, text: str) -> dict[str, Any]:
    response = page.request.post(f"{base_url}/api/v1/verify", data={"qr": text})
    return response.json()


def assert_clean(page: Any, problems: PageProblems) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert problems.page_errors == []


def test_activate_then_the_card_and_its_live_qr_show_online_and_offline(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, session: Session, make_card: Any
) -> None:
    """Activation → the card with a live QR that verifies valid (live) → offline → reload → the card
    and a live QR still show, and that QR verifies too."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    expect(page.locator("[data-field=number]")).to_have_text(format_card_number(card.number))
    expect(page.locator("[data-field=name_latin]")).to_have_text(card.artisan.name_latin)
    wait_until(page, QR_DRAWN)
    text = read_live_qr(page)
    assert text.startswith(f"{live_server}/v#")
    answer = verify(page, live_server, text)
    assert (answer["verdict"], answer["presentation"]) == ("valid", "live"), answer
    version = int(page.evaluate("document.getElementById('card-app').dataset.qrVersion"))
    assert version <= 20
    wait_until(page, "navigator.serviceWorker.controller !== null")

    page.context.set_offline(True)
    page.reload()

    expect(page.locator("[data-field=number]")).to_have_text(format_card_number(card.number))
    expect(page.locator('[data-line="network"]')).to_contain_text("Hors ligne")
    wait_until(page, QR_DRAWN)
    offline_text = read_live_qr(page)
    page.context.set_offline(False)
    assert verify(page, live_server, offline_text)["verdict"] == "valid"
    assert_clean(page, page_problems)


def test_the_full_screen_qr_and_removing_the_card_from_the_phone(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, session: Session, make_card: Any
) -> None:
    """Full screen shows the QR large with the brightness hint; "about this phone" lists what it
    holds; removing the card empties IndexedDB, and offline the app then has no card to show."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    wait_until(page, QR_DRAWN)
    page.click("button.button-wide[data-action=fullscreen]")
    overlay = page.locator("[data-fullscreen]")
    expect(overlay).to_be_visible()
    box = page.locator("[data-qr-full]").bounding_box()
    assert box["width"] >= 330  # nearly the whole 360 px width
    page.click("[data-action=close-fullscreen]")
    expect(overlay).to_be_hidden()
    page.click("[data-action=about]")
    expect(page.locator("[data-about-list]")).to_contain_text(format_card_number(card.number))
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("[data-action=remove]")
    expect(page.locator('[data-screen="none"]')).to_be_visible()
    assert page.evaluate("indexedDB.databases().then(list => list.map(db => db.name))") == []
    assert page.evaluate("caches.keys().then(names => names.filter(n => n.startsWith('carte-card-')))") == []
    assert_clean(page, page_problems)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_screens_fit_a_360_px_phone(
    app: Flask, live_server: str, page: Any, session: Session, make_card: Any, language: str, tmp_path: Any
) -> None:
    """The activation page and the card screen have nothing wider than the phone, in French and Arabic."""
    out_of_view = """() => [...document.body.querySelectorAll("*")].filter((node) => {
      const box = node.getBoundingClientRect();
      return box.width > 1 && box.height > 1 && (box.left < -0.5 || box.right > innerWidth + 0.5);
    }).map((node) => `${node.tagName.toLowerCase()}.${node.className}`)"""
    card = make_card()
    page.goto(f"{live_server}/card/activate?lang={language}")
    assert page.evaluate(out_of_view) == []
    activate(page, live_server, card, activation_code(app, session, card), language)
    wait_until(page, QR_DRAWN)
    assert page.evaluate(out_of_view) == []


def test_after_reactivation_on_a_new_phone_the_old_phones_live_code_is_refused(
    app: Flask, browser: Any, live_server: str, page: Any, session: Session, make_card: Any
) -> None:
    """Phone A activates and shows a live QR; with a new code phone B activates: B's QR verifies
    valid, A's (read before) is refused as replayed, and A, online again, says the card is elsewhere."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    wait_until(page, QR_DRAWN)
    old_text = read_live_qr(page)
    assert verify(page, live_server, old_text)["verdict"] == "valid"

    new_phone = browser.new_context(locale="fr-MA", viewport={"width": 360, "height": 740})
    try:
        other = new_phone.new_page()
        activate(other, live_server, card, activation_code(app, session, card))
        wait_until(other, QR_DRAWN)
        assert verify(other, live_server, read_live_qr(other))["verdict"] == "valid"
    finally:
        new_phone.close()

    answer = verify(page, live_server, old_text)
    assert answer["verdict"] == "replayed", answer
    page.reload()
    expect(page.locator('[data-screen="other-phone"]')).to_be_visible()
    expect(page.locator("[data-qr]")).to_be_hidden()


def test_the_verifier_app_accepts_the_live_qr_online_and_offline(
    app: Flask,
    live_server: str,
    page: Any,
    session: Session,
    make_card: Any,
    phone_filming: Any,  # noqa: F811 (the verifier app tests' fixture, imported above)
) -> None:
    """A partner's phone films the card app's screen (its QR as the screenshot shows it): the
    verifier app says valid from the server, and again on the phone with the network cut."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    wait_until(page, QR_DRAWN)
    screen_png = page.locator("[data-qr]").screenshot()
    verifier = phone_filming(screen_png)
    verifier.page.goto(f"{live_server}/scan/")
    verdict = verdict_of(verifier.page)
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(verdict.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))
    verdict = scan_again_offline(verifier)
    expect(verdict).to_have_attribute("data-verdict", "valid")
    expect(verdict.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)


def test_a_screenshot_of_the_live_qr_is_replayed_once_its_window_has_passed(
    app: Flask,
    live_server: str,
    page: Any,
    session: Session,
    make_card: Any,
    phone_filming: Any,  # noqa: F811 (the verifier app tests' fixture, imported above)
) -> None:
    """A partner's phone films a screenshot of the card app's QR: valid now; two minutes later, on
    the phone with the network cut (its clock moved on), the same picture is a copy: replayed."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    wait_until(page, QR_DRAWN)
    screenshot = page.locator("[data-qr]").screenshot()
    verifier = phone_filming(screenshot)
    verifier.page.clock.install()  # the phone's clock, time flowing, which the test can move on
    verifier.page.goto(f"{live_server}/scan/")
    expect(verdict_of(verifier.page)).to_have_attribute("data-verdict", "valid")
    expect(verifier.page.locator("#scan-app")).to_have_attribute("data-trust", "ready")
    verifier.context.set_offline(True)
    verifier.page.clock.fast_forward("02:00")
    verifier.page.click('[data-action="scan-again"]')
    verdict = verdict_of(verifier.page)
    expect(verdict).to_have_attribute("data-verdict", "replayed")
    expect(verdict.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)


def test_a_suspended_card_shows_what_to_do_and_no_qr(
    app: Flask, live_server: str, page: Any, session: Session, make_card: Any
) -> None:
    """Suspended after activation: online, the card says so and what to do, and shows no QR."""
    card = make_card()
    activate(page, live_server, card, activation_code(app, session, card))
    wait_until(page, QR_DRAWN)
    card_service.suspend_card(session, card, "test", TEST_ACTOR)
    session.commit()
    page.reload()
    expect(page.locator("[data-field=state_label]")).to_have_text("Suspendue")
    expect(page.locator("[data-field=advice]")).to_contain_text("chambre d’artisanat")
    expect(page.locator("[data-live-qr]")).to_be_hidden()
    expect(page.locator("button.button-wide[data-action=fullscreen]")).to_be_hidden()
