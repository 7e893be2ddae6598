"""The back office's job screens in a real browser at 360 px, in French and in Arabic: the list, a
running job whose bar the page's ES module moves and which shows its file when done, a job whose
file has expired, a failed one (strict CSP, nothing from another origin, no sideways scrolling).
Screenshots go to tests/artifacts/jobs-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.browser.test_imports import sign_in
from webapp.models import JobState, Role, utcnow
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PHONE_WIDTH = 360
TEXTS = {
    "fr": {"dir": "ltr", "title": "Traitements", "download": "Télécharger", "deleted": "supprimé après 7 jours"},
    "ar": {"dir": "rtl", "title": "المعالجات", "download": "تنزيل", "deleted": "7 أيام"},
}


def shoot(page: Any, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH, name
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_job_screens_at_phone_width(
    app: Any,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    session: Any,
    make_user: Any,
    make_job: Any,
    make_artisan: Any,
    language: str,
) -> None:
    """The list, a running export moved on by the script until its file is offered, an expired
    file and a failure, each readable at 360 px."""
    texts = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03", display_name="Samira Bennani")
    storage = app.extensions["jobs"].storage
    mine = {"kind": "register_export", "region_code": "03", "user_id": officer.id, "actor_label": f"user:{officer.id}"}
    finished = utcnow() - timedelta(days=8)
    expired = make_job(
        session,
        **mine,
        state=JobState.DONE,
        done=622_000,
        total=622_000,
        started_at=finished - timedelta(minutes=4),
        created_at=finished - timedelta(minutes=4),
        finished_at=finished,
        result_file="jobs/expired/register-03-2026-11-29.xlsx",
        result_name="register-03-2026-11-29.xlsx",
        result_expires_at=finished + timedelta(days=7),
        summary={"rows": 622_000, "format": "xlsx"},
    )
    failed = make_job(
        session,
        **mine,
        state=JobState.FAILED,
        done=12_000,
        total=40_000,
        finished_at=utcnow(),
        error_code="error",
        error=None,
    )
    running = make_job(session, **mine, state=JobState.RUNNING, done=12_000, total=48_000)
    session.commit()
    sign_in(page, live_server, officer.email, language)

    page.goto(f"{live_server}/office/jobs?lang={language}")
    expect(page.locator("html")).to_have_attribute("dir", texts["dir"])
    expect(page.locator("h1")).to_have_text(texts["title"])
    shoot(page, f"jobs-list-{language}")

    page.goto(f"{live_server}/office/jobs/{running.id}?lang={language}")
    expect(page.locator("progress")).to_have_attribute("value", "12000")
    shoot(page, f"jobs-running-{language}")
    running.done = 30_000
    session.commit()
    expect(page.locator("progress")).to_have_attribute("value", "30000")  # moved by the script
    key = f"jobs/{running.id}/register-03-2026-12-07.xlsx"
    with storage.writer(key) as target:
        target.write(b"PK\x03\x04" + b"\0" * 150_000)
    running.state, running.done, running.finished_at = JobState.DONE, 48_000, utcnow()
    running.result_file, running.result_name = key, "register-03-2026-12-07.xlsx"
    running.result_expires_at = running.finished_at + timedelta(days=7)
    running.summary = {"rows": 48_000, "format": "xlsx"}
    session.commit()
    expect(page.locator("a.button[download]")).to_have_text(texts["download"])  # the page reloaded
    shoot(page, f"jobs-done-{language}")

    page.goto(f"{live_server}/office/jobs/{expired.id}?lang={language}")
    expect(page.locator(".job-result")).to_contain_text(texts["deleted"])
    shoot(page, f"jobs-expired-{language}")

    page.goto(f"{live_server}/office/jobs/{failed.id}?lang={language}")
    expect(page.locator(".flash-error")).to_be_visible()
    shoot(page, f"jobs-failed-{language}")

    # An export asked from the artisans list: the job runs at once (the tests' queue), and its page
    # offers the file.
    make_artisan(region_code="03")
    session.commit()
    page.goto(f"{live_server}/office/artisans?lang={language}")
    shoot(page, f"jobs-export-buttons-{language}")
    page.click("form.export-actions button >> nth=1")  # Excel
    page.wait_for_url(lambda url: "/office/jobs/" in url)
    expect(page.locator("a.button[download]")).to_have_text(texts["download"])
    expect(page.locator(".job-result")).to_contain_text(".xlsx")

    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []
