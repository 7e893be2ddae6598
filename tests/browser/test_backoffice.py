"""The register's back office in a real browser, on a 360 px phone, in French and in Arabic: an
officer signs in, registers an artisan, issues their card (its activation code shown), revokes it,
and the verify API then says "revoked" for the card's QR text. Screenshots of each step go to
tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"

# What the officer reads and clicks, written out by hand so that a missing translation fails.
TEXTS = {
    "fr": {
        "direction": "ltr",
        "register": "Inscrire un artisan",
        "save": "Inscrire l’artisan",
        "registered": "Khadija Bennani est inscrit·e au registre.",
        "issue": "Émettre une carte",
        "issued": "est émise.",
        "revoke": "Révoquer la carte",
        "revoke_for_good": "Révoquer définitivement la carte",
        "revoked": "est révoquée.",
        "no_card": "Aucune carte en vigueur.",
        "revoked_badge": "Révoquée",
        "back": "Retour à l’artisan",
    },
    "ar": {
        "direction": "rtl",
        "register": "تسجيل صانع",
        "save": "تسجيل الصانع",
        "registered": "تم تسجيل Khadija Bennani في السجل.",
        "issue": "إصدار بطاقة",
        "issued": "تم إصدار البطاقة",
        "revoke": "إلغاء البطاقة",
        "revoke_for_good": "نهائياً",
        "revoked": "تم إلغاء البطاقة",
        "no_card": "لا توجد بطاقة سارية.",
        "revoked_badge": "ملغاة",
        "back": "العودة إلى الصانع",
    },
}
ARTISAN = {
    "cin": "AB123456",
    "first_name_latin": "Khadija",
    "last_name_latin": "Bennani",
    "first_name_ar": "خديجة",
    "last_name_ar": "بناني",
    "phone": "06 12 34 56 78",
    "activity_start_year": "2001",
}
SELECTS = {
    "gender": "female",
    "province": "Fès",
    "trade_code": "ZEL",
    "legal_status": "independent",
    "cnss_status": "registered",
}


class Steps:
    """Screenshots of each step, numbered, and the checks every page of the walk must pass."""

    def __init__(self, page: Any, language: str) -> None:
        self.page, self.language, self.count = page, language, 0

    def shot(self, name: str) -> None:
        expect(self.page.locator("html")).to_have_attribute("dir", TEXTS[self.language]["direction"])
        expect(self.page.locator("html")).to_have_attribute("lang", self.language)
        self.count += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"backoffice-{self.language}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        # Nothing wider than the phone: a screen that scrolls sideways is broken at 360 px.
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name}: the page is {width} px wide"


def assert_no_page_problems(page: Any, problems: PageProblems) -> None:
    violations = page.evaluate("window.__cspViolations")
    assert violations == [], f"CSP violations: {violations}"
    assert problems.page_errors == [], f"JavaScript errors: {problems.page_errors}"
    assert problems.console_errors == [], f"console errors: {problems.console_errors}"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_registers_issues_and_revokes_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_user: Any,
    signer: Any,
    language: str,
) -> None:
    """Sign in -> register an artisan -> issue a card -> revoke it -> the verify API says revoked."""
    words = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    steps = Steps(page, language)

    page.goto(f"{live_server}/login?lang={language}&next=/office/artisans")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    steps.shot("sign-in")
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server}/office/artisans")
    steps.shot("artisans")

    page.get_by_role("link", name=words["register"]).click()
    for name, value in ARTISAN.items():
        page.fill(f"#{name}", value)
    page.fill("#birth_date", "1980-05-17")
    for name, value in SELECTS.items():
        page.select_option(f"#{name}", value)
    page.check("input[name=programmes][value=WOMEN]")
    steps.shot("register")
    page.get_by_role("button", name=words["save"]).click()
    registered = page.locator(".flash-success").inner_text().replace("\u2068", "").replace("\u2069", "")
    assert registered == words["registered"]
    steps.shot("registered")

    page.get_by_role("link", name=words["issue"]).click()
    steps.shot("issue-confirm")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text(words["issued"])
    # The new card's activation code, shown once on the answer, grouped for reading aloud.
    expect(page.locator("[data-activation-code]")).to_have_text(re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$"))
    steps.shot("activation-code")
    page.get_by_role("link", name=words["back"]).click()
    expect(page.locator(".card-face-qr")).to_be_visible()
    assert page.locator(".card-face-qr").evaluate("image => image.naturalWidth") > 0  # the QR image loaded
    steps.shot("card-issued")
    qr_text = page.locator("a[data-qr-text]").get_attribute("data-qr-text")
    assert qr_text.startswith(f"{live_server}/v#")

    page.get_by_role("link", name=words["revoke"], exact=True).click()
    page.select_option("#revocation_reason", "lost")
    page.fill("#reason", "Déclaration de perte")
    steps.shot("revoke-confirm")
    button = page.locator("main form button[type=submit]")
    expect(button).to_contain_text(words["revoke_for_good"])
    button.click()
    expect(page.locator(".flash-success")).to_contain_text(words["revoked"])
    expect(page.locator("main")).to_contain_text(words["no_card"])
    expect(page.locator("main")).to_contain_text(words["revoked_badge"])
    steps.shot("card-revoked")

    answer = page.request.post(
        f"{live_server}/api/v1/verify", data=json.dumps({"qr": qr_text}), headers={"Content-Type": "application/json"}
    )
    assert answer.status == 200
    assert answer.json()["verdict"] == "revoked"
    assert foreign_requests == []
    assert_no_page_problems(page, page_problems)
