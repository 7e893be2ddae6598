"""Two managers on one draft offer, in a real browser on a 360 px phone, in French and Arabic: the
conflict shows the rule and the redemption fields in words (never their JSON), fits the screen, and
the choice saves the JSON chosen. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTIFACTS, assert_no_page_problems
from tests.fixtures.factories import CNSS_REGISTERED, PARCEL_FIELDS
from tests.fixtures.support import TEST_ACTOR, TEST_PASSWORD
from webapp.models import Offer, OfferState, Role
from webapp.services.partners.offers import OfferDraft, update_offer

FES = {"label": {"fr": "Fès", "ar": "فاس", "en": "Fez"}, "logic": {"==": [{"var": "card.region"}, "03"]}}
NOTE = {"name": "note", "type": "text", "label": {"fr": "Remarque", "ar": "ملاحظة", "en": "Note"}, "max_length": 80}
WORDS = {
    "fr": {
        "direction": "ltr",
        "rule": "Immatriculé à la CNSS",
        "field": "Remarque (texte, obligatoire, au plus 80 caractères)",
    },
    "ar": {"direction": "rtl", "rule": "مسجل في الضمان الاجتماعي", "field": "ملاحظة (نص، إلزامي، على الأكثر 80 حرفًا)"},
}


def set_json(page: Any, box: str, value: Any) -> None:
    """What a manager types in the form's JSON box (it may be folded away under "Advanced")."""
    page.locator(f"#{box}").evaluate("(box, text) => { box.value = text; }", json.dumps(value))


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_offer_conflict_shows_the_rule_and_fields_in_words_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_user: Any,
    make_offer: Any,
    session: Any,
    language: str,
) -> None:
    """Saved meanwhile: open to everyone, destination only; this manager adds Fès and a note: the conflict
    reads as sentences and labels, keeps to 360 px, and keeping "mine" saves this manager's JSON."""
    offer = make_offer(state=OfferState.DRAFT, conditions=[CNSS_REGISTERED])
    manager = make_user(Role.PARTNER_MANAGER, organisation=offer.organisation)
    page.goto(f"{live_server}/login?lang={language}")
    page.fill("#email", manager.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{live_server}/partner/offers/{offer.id}/edit")
    meanwhile = OfferDraft(
        name={"fr": offer.name_fr, "ar": offer.name_ar, "en": offer.name_en},
        benefit={"fr": offer.benefit_fr, "ar": offer.benefit_ar, "en": offer.benefit_en},
        valid_from=offer.valid_from,
        conditions=[],
        fields=[PARCEL_FIELDS[1]],
    )
    update_offer(session, offer, meanwhile, TEST_ACTOR)
    session.commit()
    set_json(page, "conditions", [CNSS_REGISTERED, FES])
    set_json(page, "fields", [*PARCEL_FIELDS, NOTE])
    page.click("form.form button[type=submit]")

    conflict = page.locator(".conflict")
    expect(conflict).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", WORDS[language]["direction"])
    expect(conflict).to_contain_text(WORDS[language]["rule"])
    expect(conflict).to_contain_text(WORDS[language]["field"])
    for raw in ('"var"', '{"==":', "weight_kg", '"label"'):
        assert raw not in conflict.inner_text()
    conflict.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"offer-conflict-{language}.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("form.form button[type=submit]")  # "keep mine" is chosen by default
    expect(page).to_have_url(f"{live_server}/partner/offers/{offer.id}")
    session.expire_all()
    saved = session.get(Offer, offer.id)
    assert [spec["name"] for spec in saved.fields] == ["weight_kg", "destination", "note"]
    assert saved.conditions == [CNSS_REGISTERED, FES]
    # The conflict page answers 409 on purpose; the browser logs that status, nothing else may go wrong.
    page_problems.console_errors = [error for error in page_problems.console_errors if "409 (CONFLICT)" not in error]
    assert_no_page_problems(page, page_problems)
