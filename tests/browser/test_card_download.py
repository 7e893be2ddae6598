"""The officer's "download the card (PDF)" in a real browser on a 360 px phone, in French and
Arabic: the link is on the artisan's page and downloads the two-page card. Screenshots go to
tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
LINK = {"fr": "Télécharger la carte (PDF)", "ar": "تنزيل البطاقة (PDF)"}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_downloads_the_card_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_user: Any,
    make_artisan: Any,
    make_card: Any,
    language: str,
) -> None:
    """The link shows among the card's actions and its download is the card's PDF, front and back."""
    officer = make_user(Role.OFFICER, region="03")
    artisan = make_artisan(region_code="03", first_name_ar="عبد الله", last_name_ar="العلاوي")
    card = make_card(artisan)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server}/login?lang={language}")
    page.fill("input[name=email]", officer.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server}/office/artisans/{artisan.id}?lang={language}")
    link = page.get_by_role("link", name=LINK[language])
    expect(link).to_be_visible()
    link.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"card-download-{language}.png"))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == f"card-{card.number}.pdf"
    assert len(PdfReader(download.value.path()).pages) == 2
    assert_no_page_problems(page, page_problems)
