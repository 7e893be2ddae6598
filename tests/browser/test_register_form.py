"""The artisan form in a real browser, on a 360 px phone, in French and in Arabic: the province
select follows the region (static/js/backoffice/province-select.js), and a likely duplicate is
shown before saving and needs "register anyway". Screenshots go to tests/artifacts/ (git-ignored),
or to the folder named by REGISTER_SHOTS."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTISAN, SELECTS, assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role
from webapp.settings import PROJECT_ROOT

SHOTS = Path(os.environ.get("REGISTER_SHOTS", PROJECT_ROOT / "tests" / "artifacts"))
WORDS = {
    "fr": {"save": "Inscrire l’artisan", "duplicate": "Déjà au registre ?", "marrakech": "Marrakech", "fes": "Fès"},
    "ar": {"save": "تسجيل الصانع", "duplicate": "مسجل من قبل في السجل؟", "marrakech": "مراكش", "fes": "فاس"},
}


def sign_in(page: Any, live_server: str, user: Any, language: str) -> None:
    page.goto(f"{live_server}/login?lang={language}&next=/office/artisans/new")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server}/office/artisans/new")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} is wider than the phone"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_province_select_follows_the_region(
    live_server: str, page: Any, page_problems: PageProblems, make_user: Any, language: str
) -> None:
    """An administrator picks a region: the province select offers that region's provinces only."""
    words = WORDS[language]
    sign_in(page, live_server, make_user(Role.ADMIN), language)
    province = page.locator("#province")
    page.select_option("#region_code", "07")
    expect(province.locator("option", has_text=words["marrakech"])).to_have_count(1)
    expect(province.locator("option", has_text=words["fes"])).to_have_count(0)
    page.select_option("#province", "Marrakech")
    page.locator("#province").scroll_into_view_if_needed()
    shot(page, f"province-select-{language}")
    page.select_option("#region_code", "03")
    expect(province.locator("option", has_text=words["fes"])).to_have_count(1)
    expect(province).to_have_value("")  # Marrakech is not of Fès-Meknès: chosen again
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_likely_duplicate_is_shown_before_saving(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_user: Any,
    make_artisan: Any,
    session: Any,
    language: str,
) -> None:
    """The same person typed again: the form comes back with the record already registered and a
    "register anyway" box; ticked, the artisan is saved."""
    words = WORDS[language]
    make_artisan(first_name_latin="Khadidja", birth_date=date(1980, 5, 17), rna_number="RNA-03-0000001")
    session.commit()
    sign_in(page, live_server, make_user(Role.OFFICER, region="03"), language)
    for name, value in ARTISAN.items():
        page.fill(f"#{name}", value)
    page.fill("#birth_date", "1980-05-17")
    for name, value in SELECTS.items():
        page.select_option(f"#{name}", value)
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#duplicates-title")).to_have_text(words["duplicate"])
    shot(page, f"duplicate-warning-{language}")
    page.check("#confirm_duplicates")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".flash-success")).to_be_visible()
    # The form sent back for confirmation answers 422, which the browser logs; nothing else.
    page_problems.console_errors = [error for error in page_problems.console_errors if "status of 422" not in error]
    assert_no_page_problems(page, page_problems)
