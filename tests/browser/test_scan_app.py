"""The verifier app (/scan) in Debian's Chromium with a fake camera that films a card's QR code
(a PNG the app itself issued, with `cards qr-image`, turned into a .y4m video). Every request to
another origin fails the test (the decoder and its wasm come from our server). Offline, verdicts
are computed on the phone by static/js/lib/card-verifier.js from the stored trust bundle."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import segno
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskCliRunner
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, RECORD_CSP_VIOLATIONS, PageProblems
from tests.browser.fake_camera import png_to_y4m
from tests.conftest import TEST_ACTOR, TEST_PASSWORD
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.clock import MOROCCO
from webapp.models import Card, CardCheck, CheckKind, CnssStatus, Redemption, RevocationReason, Role, utcnow
from webapp.services.cards.lifecycle import revoke_card
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.qr import QUIET_ZONE_MODULES, card_qr_png
from webapp.services.trust.signing_keys import Signer
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
FRENCH_TITLES = {"valid": "Valide", "revoked": "Révoquée", "cannot_confirm": "Impossible de confirmer"}
ON_THE_PHONE = "Vérifiée sur ce téléphone"
# Anything visible (wider and taller than the 1 px of a visually hidden label) that sticks out of the
# 360 px viewport on either side: the phone would scroll sideways or cut it.
ELEMENTS_OUT_OF_VIEW = """() => [...document.body.querySelectorAll("*")]
  .filter((node) => {
    const box = node.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && (box.left < -0.5 || box.right > innerWidth + 0.5);
  })
  .map((node) => `${node.tagName.toLowerCase()}.${node.className}`)"""
SCANNER_WATCHER = """() => {
  const scanner = document.getElementById("scanner");
  window.__scannerShown = false;
  new MutationObserver(() => {
    if (!scanner.hidden) window.__scannerShown = true;
  }).observe(scanner, { attributes: true, attributeFilter: ["hidden"] });
}"""


def card_png(runner: FlaskCliRunner, card: Card, path: Path, *, force: bool = False) -> bytes:
    """The card's QR code exactly as the app issues it (the CLI's PNG; `force` for an expired card's)."""
    result = runner.invoke(args=["cards", "qr-image", card.number, "--output", str(path), *(["--force"] * force)])
    assert result.exit_code == 0, result.output
    return path.read_bytes()


class Phone:
    """A Chromium whose camera films one card, a phone-sized context and page, with the origin guard."""

    def __init__(self, chromium: Any, video: Path, base_url: str, locale: str = "fr-MA") -> None:
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
        self.context = self.browser.new_context(locale=locale, **PHONE)
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
    """phone_filming(card or PNG bytes, locale=..., force=...) -> a Phone whose fake camera films that
    card's QR code (or that picture): another Chromium of the session's Playwright (the video file is a
    launch flag), whose browser speaks `locale`."""
    phones: list[Phone] = []

    def make(subject: Card | bytes, *, locale: str = "fr-MA", force: bool = False) -> Phone:
        if isinstance(subject, Card):
            name = subject.number
            png = card_png(runner, subject, tmp_path / f"{name}.png", force=force)
        else:
            name, png = f"picture-{len(phones)}", subject
        video = png_to_y4m(png, tmp_path / f"{name}.y4m")
        phone = Phone(browser.browser_type, video, live_server, locale)
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        phone.close()


def qr_png(content: str) -> bytes:
    """A QR code of any text (not one of ours), drawn like the app draws a card's."""
    buffer = io.BytesIO()
    segno.make(content, error="m", boost_error=False, micro=False).save(
        buffer, kind="png", scale=8, border=QUIET_ZONE_MODULES
    )
    return buffer.getvalue()


def blank_png() -> bytes:
    """A white picture: the camera films no code at all."""
    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(buffer, format="PNG")
    return buffer.getvalue()


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


def ui_text(page: Any, key: str) -> str:
    """One of the app's own texts (the <template id="ui-texts">), in the page's language."""
    texts = "document.getElementById('ui-texts').content"
    return page.evaluate(f"{texts}.querySelector('[data-key={key}]').textContent.trim()")


def assert_fits(page: Any) -> None:
    """Nothing scrolls sideways or sticks out of the 360 px screen."""
    assert page.evaluate("document.documentElement.scrollWidth") == 360
    assert page.evaluate(ELEMENTS_OUT_OF_VIEW) == []


def scan_again_offline(phone: Phone) -> Any:
    """Once the phone holds its trust data: cut the network, scan again, and return the verdict screen."""
    page = phone.page
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")
    phone.context.set_offline(True)
    page.click('[data-action="scan-again"]')
    return verdict_of(page)


def shoot(page: Any, name: str, language: str = "fr") -> None:
    """tests/artifacts/scan-{name}-{language}.png: what the screen shows (CI keeps them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scan-{name}-{language}.png"))


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
    expect(screen.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))
    assert page.evaluate("document.documentElement.scrollWidth") == 360
    shoot(page, "valid-public")
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
    blank.write_bytes(blank_png())
    page.goto(f"{live_server}/scan/")

    page.set_input_files("[data-photo-input]", str(blank))
    expect(page.locator("[data-scan-message]")).to_have_text(re.compile("Aucun code trouvé"))
    page.set_input_files("[data-photo-input]", str(png))
    screen = verdict_of(page)

    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))
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
    today = format_date(utcnow().astimezone(MOROCCO).date(), "long", locale="fr")
    expect(screen.locator('[data-field="date"]')).to_have_text(today)
    page.wait_for_timeout(1500)
    expect(screen).to_be_visible()
    shoot(page, "revoked-public")
    # The scanner may show for a moment only (the camera reads the code again at once): a watcher in
    # the page records that it came back.
    page.evaluate(SCANNER_WATCHER)
    page.click('[data-action="scan-again"]')

    expect(verdict_of(page)).to_have_attribute("data-verdict", "revoked")  # the camera reads it again
    assert page.evaluate("window.__scannerShown") is True
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
    shoot(page, "pending")
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


def test_an_arabic_readers_fonts_are_kept_for_offline_use(live_server: str, make_card: Any, phone_filming: Any) -> None:
    """In Arabic, the worker keeps the Arabic font (not in the lean shell) once the page runs, and
    offline the page still draws Arabic with it, not with whatever the phone has."""
    phone = phone_filming(make_card())
    page = phone.page
    page.goto(f"{live_server}/scan/?lang=ar")
    wait_until(page, "navigator.serviceWorker.controller !== null")
    kept = (
        "caches.keys().then(names => Promise.all(names.map(name => caches.open(name).then(cache => cache.keys()))))"
        ".then(lists => lists.flat().map(request => request.url))"
    )
    wait_until(page, f"{kept}.then(urls => urls.some(url => url.endsWith('noto-sans-arabic-arabic-400-normal.woff2')))")
    phone.context.set_offline(True)

    page.reload()

    expect(page.locator('[data-line="network"]')).to_contain_text("دون اتصال")
    page.evaluate("document.fonts.ready.then(() => null)")
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Arabic\"', 'مرحبا')")
    loaded = page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)")
    assert '"Noto Sans Arabic"' in loaded or "Noto Sans Arabic" in loaded
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
    shoot(page, "cannot-confirm-public")


def test_an_expired_card_shows_the_expired_screen_online_and_offline(
    live_server: str, make_card: Any, phone_filming: Any
) -> None:
    """Past its expiry date: the expired screen ("expired on", not "valid until"), from the server
    online and from the phone's own check offline."""
    card = make_card(now=utcnow() - timedelta(days=6 * 366))
    phone = phone_filming(card, force=True)  # the CLI prints an expired card's code only when told to
    page = phone.page

    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "expired")
    expect(screen.locator("[data-verdict-title]")).to_have_text("Expirée")
    expect(screen.locator("[data-date-label]")).to_have_text("Expirée le")
    expect(screen.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))
    screen = scan_again_offline(phone)

    expect(screen).to_have_attribute("data-verdict", "expired")
    expect(screen.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)
    expect(screen.locator("[data-date-label]")).to_have_text("Expirée le")
    assert_clean(phone)


def test_a_forged_signature_shows_bad_signature_online_and_offline(
    live_server: str, make_card: Any, phone_filming: Any
) -> None:
    """A real card's token with one character of its signature changed, in a QR code drawn as the app
    draws them (our URL, the token as digits): "bad signature", online and on the phone, no card shown."""
    card = make_card()
    header, payload, signature = card.token.split(".")
    # The first character: all 6 of its bits are in the signature (the last one's low bits are padding).
    forged = f"{header}.{payload}.{'B' if signature[0] != 'B' else 'C'}{signature[1:]}"
    phone = phone_filming(card_qr_png(live_server, forged))
    page = phone.page

    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "bad_signature")
    expect(screen.locator("[data-verdict-title]")).to_have_text("Signature invalide")
    expect(screen.locator("[data-card-details]")).to_be_hidden()
    screen = scan_again_offline(phone)

    expect(screen).to_have_attribute("data-verdict", "bad_signature")
    expect(screen.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)
    assert_clean(phone)


@pytest.mark.parametrize(
    "foreign_text", ["https://example.com/hello", "WIFI:T:WPA;S:Depot Fes;P:motdepasse;;"], ids=["url", "wifi"]
)
def test_a_foreign_qr_code_is_not_an_artisan_card_and_is_never_opened(
    live_server: str, signer: Signer, phone_filming: Any, foreign_text: str
) -> None:
    """Someone else's QR code (a web address, a WiFi code): "not an artisan card", online and on the
    phone, no card and no offers, and no request to any other origin."""
    phone = phone_filming(qr_png(foreign_text))
    page = phone.page

    page.goto(f"{live_server}/scan/")
    screen = verdict_of(page)
    expect(screen).to_have_attribute("data-verdict", "not_a_card")
    expect(screen.locator("[data-verdict-title]")).to_have_text("Ce n'est pas une Carte Artisan")
    expect(screen.locator("[data-card-details]")).to_be_hidden()
    expect(screen.locator("[data-offers]")).to_be_hidden()
    screen = scan_again_offline(phone)

    expect(screen).to_have_attribute("data-verdict", "not_a_card")
    expect(screen.locator("[data-verdict-source]")).to_contain_text(ON_THE_PHONE)
    assert_clean(phone)


@pytest.mark.parametrize(("language", "direction"), [("fr", "ltr"), ("ar", "rtl")])
def test_every_screen_speaks_the_readers_language_and_fits_a_phone(
    live_server: str,
    session: Session,
    make_artisan: Any,
    make_card: Any,
    make_user: Any,
    make_offer: Any,
    phone_filming: Any,
    language: str,
    direction: str,
) -> None:
    """In French and in Arabic (right to left), at 360x740: the scanning screen, then for a partner
    agent a valid card with their offers (one eligible, one not), revoked, and cannot confirm; each in
    the reader's language, nothing out of the screen; screenshots under tests/artifacts/."""
    locale = f"{language}-MA"
    idle = phone_filming(blank_png(), locale=locale)
    page = idle.page
    page.goto(f"{live_server}/scan/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")
    expect(page.locator("[data-scan-message]")).to_have_text(ui_text(page, "aim"))
    assert_fits(page)
    shoot(page, "scanning", language)
    assert_clean(idle)

    parcels = make_offer(quota=(20, "month"))
    make_offer(parcels.organisation, conditions=[CNSS_REGISTERED])
    agent = make_user(Role.PARTNER_AGENT, organisation=parcels.organisation)
    card = make_card(make_artisan(cnss_status=CnssStatus.NOT_REGISTERED))
    phone = phone_filming(card, locale=locale)
    page = phone.page
    sign_in(page, live_server, agent.email)
    screen = verdict_of(page)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect(screen).to_have_attribute("data-verdict", "valid")
    expect(screen.locator(".offer-eligible")).to_have_count(1)
    expect(screen.locator(".offer-not-eligible .failed-conditions")).to_have_count(1)  # the server's answer
    expect(screen.locator(".offer-eligible")).to_contain_text(ui_text(page, "eligible"))
    assert_fits(page)
    shoot(page, "valid", language)
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")  # the whole list of offers
    shoot(page, "offers", language)

    revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    page.click('[data-action="scan-again"]')
    expect(verdict_of(page)).to_have_attribute("data-verdict", "revoked")
    expect(screen.locator("[data-date-label]")).to_have_text(ui_text(page, "revoked_on"))
    assert_fits(page)
    shoot(page, "revoked", language)

    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("#scan-app")).to_have_attribute("data-trust", "ready")
    phone.context.set_offline(True)
    # Eight days later on the phone's clock: past the transporter's 72 h and anyone's maximum age.
    page.evaluate("Date.now = ((now) => () => now() + 8 * 86400 * 1000)(Date.now)")
    page.click('[data-action="scan-again"]')
    expect(verdict_of(page)).to_have_attribute("data-verdict", "cannot_confirm")
    expect(page.locator('[data-line="freshness"]')).to_have_class(re.compile("status-warning"))
    assert_fits(page)
    shoot(page, "cannot-confirm", language)
    assert_clean(phone)


@pytest.mark.parametrize(
    ("language", "saved"), [("fr", "Enregistré sur ce téléphone."), ("ar", "تم الحفظ على هذا الهاتف.")]
)
def test_partner_staff_set_where_they_check_and_it_goes_with_their_checks(
    live_server: str,
    session: Session,
    make_card: Any,
    make_user: Any,
    phone_filming: Any,
    runner: FlaskCliRunner,
    tmp_path: Path,
    language: str,
    saved: str,
) -> None:
    """Hidden from the public; signed in as partner staff, the place is saved on the phone (still there
    after a reload) and sent with a check: the card's check row carries it. Fits 360 px in fr and ar."""
    card = make_card()
    png = tmp_path / "card.png"
    card_png(runner, card, png)
    phone = phone_filming(blank_png(), locale=f"{language}-MA")
    page = phone.page
    page.goto(f"{live_server}/scan/")
    expect(page.locator("[data-scan-message]")).to_have_text(ui_text(page, "aim"))
    expect(page.locator("[data-place-setting]")).to_be_hidden()

    sign_in(page, live_server, make_user(Role.PARTNER_AGENT).email)
    setting = page.locator("[data-place-setting]")
    expect(setting).to_be_visible()
    expect(setting.locator("[data-place-current]")).to_have_text(ui_text(page, "place_none"))
    setting.locator("summary").click()
    page.fill("[data-place-input]", "  Stand 12,\t salon de Fès ")
    setting.locator("button[type=submit]").click()
    expect(setting.locator("[data-place-saved]")).to_have_text(saved)
    setting.scroll_into_view_if_needed()
    expect(setting.locator("[data-place-current]")).to_contain_text("Stand 12, salon de Fès")
    assert_fits(page)
    shoot(page, "place", language)

    page.reload()
    expect(page.locator("[data-place-input]")).to_have_value("Stand 12, salon de Fès")
    page.set_input_files("[data-photo-input]", str(png))
    expect(verdict_of(page)).to_have_attribute("data-verdict", "valid")
    check = session.scalars(select(CardCheck).where(CardCheck.card_id == card.id)).one()
    assert (check.kind, check.place) == (CheckKind.STAFF_SCAN, "Stand 12, salon de Fès")
    assert_clean(phone)
