"""Print batches in a real browser, on a 360 px phone, in French and in Arabic: an officer counts
their region's new cards, prepares the batch (rendered at once: immediate jobs), downloads the
manifest, marks the batch sent to the printer, and finds it in the card's print history.
Screenshots of each step go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_backoffice import ARTIFACTS, assert_no_page_problems
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role

TEXTS = {
    "fr": {
        "direction": "ltr",
        "new": "Nouveau lot",
        "count": "Compter les cartes",
        "would_hold": "Ce lot contiendrait 3 cartes.",
        "prepare": "Préparer le lot de 3 cartes",
        "manifest": "Bordereau (CSV)",
        "sent": "Marquer comme envoyé à l'imprimeur",
        "at_printer": "Chez l'imprimeur",
        "history": "Historique d'impression",
        "again": "Fabriquer les fichiers à nouveau",
    },
    "ar": {
        "direction": "rtl",
        "new": "دفعة جديدة",
        "count": "عدّ البطاقات",
        "would_hold": "ستضم هذه الدفعة 3 بطاقات.",
        "prepare": "إعداد دفعة من 3 بطاقات",
        "manifest": "البيان (CSV)",
        "sent": "تسجيل الإرسال إلى المطبعة",
        "at_printer": "في المطبعة",
        "history": "سجل الطباعة",
        "again": "إعادة إنشاء الملفات",
    },
}


class Shots:
    def __init__(self, page: Any, language: str) -> None:
        self.page, self.language, self.count = page, language, 0

    def shot(self, name: str) -> None:
        expect(self.page.locator("html")).to_have_attribute("dir", TEXTS[self.language]["direction"])
        self.count += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"print-{self.language}-{self.count:02d}-{name}.png"), full_page=True)
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name}: the page is {width} px wide"


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_prepares_a_batch_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    make_user: Any,
    make_card: Any,
    make_artisan: Any,
    language: str,
) -> None:
    """Count -> prepare (rendered) -> download the manifest -> sent to the printer -> print history."""
    words = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    cards = [
        make_card(make_artisan(address_line="12 Derb Sidi Ahmed", postal_code="30110", city="Fès")),
        make_card(make_artisan(first_name_latin="Youssef", first_name_ar="يوسف")),
        make_card(make_artisan(first_name_latin="Fatima Zahra", first_name_ar="فاطمة الزهراء")),
    ]
    make_card(make_artisan(region_code="04"))  # another region's: never counted
    shots = Shots(page, language)

    page.goto(f"{live_server}/login?lang={language}&next=/office/print-batches")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{live_server}/office/print-batches")
    shots.shot("empty-list")

    page.get_by_role("link", name=words["new"]).click()
    shots.shot("new")
    page.get_by_role("button", name=words["count"]).click()
    expect(page.locator("[role=status] strong")).to_have_text(words["would_hold"])
    shots.shot("counted")
    page.get_by_role("button", name=words["prepare"]).click()
    expect(page.get_by_role("link", name=words["manifest"])).to_be_visible()
    shots.shot("batch-rendered")

    with page.expect_download() as download:
        page.get_by_role("link", name=words["manifest"]).click()
    manifest = download.value.path().read_text(encoding="utf-8-sig")
    assert manifest.count("\n") == 4 and all(card.number in manifest for card in cards)

    page.get_by_role("button", name=words["sent"]).click()
    expect(page.locator(".badge").first).to_have_text(words["at_printer"])
    shots.shot("sent")

    page.goto(f"{live_server}/office/print-batches")
    shots.shot("list")
    page.goto(f"{live_server}/office/artisans/{cards[0].artisan_id}")
    expect(page.get_by_role("heading", name=words["history"])).to_be_visible()
    page.get_by_role("heading", name=words["history"]).scroll_into_view_if_needed()
    shots.shot("artisan-history")
    assert_no_page_problems(page, page_problems)
    assert foreign_requests == []


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_batch_whose_rendering_failed_is_rendered_again_on_a_phone(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    session: Any,
    make_user: Any,
    make_card: Any,
    language: str,
) -> None:
    """A batch whose job failed says so and offers to render it again; one tap renders the files."""
    from webapp.models import Job, JobState
    from webapp.services.audit import Actor
    from webapp.services.printing import batches
    from webapp.services.scope import Scope

    words = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    make_card()
    wanted = batches.BatchRequest(kind=batches.SelectionKind.NEW, region_code=None, numbers=(), limit=None)
    batch, _plan = batches.prepare_batch(session, wanted, Scope(region_code="03"), Actor("test:officer"))
    failed = Job(
        kind=batches.JOB_KIND,
        state=JobState.FAILED,
        actor_label="test:officer",
        region_code="03",
        params={"batch_id": batch.id},
        parts_done=0,
        done=0,
        cancel_requested=False,
        attempts=1,
        error_code="error",
        error=["The work stopped on an unexpected error.", {}],
    )
    session.add(failed)
    session.flush()
    batch.job_id = failed.id
    session.commit()
    shots = Shots(page, language)

    page.goto(f"{live_server}/login?lang={language}&next=/office/print-batches/{batch.id}")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    page.click("main button[type=submit]")
    again = page.get_by_role("button", name=words["again"])
    expect(again).to_be_visible()
    shots.shot("render-again")
    again.click()
    expect(page.get_by_role("link", name=words["manifest"])).to_be_visible()
    assert_no_page_problems(page, page_problems)
