"""An officer issues cards to their region's artisans without one, on a 360 px phone, in French
and in Arabic: the count, the confirmation, and the job's page it leads to. Screenshots go to
tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTIFACTS, assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role

TEXTS = {
    "fr": {"direction": "ltr", "link": "Émettre les cartes manquantes", "button": "Émettre 3 cartes"},
    "ar": {"direction": "rtl", "link": "إصدار البطاقات الناقصة", "button": "إصدار 3 بطاقات"},
}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_issues_the_missing_cards_of_their_region(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_user: Any,
    make_artisan: Any,
    session: Any,
    signer: Any,
    language: str,
) -> None:
    """Artisans list -> "issue missing cards" (3 of the region) -> confirm -> the job's page."""
    words = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    for _ in range(3):
        make_artisan(region_code="03")
    make_artisan(region_code="07")
    session.commit()
    page.goto(f"{live_server}/login?lang={language}&next=/office/artisans")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"issue-missing-cards-{language}-01-artisans.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name=words["link"]).click()
    expect(page.locator("html")).to_have_attribute("dir", words["direction"])
    expect(page.locator(".tile strong")).to_have_text("3")
    page.screenshot(path=str(ARTIFACTS / f"issue-missing-cards-{language}-02-confirm.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_no_page_problems(page, page_problems)
    page.get_by_role("button", name=words["button"]).click()
    expect(page).to_have_url(re.compile(r"/office/jobs/\d+$"))
    assert foreign_requests == []
