"""The offer form's condition and field editors in a real browser, on a 360 px phone, in French and
Arabic: a partner manager builds "region = Fès-Meknès AND years of activity ≥ 2" with the condition
editor, sees how many card holders it admits, adds a redemption field with the field editor, saves,
and the stored offer holds the same JsonLogic the server documents, said back in plain words.
Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTIFACTS, assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Offer, Role
from webapp.services.partners.rules import moroccan_today

NB = "\u00a0"
TEXTS = {
    "fr": {
        "direction": "ltr",
        "add_condition": "Ajouter une condition",
        "add_field": "Ajouter un champ",
        "count": "2 titulaires sur 4 sont admis aujourd’hui.",
        "words": [f"Région{NB}: Fès-Meknès", f"Années d’activité{NB}: au moins 2"],
        "save": "Enregistrer le brouillon",
    },
    "ar": {
        "direction": "rtl",
        "add_condition": "إضافة شرط",
        "add_field": "إضافة حقل",
        "count": "حاملو البطاقات المقبولون اليوم: 2 من أصل 4.",
        "words": ["الجهة: فاس مكناس", "سنوات النشاط: 2 على الأقل"],
        "save": "حفظ المسودة",
    },
}
YEARS = {"-": [{"year": [{"var": "today"}]}, {"var": "artisan.activity_start_year"}]}
STORED_CONDITIONS = [
    {
        "label": {"fr": f"Région{NB}: Fès-Meknès", "ar": "الجهة: فاس مكناس", "en": "Region is Fez-Meknes"},
        "logic": {"==": [{"var": "card.region"}, "03"]},
    },
    {
        "label": {
            "fr": f"Années d’activité{NB}: au moins 2",
            "ar": "سنوات النشاط: 2 على الأقل",
            "en": "Years of activity is at least 2",
        },
        "logic": {">=": [YEARS, 2]},
    },
]
STORED_FIELDS = [
    {
        "name": "poids_kg",
        "type": "number",
        "label": {"fr": "Poids (kg)", "ar": "الوزن (كغ)", "en": "Weight (kg)"},
        "required": True,
        "min": 0.1,
        "max": 30,
    }
]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"offer-editors-{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: the page is {width} px wide"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_manager_builds_a_rule_and_a_field_without_json(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    session: Any,
    make_organisation: Any,
    make_user: Any,
    make_artisan: Any,
    make_card: Any,
    language: str,
) -> None:
    """Editor rows -> the documented JsonLogic and labels stored, the count previewed, the rule in words."""
    words = TEXTS[language]
    organisation = make_organisation()
    manager = make_user(Role.PARTNER_MANAGER, organisation=organisation)
    # Admitted: two of Fès-Meknès active for years; refused: a newcomer of Fès-Meknès, and a
    # Marrakech-Safi artisan.
    this_year = moroccan_today().year
    for region, since in (("03", 2010), ("03", 2015), ("03", this_year), ("07", 2010)):
        make_card(make_artisan(region_code=region, activity_start_year=since))

    page.goto(f"{live_server}/login?lang={language}&next=/partner/offers/new")
    page.fill("#email", manager.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server}/partner/offers/new")
    expect(page.locator("html")).to_have_attribute("dir", words["direction"])
    for code, name in (("fr", "Tarif artisan"), ("ar", "تعريفة الصانع"), ("en", "Artisan rate")):
        page.fill(f"#name_{code}", name)
        page.fill(f"#benefit_{code}", name)

    editor = page.locator("[data-condition-editor]")
    expect(editor).to_have_attribute("data-ready", "true")
    expect(page.locator("[data-raw-json]").first).not_to_have_attribute("open", "")
    editor.get_by_role("button", name=words["add_condition"]).click()
    rows = editor.locator(".cond-row")
    rows.nth(0).locator("select").nth(0).select_option(json.dumps("card.region"))
    rows.nth(0).locator("select").nth(1).select_option(json.dumps("=="))
    rows.nth(0).locator("select").nth(2).select_option(json.dumps("03"))
    editor.get_by_role("button", name=words["add_condition"]).click()
    rows.nth(1).locator("select").nth(0).select_option(json.dumps("years_of_activity"))
    rows.nth(1).locator("select").nth(1).select_option(json.dumps(">="))
    rows.nth(1).locator("input").fill("2")
    expect(page.locator("[data-rule-count]")).to_have_text(words["count"])
    expect(page.locator("[data-rule-sentences] li")).to_have_text(words["words"])
    shot(page, f"{language}-conditions")

    fields = page.locator("[data-field-editor]")
    fields.get_by_role("button", name=words["add_field"]).click()
    spec = fields.locator(".field-spec").nth(0)
    spec.locator("[data-field-part=label-fr]").fill("Poids (kg)")
    spec.locator("[data-field-part=label-ar]").fill("الوزن (كغ)")
    spec.locator("[data-field-part=label-en]").fill("Weight (kg)")
    expect(spec.locator("[data-field-part=key]")).to_have_attribute("placeholder", "poids_kg")
    spec.locator("[data-field-part=type]").select_option("number")
    spec.locator("[data-field-part=min]").fill("0.1")
    spec.locator("[data-field-part=max]").fill("30")
    fields.locator(".field-spec").nth(0).scroll_into_view_if_needed()
    shot(page, f"{language}-fields")

    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".flash-success")).to_be_visible()
    shot(page, f"{language}-saved")
    offer = session.scalar(select(Offer).where(Offer.organisation_id == organisation.id))
    session.refresh(offer)
    assert offer.conditions == STORED_CONDITIONS
    assert offer.fields == STORED_FIELDS
    expect(page.locator(".rule-sentences li")).to_have_text(words["words"])
    assert foreign_requests == []
    assert_no_page_problems(page, page_problems)
