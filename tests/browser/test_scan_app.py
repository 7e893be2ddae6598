"""The verifier app (/scan) in Debian's Chromium with a fake camera that films a card's QR code
(a PNG the app itself issued, with `cards qr-image`, turned into a .y4m video). Every request to
another origin fails the test (the decoder and its wasm come from our server). Offline, verdicts
are computed on the phone by static/js/lib/card-verifier.js from the stored trust bundle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskCliRunner
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, RECORD_CSP_VIOLATIONS, PageProblems
from tests.browser.fake_camera import png_to_y4m
from tests.conftest import TEST_ACTOR, TEST_PASSWORD
from webapp.models import Card, Redemption, RevocationReason, Role, utcnow
from webapp.services.cards.lifecycle import revoke_card
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
FRENCH_TITLES = {"valid": "Valide", "revoked": "Révoquée", "cannot_confirm": "Impossible de confirmer"}


def card_png(runner: FlaskCliRunner, card: Card, path: Path) -> bytes:
    """The card's QR code exactly as the app issues it (the CLI's PNG)."""
    result = runner.invoke(args=["cards", "qr-image", card.number, "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path.read_bytes()


class Phone:
    """A Chromium whose camera films one card, a phone-sized context and page, with the origin guard."""

    def __init__(self, chromium: Any, video: Path, base_url: str) -> None:
        self.video = video
        self.browser = chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        self.context = self.browser.new_context(locale="fr-MA", **PHONE)
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(RECORD_CSP_VIOLATIONS)
        self.problems = PageProblems()
        self.foreign: list[str] = []
        origin = f"{base_url}/"

        def guard(route: Any) -> None:
            if route.request.url.startswith(origin):
                route.continue_()
            else:
                self.foreign.append(route.request.url)
                route.abort()

        self.context.route("**/*", guard)
        self.page = self.context.new_page()
        self.page.on("console", self.problems.on_console)
        self.page.on("pageerror", self.problems.on_page_error)

    def close(self) -> None:
        self.context.close()
        self.browser.close()


@pytest.fixture
def phone_filming(browser: Any, live_server: str, runner: FlaskCliRunner, tmp_path: Path) -> Iterator[Any]:
    """phone_filming(card) -> a Phone whose fake camera films that card's QR code: another Chromium of
    the session's Playwright (the video file is a launch flag)."""
    phones: list[Phone] = []

    def make(card: Card) -> Phone:
        png = card_png(runner, card, tmp_path / f"{card.number}.png")
        phone = Phone(browser.browser_type, png_to_y4m(png, tmp_path / f"{card.number}.y4m"), live_server)
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        phone.close()


def verdict_of(page: Any) -> Any:
    screen = page.locator("[data-verdict-screen]")
    expect(screen).to_be_visible(timeout=20_000)
    return screen


def assert_clean(phone: Phone) -> None:
    assert phone.foreign == []
    assert phone.page.evaluate("window.__cspViolations") == []
    assert phone.problems.page_errors == []


def sign_in(page: Any, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login?next=/scan/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/scan/")


def wait_until(page: Any, expression: str, seconds: float = 20) -> None:
    """Poll an expression with evaluate (wait_for_function evaluates strings, which the page's CSP forbids)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scan-{name}.png"))


def test_scanning_a_valid_card_shows_valid_online(live_server: str, make_card: Any, phone_filming: Any) -> None:
    """The fake camera (the track's label is our file) films a valid card: the valid screen, with the
    holder's name and number; nothing from another origin, no CSP violation."""
    card = make_card()
    phone = phone_filming(card)
    page = phone.page

    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)

    label = page.evaluate("document.querySelector('[data-video]').srcObject?.getVideoTracks()[0]?.label ?? null")
    video_closed = label is None  # the camera may already be paused on the verdict screen: look at the stream
    assert video_closed or label == str(phone.video)
    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator("[data-verdict-title]")).to_have_text("Valide")
    expect(screen.locator('[data-field="name"]')).to_have_text(card.artisan.name_latin)
    expect(screen.locator('[data-field="number"]')).to_have_text(card.number)
    assert page.evaluate("document.documentElement.scrollWidth") == 360
    shoot(page, "valid-fr")
    assert_clean(phone)


def test_the_fake_camera_plays_our_file(live_server: str, make_card: Any, phone_filming: Any) -> None:
    """The video track's label is the .y4m path (else Chromium's own test pattern plays)."""
    phone = phone_filming(make_card())
    page = phone.page
    page.goto(f"{live_server}/scan/")

    label = page.evaluate(
        """async () => {
          const stream = await navigator.mediaDevices.getUserMedia({ video: true });
          const label = stream.getVideoTracks()[0].label;
          stream.getTracks().forEach((track) => track.stop());
          return label;
        }"""
    )

    assert label == str(phone.video)


def test_the_upload_fallback_decodes_a_png(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_card: Any,
    runner: FlaskCliRunner,
    tmp_path: Path,
) -> None:
    """A photo of the code (the card's PNG) is decoded like a camera frame and checked; a picture
    without a code says so on the scanning screen."""
    card = make_card()
    png = tmp_path / "card.png"
    card_png(runner, card, png)
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 300), "white").save(blank)
    page.goto(f"{live_server}/scan/")

    page.set_input_files("[data-photo-input]", str(blank))
    expect(page.locator("[data-scan-message]")).to_have_text(re.compile("Aucun code trouvé"))
    page.set_input_files("[data-photo-input]", str(png))
    screen = verdict_of(page)

    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator('[data-field="number"]')).to_have_text(card.number)
    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == []


def test_a_revoked_card_online_shows_the_revoked_screen_and_a_tap_returns_to_scanning(
    live_server: str, session: Session, make_card: Any, phone_filming: Any
) -> None:
    """Revoked: its own screen, "revoked on" the day of the change (online) rather than a "valid until";
    the verdict stays until the reader taps "scan another card"."""
    card = make_card()
    phone = phone_filming(card)  # the QR code printed while the card was in force
    revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    page = phone.page

    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "revoked")
    expect(screen.locator("[data-date-label]")).to_have_text("Révoquée le")
    today = format_date(utcnow().astimezone(ZoneInfo("Africa/Casablanca")).date(), "long", locale="fr")
    expect(screen.locator('[data-field="date"]')).to_have_text(today)
    page.wait_for_timeout(1500)
    expect(screen).to_be_visible()
    shoot(page, "revoked-fr")
    page.click('[data-action="scan-again"]')

    expect(page.locator("#scanner")).to_be_visible()
    expect(verdict_of(page)).to_have_attribute("data-verdict", "revoked")  # the camera reads it again
    assert_clean(phone)


def test_a_partner_agent_records_a_redemption_offline_and_it_is_synced_once(
    live_server: str, app: Flask, session: Session, make_card: Any, make_user: Any, make_offer: Any, phone_filming: Any
) -> None:
    """Signed in as partner staff: the offer is eligible online; recorded with the network cut, it is
    queued (a visible pending count), then sent when the network returns, and stored once."""
    offer = make_offer()
    agent = make_user(Role.PARTNER_AGENT, organisation=offer.organisation)
    card = make_card()
    phone = phone_filming(card)
    page = phone.page
    sign_in(page, live_server, agent.email)

    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "valid")
    offer_item = screen.locator(".offer-standing")
    expect(offer_item).to_contain_text("Éligible")
    phone.context.set_offline(True)
    offer_item.locator("button").click()
    page.fill('input[name="weight_kg"]', "2,5")
    page.fill('input[name="destination"]', "fr")
    page.click('[data-redemption-form] button[type="submit"]')

    expect(page.locator("[data-redemption-result]")).to_have_text(re.compile("envoyée au retour du réseau"))
    expect(page.locator('[data-line="pending"]')).to_contain_text("1")
    shoot(page, "pending-fr")
    phone.context.set_offline(False)
    expect(page.locator('[data-line="pending"]')).to_be_hidden(timeout=20_000)
    expect(page.locator('.outbox-item[data-status="accepted"]')).to_have_count(1)
    page.click('[data-action="scan-again"]')  # a later sync (the worker's, a restart) must not add one
    page.wait_for_timeout(1000)

    count = session.scalar(select(func.count()).select_from(Redemption).where(Redemption.offer_id == offer.id))
    assert count == 1
    assert_clean(phone)


def test_the_app_opens_offline_from_its_worker(live_server: str, make_card: Any, phone_filming: Any) -> None:
    """Once visited, the worker serves the app with no network; it says it is offline and how old its data is."""
    phone = phone_filming(make_card())
    page = phone.page
    page.goto(f"{live_server}/scan/")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    expect(page.locator('[data-line="freshness"]')).to_contain_text("Données mises à jour")
    phone.context.set_offline(True)

    page.reload()

    expect(page.locator('[data-line="network"]')).to_contain_text("Hors ligne")
    expect(page.locator('[data-line="freshness"]')).to_contain_text("Données mises à jour")
    assert_clean(phone)


def test_offline_a_valid_card_is_verified_on_the_phone_with_the_data_age(
    live_server: str, make_card: Any, phone_filming: Any
) -> None:
    """Network cut after the bundle loaded: the phone still says valid, and how old its data is."""
    phone = phone_filming(make_card())
    page = phone.page
    page.goto(f"{live_server}/scan/")
    expect(verdict_of(page)).to_have_attribute("data-verdict", "valid")
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")  # the bundle is stored
    phone.context.set_offline(True)
    page.click('[data-action="scan-again"]')

    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator("[data-verdict-source]")).to_contain_text("Vérifiée sur ce téléphone")
    assert_clean(phone)


def test_offline_a_revoked_card_is_revoked_on_the_phone(
    live_server: str, session: Session, make_card: Any, phone_filming: Any
) -> None:
    """The bundle's status list says revoked: so does the phone, with no network."""
    card = make_card()
    phone = phone_filming(card)
    revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    page = phone.page
    page.goto(f"{live_server}/scan/")
    verdict_of(page)
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")  # the bundle is stored
    phone.context.set_offline(True)
    page.click('[data-action="scan-again"]')

    expect(verdict_of(page)).to_have_attribute("data-verdict", "revoked")
    expect(page.locator("[data-verdict-source]")).to_contain_text("Vérifiée sur ce téléphone")


def test_offline_past_the_maximum_age_the_phone_cannot_confirm(
    live_server: str, make_card: Any, phone_filming: Any
) -> None:
    """A bundle older than its maximum age: never "valid", but "cannot confirm — connect to refresh";
    the status line says the data is too old."""
    phone = phone_filming(make_card())
    page = phone.page
    page.goto(f"{live_server}/scan/")
    verdict_of(page)
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")  # the bundle is stored
    phone.context.set_offline(True)
    # Eight days later on the phone's clock (the public bundle's maximum age is 7 days).
    page.evaluate("Date.now = ((now) => () => now() + 8 * 86400 * 1000)(Date.now)")
    page.click('[data-action="scan-again"]')

    expect(verdict_of(page)).to_have_attribute("data-verdict", "cannot_confirm")
    expect(page.locator('[data-line="freshness"]')).to_contain_text("Données trop anciennes")
    shoot(page, "cannot-confirm-fr")
