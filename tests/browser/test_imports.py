"""The register import in a real browser at 360 px, in French and in Arabic: a file uploaded and
checked, the report read, and the progress page moved on by its ES module when the work ends
(strict CSP, nothing from another origin). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.fixtures.support import TEST_PASSWORD
from tests.services.register.test_imports import person, write_csv
from webapp.models import ImportFileKind, ImportStatus, Role
from webapp.services.register import import_runs
from webapp.services.scope import Scope
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PHONE_WIDTH = 360
TEXTS = {
    "fr": {"report": "Rapport de vérification", "refused": "Lignes refusées", "dir": "ltr"},
    "ar": {"report": "تقرير التحقق", "refused": "الأسطر المرفوضة", "dir": "rtl"},
}


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    return app_config | {"REGISTER_IMPORT_DIR": str(tmp_path / "imports")}


def sign_in(page: Any, live_server: str, email: str, language: str) -> None:
    page.goto(f"{live_server}/login?lang={language}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_upload_then_progress_then_report(
    app: Any,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    session: Any,
    make_user: Any,
    tmp_path: Any,
    language: str,
) -> None:
    """An officer uploads a file and reads its check report; a run in progress shows a progress bar
    that the page's script replaces by the report once the run is checked."""
    texts = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    sign_in(page, live_server, officer.email, language)

    page.goto(f"{live_server}/office/imports?lang={language}")
    expect(page.locator("html")).to_have_attribute("dir", texts["dir"])
    path = write_csv(tmp_path / "fes.csv", [person(1), person(2, cin="12")], delimiter=";")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("h1")).to_have_text(texts["report"], timeout=30_000)
    expect(page.locator("#problems-title")).to_have_text(texts["refused"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import-report-{language}.png"), full_page=True)

    run = import_runs.start_run(
        session,
        officer,
        Scope(region_code="03"),
        file_name="fes.csv",
        stored_name=f"wait-{language}.csv",
        kind=ImportFileKind.CSV,
        size=10,
    )
    run.rows_done, run.rows_total = 1_000, 4_000
    session.commit()
    page.goto(f"{live_server}/office/imports/{run.id}?lang={language}")
    expect(page.locator("progress")).to_have_attribute("value", "1000")
    page.screenshot(path=str(ARTIFACTS / f"import-progress-{language}.png"), full_page=True)
    run.rows_done = 3_000
    session.commit()
    expect(page.locator("progress")).to_have_attribute("value", "3000")  # moved by the script
    run.status, run.rows, run.created = ImportStatus.CHECKED, 4_000, 4_000
    session.commit()
    expect(page.locator("h1")).to_have_text(texts["report"])  # the script opened the report
    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []
