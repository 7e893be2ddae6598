"""The partner manager's and the administrator's forms on a phone (360 x 740), in French and Arabic:
every problem at once, a second click that creates nothing, voiding a redemption, deleting a draft,
one form per decision on an offer. Screenshots go to SHOTS_DIR (tests/artifacts/ by default)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser.conftest import PageProblems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Offer, OfferState, Redemption, Role
from webapp.settings import PROJECT_ROOT

SHOTS = Path(os.environ.get("SHOTS_DIR", PROJECT_ROOT / "tests" / "artifacts"))


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{name}: the page is {width} px wide"


def assert_no_page_problems(page: Any, problems: PageProblems) -> None:
    """No CSP violation, no script error; a form sent back with errors (422) is expected here."""
    assert page.evaluate("window.__cspViolations") == []
    assert problems.page_errors == []
    assert [error for error in problems.console_errors if "status of 422" not in error] == []


def sign_in(page: Any, live_server: str, user: Any, language: str, next_url: str) -> None:
    page.goto(f"{live_server}/login?lang={language}&next={next_url}")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_manager_voids_deletes_and_sends_a_form_once_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    session: Any,
    make_organisation: Any,
    make_user: Any,
    make_offer: Any,
    make_card: Any,
    language: str,
) -> None:
    """Redemptions list (who recorded, labelled details) -> void one with a reason -> a draft deleted ->
    a bad offer form shows every problem -> a double click on the good one creates one draft."""
    organisation = make_organisation()
    manager = make_user(Role.PARTNER_MANAGER, organisation=organisation, display_name="Salma Idrissi")
    agent = make_user(Role.PARTNER_AGENT, organisation=organisation, display_name="Youssef Agent")
    offer = make_offer(organisation, name="Colis national")
    draft = make_offer(organisation, state=OfferState.DRAFT, name="Brouillon")
    for hours in (1, 2):
        session.add(
            Redemption(
                offer_id=offer.id,
                card_id=make_card().id,
                made_at=datetime.now(UTC) - timedelta(hours=hours),
                fields={"weight_kg": 2.5, "destination": "FR"},
                recorded_by_user_id=agent.id,
            )
        )
    session.commit()
    sign_in(page, live_server, manager, language, "/partner/redemptions")
    expect(page).to_have_url(f"{live_server}/partner/redemptions")
    expect(page.locator("main")).to_contain_text("Youssef Agent")
    shot(page, f"redemptions-{language}")

    page.locator("main a[href$='/void']").first.click()
    shot(page, f"void-{language}")
    page.locator("main form button[type=submit]").click()  # no reason: sent back, labelled
    expect(page.locator("#reason-errors")).to_be_visible()
    page.fill("#reason", "Mauvaise carte scannée")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Mauvaise carte scannée")
    shot(page, f"redemptions-voided-{language}")

    page.goto(f"{live_server}/partner/offers/{draft.id}")
    page.locator(f"main a[href$='/offers/{draft.id}/delete']").click()
    shot(page, f"offer-delete-{language}")
    page.locator("main form button[type=submit]").first.click()
    expect(page).to_have_url(f"{live_server}/partner/offers")

    page.goto(f"{live_server}/partner/offers/new")
    page.fill("#name_ar", "")
    page.fill("#valid_until", "2000-01-01")
    page.fill("#quota_count", "0")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator(".problems")).to_be_visible()
    shot(page, f"offer-form-problems-{language}")

    before = session.scalar(select(func.count()).select_from(Offer))
    page.goto(f"{live_server}/partner/offers/new?example=lender")
    page.fill("#valid_until", "")
    submit = page.locator("main form button[type=submit]").last
    submit.dblclick()
    expect(page).to_have_url(re.compile(r"/partner/offers/\d+$"))
    shot(page, f"offer-saved-once-{language}")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Offer)) == before + 1
    assert_no_page_problems(page, page_problems)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_administrator_decides_with_one_form_per_decision_on_a_phone(
    live_server: str, page: Any, page_problems: PageProblems, make_user: Any, make_offer: Any, language: str
) -> None:
    """Each decision a form of its own, its reason field labelled; a blank reason is shown on that field."""
    admin = make_user(Role.ADMIN)
    offer = make_offer(state=OfferState.SUBMITTED, name="Colis national")
    sign_in(page, live_server, admin, language, f"/admin/offers/{offer.id}")
    expect(page.locator("#reason-send_back")).to_be_visible()
    page.locator("#decision-send_back").scroll_into_view_if_needed()
    shot(page, f"admin-offer-{language}")
    page.fill("#reason-send_back", "   ")  # passes the browser's `required`, not the service
    page.locator("form:has(#reason-send_back) button[type=submit]").click()
    expect(page.locator("#reason-send_back-errors")).to_be_visible()
    shot(page, f"admin-offer-refused-{language}")
    assert_no_page_problems(page, page_problems)
