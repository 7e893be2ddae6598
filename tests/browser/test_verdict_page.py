"""The public verdict page in a real browser: a phone opens the QR text of a card as a URL."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import PageProblems
from tests.conftest import TEST_ACTOR
from tests.fixtures.photos import store_photo
from tests.fixtures.support import TEST_PASSWORD
from webapp.clock import MOROCCO  # the pinned tzdata, as the app (not the system's files)
from webapp.models import Card, RevocationReason, Role, utcnow
from webapp.services.cards.lifecycle import revoke_card, suspend_card
from webapp.services.cards.numbers import format_card_number
from webapp.services.cards.tokens import digits_to_token, qr_text, token_to_digits
from webapp.services.demo import LONGEST_NAME, demo_photo
from webapp.settings import PROJECT_ROOT

PHONE_WIDTH = 360
# (first, last) Latin names of the demo's longest name: 40 characters, the most a card carries.
LONGEST_FIRST, LONGEST_LAST = LONGEST_NAME[0][0], LONGEST_NAME[1][0]

# What a reader must see, written out by hand so a missing translation fails the test.
VALID_TEXTS = {
    "fr": ("Valide", "Registre National de l'Artisanat"),
    "ar": ("صالحة", "السجل الوطني للصناعة التقليدية"),
    "en": ("Valid", "National Register of Handicraft"),
}
FRENCH_TITLES = {
    "revoked": "Révoquée",
    "suspended": "Suspendue",
    "bad_signature": "Signature invalide",
    "malformed": "Code incomplet",
}
# Dates are in the reader's words (Intl in the browser); written out here with Babel for French.

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


def french_date(day: date) -> str:
    return format_date(day, "long", locale="fr")


def qr_url(app: Flask, card: Card) -> str:
    """Exactly what the printed QR code holds, opened as a URL."""
    return qr_text(app.config["PUBLIC_BASE_URL"], card.token)


def tampered(token: str) -> str:
    """The token with one character of its signature changed (one digit pair of the QR text)."""
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    replacement = "A" if signature[middle] != "A" else "B"
    forged = f"{header}.{payload}.{signature[:middle]}{replacement}{signature[middle + 1 :]}"
    assert len(token_to_digits(forged)) == len(token_to_digits(token))
    return forged


def demo_card(make_artisan: Any, make_card: Any) -> Card:
    """A card like the demo's first one: the longest name a card can carry."""
    return make_card(make_artisan(first_name_latin=LONGEST_FIRST, last_name_latin=LONGEST_LAST, trade_code="ZEL"))


def open_verdict(page: Any, url: str) -> Any:
    """Open the page, check it is served under the strict CSP, and return the verdict section."""
    response = page.goto(url)
    assert response is not None and response.ok
    csp = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp, f"the verdict page is not served with the strict CSP: {csp!r}"
    return page.locator("#verdict")


def expect_verdict(section: Any, verdict: str, title: str) -> None:
    expect(section).to_have_attribute("data-verdict", verdict)
    expect(section).to_have_class(f"verdict verdict-{verdict}")
    expect(section.locator("[data-verdict-title]")).to_have_text(title)


def settled_verdict(page: Any) -> str:
    """The verdict once the page has shown one (for checks that must not wait out a timeout): not
    "pending", which the page shows while its verify request is on its way."""
    # A selector, not wait_for_function: that evaluates a string, which the page's CSP forbids as
    # soon as Playwright has to poll rather than find the answer at once.
    page.locator('#verdict[data-verdict]:not([data-verdict=""]):not([data-verdict="pending"])').wait_for()
    return page.locator("#verdict").get_attribute("data-verdict")


def assert_no_page_problems(page: Any, problems: PageProblems) -> None:
    """No CSP violation, no console error, no uncaught exception while the page verified."""
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"CSP violations: {violations}"
    assert problems.page_errors == [], f"JavaScript errors: {problems.page_errors}"
    assert problems.console_errors == [], f"console errors: {problems.console_errors}"


def test_valid_card_shows_valid_with_name_and_number(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_artisan: Any, make_card: Any
) -> None:
    """Opening a valid card's QR text shows "valid", its translated title, the card's name in both
    scripts (Arabic from the register), its number, and "valid until" a date in the reader's words."""
    card = demo_card(make_artisan, make_card)
    section = open_verdict(page, qr_url(app, card))

    expect_verdict(section, "valid", "Valide")
    expect(section.locator("[data-verdict-reason]")).to_contain_text("Registre National de l'Artisanat")
    details = page.locator("#card-details")
    expect(details).to_be_visible()
    expect(details.locator('[data-field="name"]')).to_have_text(f"{LONGEST_FIRST} {LONGEST_LAST}")
    expect(details.locator('[data-field="number"]')).to_have_text(format_card_number(card.number))
    expect(details.locator('[data-field="name_ar"]')).to_have_text("خديجة بناني")
    expect(details.locator("[data-date-label]")).to_have_text("Valable jusqu'au")
    expect(details.locator('[data-field="date"]')).to_have_text(french_date(card.expires_at.astimezone(MOROCCO).date()))
    expect(details.locator("[data-holder-photo]")).to_be_hidden()  # the public never sees a photo
    expect(page.locator("#checked-at time")).not_to_be_empty()
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("change", ["revoked", "suspended"])
def test_revoked_or_suspended_card_shows_its_status(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, session: Session, make_card: Any, change: str
) -> None:
    """A card revoked or suspended in the register shows "revoked" or "suspended", with its details and
    the day of that change instead of a "valid until" date."""
    card = make_card()
    if change == "revoked":
        revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    else:
        suspend_card(session, card, "unpaid chamber fee", TEST_ACTOR)
    session.commit()

    section = open_verdict(page, qr_url(app, card))

    expect_verdict(section, change, FRENCH_TITLES[change])
    expect(section.locator("[data-verdict-reason]")).to_contain_text("Cette carte")
    expect(page.locator('#card-details [data-field="number"]')).to_have_text(format_card_number(card.number))
    label = {"revoked": "Révoquée le", "suspended": "Suspendue le"}[change]
    expect(page.locator("#card-details [data-date-label]")).to_have_text(label)
    today = french_date(utcnow().astimezone(MOROCCO).date())
    expect(page.locator('#card-details [data-field="date"]')).to_have_text(today)
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize(("locale", "title"), [("fr-MA", "Code incomplet"), ("en-US", "Incomplete code")])
def test_page_without_fragment_shows_malformed(
    live_server: str, page: Any, page_problems: PageProblems, title: str
) -> None:
    """The page opened with no fragment (a link cut before the token) shows "malformed": "Incomplete code"."""
    section = open_verdict(page, f"{live_server}/v")

    expect_verdict(section, "malformed", title)
    expect(page.locator("#card-details")).to_be_hidden()
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("cut", [1, 2, 40])
def test_a_code_cut_short_is_incomplete_not_forged(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_card: Any, cut: int
) -> None:
    """A QR text missing its last digits (a bad scan, a link cut in a message) says "incomplete code,
    scan again", never "bad signature" (docs/card-token.md, rules U7 and J2)."""
    url = qr_url(app, make_card())[:-cut]

    section = open_verdict(page, url)

    expect_verdict(section, "malformed", FRENCH_TITLES["malformed"])
    expect(section.locator("[data-verdict-reason]")).to_contain_text("Scannez-le de nouveau")
    expect(page.locator("#card-details")).to_be_hidden()
    assert_no_page_problems(page, page_problems)


def test_tampered_signature_shows_bad_signature(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_card: Any
) -> None:
    """A QR text with one digit pair of the signature changed shows "bad_signature" and no card details."""
    card = make_card()
    forged = tampered(card.token)
    url = qr_text(app.config["PUBLIC_BASE_URL"], forged)
    assert digits_to_token(url.split("#", 1)[1]) == forged

    section = open_verdict(page, url)

    expect_verdict(section, "bad_signature", FRENCH_TITLES["bad_signature"])
    expect(page.locator("#card-details")).to_be_hidden()
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize(
    ("language", "locale", "direction"), [("fr", "fr-MA", "ltr"), ("ar", "ar-MA", "rtl"), ("en", "en-US", "ltr")]
)
def test_phone_in_each_language_shows_the_verdict_without_horizontal_scroll(
    app: Flask,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_artisan: Any,
    make_card: Any,
    tmp_path: Path,
    language: str,
    locale: str,
    direction: str,
) -> None:
    """A phone set to fr, ar or en gets the page in its language and direction, without horizontal scroll."""
    card = demo_card(make_artisan, make_card)
    title, reason = VALID_TEXTS[language]

    section = open_verdict(page, qr_url(app, card))

    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    expect_verdict(section, "valid", title)
    expect(section.locator("[data-verdict-reason]")).to_contain_text(reason)
    expect(page.locator("#checked-at")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    assert page.evaluate("document.documentElement.clientWidth") == PHONE_WIDTH
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"verdict-{language}.png", full_page=True)
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("language", ["ar"])
def test_lang_query_before_fragment_keeps_the_verdict(
    app: Flask, live_server: str, page: Any, make_card: Any, language: str
) -> None:
    """The QR URL with ?lang=xx inserted before the # shows the page in that language and the card valid."""
    card = make_card()
    url = qr_url(app, card).replace("/v#", f"/v?lang={language}#")

    open_verdict(page, url)

    assert page.locator("html").get_attribute("lang") == language
    assert settled_verdict(page) == "valid"


def test_language_switch_keeps_the_card(app: Flask, live_server: str, page: Any, make_card: Any) -> None:
    """Switching to Arabic from a verdict page keeps the scanned card and its verdict."""
    card = make_card()
    section = open_verdict(page, qr_url(app, card))
    expect_verdict(section, "valid", VALID_TEXTS["fr"][0])

    with page.expect_navigation():
        page.get_by_role("link", name="العربية").click()

    assert page.locator("html").get_attribute("lang") == "ar"
    assert settled_verdict(page) == "valid"


def test_new_fragment_does_not_keep_the_previous_card(app: Flask, live_server: str, page: Any, make_card: Any) -> None:
    """When the fragment changes to a forged token, the previous card's details disappear."""
    card = make_card()
    section = open_verdict(page, qr_url(app, card))
    expect_verdict(section, "valid", VALID_TEXTS["fr"][0])

    forged = qr_text(app.config["PUBLIC_BASE_URL"], tampered(card.token))
    page.evaluate("(hash) => { window.location.hash = hash; }", forged.split("#", 1)[1])

    expect_verdict(section, "bad_signature", FRENCH_TITLES["bad_signature"])
    assert page.locator("#card-details").is_hidden()


def test_the_page_verifies_with_the_bundle_when_the_verify_api_is_unreachable(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_card: Any
) -> None:
    """With POST /api/v1/verify failing, a valid card is still valid, with its details: the page computed
    the verdict itself from the public bundle (lib/card-verifier.js, WebCrypto)."""
    card = make_card()
    page.route("**/api/v1/verify", lambda route: route.abort())

    section = open_verdict(page, qr_url(app, card))

    expect_verdict(section, "valid", "Valide")
    expect(page.locator('#card-details [data-field="number"]')).to_have_text(format_card_number(card.number))
    expiry = french_date(card.expires_at.astimezone(MOROCCO).date())
    expect(page.locator('#card-details [data-field="date"]')).to_have_text(expiry)
    # Offline there is no register: no Arabic name (the token carries the Latin name only).
    expect(page.locator('#card-details [data-field="name_ar"]')).to_be_hidden()
    expect(page.locator("#checked-at time")).not_to_be_empty()
    assert page_problems.page_errors == []


def test_a_forged_card_is_judged_in_the_page_without_asking_the_server(
    app: Flask, live_server: str, page: Any, page_problems: PageProblems, make_card: Any
) -> None:
    """A verdict of the token alone (bad signature) needs no verify request; the bundle was fetched."""
    card = make_card()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url.removeprefix(live_server)))

    section = open_verdict(page, qr_text(app.config["PUBLIC_BASE_URL"], tampered(card.token)))

    expect_verdict(section, "bad_signature", FRENCH_TITLES["bad_signature"])
    assert "/api/v1/bundle" in requests and "/api/v1/verify" not in requests
    assert_no_page_problems(page, page_problems)


def test_the_server_verdict_replaces_the_bundles_when_they_differ(
    app: Flask, live_server: str, page: Any, session: Session, make_card: Any
) -> None:
    """Online, the register is authoritative: a card revoked after the page loaded its bundle shows revoked."""
    card = make_card()
    section = open_verdict(page, qr_url(app, card))
    expect_verdict(section, "valid", VALID_TEXTS["fr"][0])
    revoke_card(session, card, RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()

    # The same card again, as a shared link with the plain token: the page's bundle still says valid.
    page.evaluate("(token) => { window.location.hash = token; }", card.token)

    expect_verdict(section, "revoked", FRENCH_TITLES["revoked"])


def test_signed_in_partner_staff_see_the_holders_photo(
    app: Flask,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    session: Session,
    make_card: Any,
    make_user: Any,
) -> None:
    """Partner staff signed in see the register's photo beside a valid card, to tie it to the person."""
    card = make_card()
    store_photo(session, card.artisan, demo_photo(0, "KB"))
    session.commit()
    agent = make_user(Role.PARTNER_AGENT)
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", agent.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()

    open_verdict(page, qr_url(app, card))

    photo = page.locator("#card-details [data-holder-photo]")
    expect(photo).to_be_visible()
    assert photo.evaluate("image => image.naturalWidth") == 240
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("server", ["online", "verify-api-unreachable"])
def test_a_live_code_shows_live_and_a_screenshot_replayed(
    app: Flask,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_card: Any,
    bind_phone: Any,
    server: str,
) -> None:
    """A fresh live code opened as its QR URL: valid and "shown live from the holder's phone" (the
    printed card says "printed card"); a live code five minutes old: replayed, no card. Online from the
    verify API; with the API unreachable, from the page's own check (the bundle, the server's clock)."""
    from datetime import timedelta

    card = make_card()
    holder_phone, _device, token = bind_phone(card)
    base = app.config["PUBLIC_BASE_URL"]
    if server != "online":
        page.route("**/api/v1/verify", lambda route: route.abort())

    section = open_verdict(page, qr_text(base, holder_phone.live_code(token, utcnow() + timedelta(seconds=30))))
    expect_verdict(section, "valid", "Valide")
    expect(page.locator("#presentation")).to_have_text("Présentée en direct depuis le téléphone du titulaire")
    expect(page.locator('#card-details [data-field="number"]')).to_have_text(format_card_number(card.number))

    # Only the fragment changes: the page checks the new one (hashchange), as after a new scan.
    page.goto(qr_text(base, holder_phone.live_code(token, utcnow() - timedelta(minutes=5))))
    expect_verdict(section, "replayed", "Écran copié")
    expect(page.locator("#presentation")).to_be_hidden()
    expect(page.locator("#card-details")).to_be_hidden()

    page.goto(qr_url(app, card))
    expect_verdict(section, "valid", "Valide")
    expect(page.locator("#presentation")).to_have_text("Carte imprimée")
    assert page_problems.page_errors == []
