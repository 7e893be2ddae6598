"""No page wider than the screen: a 200-character unbroken word wraps, tables scroll inside their own
frame, at 360 px and 1280 px, in French and in Arabic (right to left). Screenshots go to
tests/artifacts/page-width/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts" / "page-width"
LONG_WORD = "Benjelloun" * 20  # 200 characters, no break opportunity
WIDTHS = {"phone": 360, "desktop": 1280}


def sign_in(page: Any, live_server: str, email: str, language: str) -> None:
    page.goto(f"{live_server}/login?lang={language}")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def wide_data(session, make_user, make_artisan, make_card, make_organisation, make_offer) -> dict[str, Any]:
    """An artisan, a partner and a redemption whose texts are one 200-character word."""
    from datetime import UTC, datetime, timedelta

    from webapp.models import Redemption

    # The register's columns hold 60 characters (PostgreSQL refuses more): still far wider than 360 px.
    longest = LONG_WORD[:60]
    artisan = make_artisan(last_name_latin=longest, first_name_latin=longest, province=longest)
    card = make_card()  # a card's name is at most 40 characters: the long word is in the redemption
    organisation = make_organisation(f"Transports {LONG_WORD}"[:120])
    fields = [{"name": "note", "type": "text", "label": {"fr": "Note", "ar": "ملاحظة", "en": "Note"}}]
    offer = make_offer(organisation, fields=fields, name=LONG_WORD[:120])
    manager = make_user(Role.PARTNER_MANAGER, organisation=organisation, display_name=LONG_WORD[:120])
    session.add(
        Redemption(
            offer_id=offer.id,
            card_id=card.id,
            made_at=datetime.now(UTC) - timedelta(hours=1),
            fields={"note": LONG_WORD},
            over_quota=False,
            recorded_by_user_id=manager.id,
        )
    )
    session.commit()
    return {
        "paths": {"artisan": artisan.id, "partner": organisation.slug, "offer": offer.id},
        Role.OFFICER: make_user(Role.OFFICER, region="03", display_name=LONG_WORD[:120]),
        Role.PARTNER_MANAGER: manager,
        Role.ADMIN: make_user(Role.ADMIN, display_name=LONG_WORD[:120]),
    }


PAGES = [
    (Role.OFFICER, "/office/artisans", "backoffice-artisans"),
    (Role.OFFICER, "/office/artisans/{artisan}", "backoffice-artisan"),
    (Role.PARTNER_MANAGER, "/partner/redemptions", "partner-redemptions"),
    (Role.PARTNER_MANAGER, "/partner/", "partner-home"),
    (Role.ADMIN, "/admin/partners", "admin-partners"),
    (Role.ADMIN, "/admin/partners/{partner}", "admin-partner"),
    (Role.ADMIN, "/admin/offers/{offer}", "admin-offer"),
    (Role.ADMIN, "/account", "account"),
]


@pytest.mark.parametrize("size", list(WIDTHS))
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_no_page_is_wider_than_the_screen(browser: Any, live_server: str, wide_data, language: str, size: str):
    """Back-office list and artisan, partner redemptions, admin partners: the document is never wider
    than the viewport, every table's frame is within the screen, and on a desktop every table fits."""
    width = WIDTHS[size]
    context = browser.new_context(locale="fr-MA", viewport={"width": width, "height": 740})
    context.set_default_timeout(10_000)
    page = context.new_page()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for role, path, name in PAGES:
            context.clear_cookies()
            sign_in(page, live_server, wide_data[role].email, language)
            path = path.format(**wide_data["paths"])
            page.goto(f"{live_server}{path}?lang={language}")
            page.screenshot(path=str(ARTIFACTS / f"{name}-{language}-{width}.png"), full_page=True)
            assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
            assert LONG_WORD[:50] in page.content(), path
            scroll_width = page.evaluate("document.documentElement.scrollWidth")
            assert scroll_width <= width, f"{path} is {scroll_width} px wide at {width} px ({language})"
            frames = page.evaluate(
                "[...document.querySelectorAll('.table-wrap')].map(f => [f.getBoundingClientRect().left,"
                " f.getBoundingClientRect().right])"
            )
            assert all(left >= 0 and right <= width for left, right in frames), (path, frames)
            if size == "desktop":  # wide enough for every column: none hidden behind the frame's scroll
                hidden = page.evaluate(
                    "[...document.querySelectorAll('.table-wrap')].filter(f => f.scrollWidth > f.clientWidth).length"
                )
                assert hidden == 0, f"{path}: {hidden} table(s) wider than their frame at {width} px ({language})"
    finally:
        context.close()
