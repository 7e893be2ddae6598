"""A lost card in a real browser, on a 360 px phone, in French and in Arabic: the artisan reports it
lost at /card/requests, the card is suspended at once (the verify API says so for its QR text), and
an officer of the region sees the task on the dashboard and in the list, takes it and closes it; the
artisan then reads the state. Screenshots of each step go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role
from webapp.services.cards.tokens import qr_text
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
TEXTS = {
    "fr": {
        "direction": "ltr",
        "lost": "J’ai perdu ma carte",
        "confirm": "Suspendre ma carte maintenant",
        "suspended": "Votre carte est suspendue",
        "waiting": "En attente de la chambre",
        "task": "Carte déclarée perdue",
        "take": "Je m’en occupe",
        "close": "Clore la tâche",
        "closed": "La tâche est close.",
        "done": "Traitée",
    },
    "ar": {
        "direction": "rtl",
        "lost": "ضاعت بطاقتي",
        "confirm": "أوقف بطاقتي الآن",
        "suspended": "بطاقتك موقوفة",
        "waiting": "في انتظار الغرفة",
        "task": "بطاقة مُبلَّغ عن ضياعها",
        "take": "أتولى معالجتها",
        "close": "إغلاق المهمة",
        "closed": "أُغلقت المهمة.",
        "done": "مُنجز",
    },
}


class Shots:
    def __init__(self, page: Any, language: str) -> None:
        self.page, self.language, self.count = page, language, 0

    def take(self, name: str) -> None:
        expect(self.page.locator("html")).to_have_attribute("dir", TEXTS[self.language]["direction"])
        self.count += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"card-requests-{self.language}-{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name}: the page is {width} px wide"


def sign_in(page: Any, live_server: str, user: Any, language: str, next_url: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server}/login?lang={language}&next={next_url}")
    page.fill("#email", user.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server}{next_url}")


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_lost_card_is_suspended_and_the_officer_handles_the_task(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_user: Any,
    make_card: Any,
    make_artisan: Any,
    language: str,
) -> None:
    """Artisan: report lost -> suspended (verify API) -> officer: dashboard count, list, take, close
    -> artisan: done."""
    words = TEXTS[language]
    card = make_card(make_artisan(region_code="03", phone="0612345678"))
    artisan = make_user(Role.ARTISAN, artisan=card.artisan)
    officer = make_user(Role.OFFICER, region="03")
    shots = Shots(page, language)

    sign_in(page, live_server, artisan, language, "/card/requests/")
    shots.take("requests")
    page.get_by_role("link", name=words["lost"]).click()
    shots.take("lost-confirm")
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.locator(".flash-success")).to_contain_text(words["suspended"])
    expect(page.locator(".request-list")).to_contain_text(words["waiting"])
    shots.take("lost-reported")
    answer = page.request.post(
        f"{live_server}/api/v1/verify",
        data=json.dumps({"qr": qr_text(live_server, card.token)}),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200 and answer.json()["verdict"] == "suspended"

    sign_in(page, live_server, officer, language, "/office/")
    expect(page.locator('.tile-links a[href$="/office/requests"] strong')).to_have_text("1")
    page.locator('.tile-links a[href$="/office/requests"]').click()
    shots.take("tasks")
    page.get_by_role("link", name=words["task"]).click()
    shots.take("task")
    page.get_by_role("button", name=words["take"]).click()
    page.check("input[name=outcome][value=done]")
    page.fill("#note", "Nouvelle carte remise le 8 décembre")
    page.get_by_role("button", name=words["close"]).click()
    expect(page.locator(".flash-success")).to_contain_text(words["closed"])
    shots.take("closed")

    sign_in(page, live_server, artisan, language, "/card/requests/")
    expect(page.locator(".request-list")).to_contain_text(words["done"])
    expect(page.locator(".request-list")).to_contain_text("Nouvelle carte remise le 8 décembre")
    shots.take("artisan-done")
    assert foreign_requests == []
    assert_no_page_problems(page, page_problems)
