"""Two tabs on one artisan's edit form in a real browser, on a 360 px phone, in French and Arabic:
the second save shows the conflict (both values, who saved meanwhile), the officer keeps the value
saved meanwhile, and the record then holds it. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTIFACTS, assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Artisan, Role

WORDS = {
    "fr": {"direction": "ltr", "theirs": "Garder la valeur enregistrée entre-temps", "save": "Enregistrer"},
    "ar": {"direction": "rtl", "theirs": "الاحتفاظ بالقيمة المحفوظة في الأثناء", "save": "حفظ"},
}


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_second_tab_sees_the_conflict_and_keeps_the_value_saved_meanwhile(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_user: Any,
    make_artisan: Any,
    session: Any,
    language: str,
) -> None:
    """Tab 1 saves a province; tab 2 saves another: tab 2 shows both, chooses the saved one, saves."""
    officer = make_user(Role.OFFICER, region="03", display_name="Samira Alami")
    artisan = make_artisan(region_code="03", province="Fès", phone="+212612345678")
    session.commit()
    edit = f"{live_server}/office/artisans/{artisan.id}/edit?lang={language}"
    page.goto(f"{live_server}/login?lang={language}")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    other = page.context.new_page()
    page.goto(edit)
    other.goto(edit)
    page.select_option("#province", "Meknès")  # a list per region (services/register/provinces.py)
    page.click("form.form button[type=submit]")
    expect(page).to_have_url(f"{live_server}/office/artisans/{artisan.id}")
    other.select_option("#province", "Sefrou")
    other.click("form.form button[type=submit]")
    expect(other.locator(".conflict")).to_be_visible()
    expect(other.locator("html")).to_have_attribute("dir", WORDS[language]["direction"])
    expect(other.locator(".conflict")).to_contain_text("Meknès")
    expect(other.locator(".conflict")).to_contain_text("Samira Alami")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    other.screenshot(path=str(ARTIFACTS / f"edit-conflict-{language}.png"))
    other.screenshot(path=str(ARTIFACTS / f"edit-conflict-{language}-full.png"), full_page=True)
    assert other.evaluate("document.documentElement.scrollWidth") <= 360
    other.get_by_label(WORDS[language]["theirs"]).check()
    other.click("form.form button[type=submit]")
    expect(other).to_have_url(f"{live_server}/office/artisans/{artisan.id}")
    session.expire_all()
    assert session.get(Artisan, artisan.id).province == "Meknès"
    assert_no_page_problems(page, page_problems)
