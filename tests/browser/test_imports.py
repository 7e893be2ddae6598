"""The register import in a real browser at 360 px, in French and in Arabic: a file uploaded and
checked (the job runs in immediate mode), the report read with each update's changes, the progress
page moved on by its ES module as the job moves and when the work ends, and an interrupted import's
report (strict CSP, nothing from another origin). Screenshots go to tests/artifacts/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from tests.fixtures.imports import stored_upload
from tests.fixtures.support import TEST_PASSWORD
from tests.services.register.test_imports import person, write_csv
from webapp.models import ImportFileKind, ImportStatus, JobState, Role, utcnow
from webapp.services.register import import_runs
from webapp.services.scope import Scope
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PHONE_WIDTH = 360
TEXTS = {
    "fr": {
        "report": "Rapport de vérification",
        "refused": "Lignes refusées",
        "changes": "Ce qui change",
        "again": "Importer à nouveau",
        "dir": "ltr",
    },
    "ar": {
        "report": "تقرير التحقق",
        "refused": "الأسطر المرفوضة",
        "changes": "ما سيتغيّر",
        "again": "الاستيراد من جديد",
        "dir": "rtl",
    },
}


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
    make_job: Any,
    tmp_path: Any,
    language: str,
) -> None:
    """An officer uploads a file and reads its check report; a run in progress shows a progress bar
    (its job's) that the page's script moves, then replaces by the report once the run is checked."""
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
    job = make_job(session, import_runs.KIND, region_code="03", params={"run_id": run.id}, done=1_000, total=4_000)
    run.job_id = job.id
    session.commit()
    page.goto(f"{live_server}/office/imports/{run.id}?lang={language}")
    expect(page.locator("progress")).to_have_attribute("value", "1000")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    page.screenshot(path=str(ARTIFACTS / f"import-progress-{language}.png"), full_page=True)
    job.done, job.heartbeat_at = 3_000, utcnow()
    session.commit()
    expect(page.locator("progress")).to_have_attribute("value", "3000")  # moved by the script
    run.status, run.rows, run.created = ImportStatus.CHECKED, 4_000, 4_000
    job.state = JobState.DONE
    session.commit()
    expect(page.locator("h1")).to_have_text(texts["report"])  # the script opened the report
    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_changes_and_an_interrupted_import_at_360_px(
    app: Any,
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    foreign_requests: list[str],
    session: Any,
    make_user: Any,
    make_job: Any,
    tmp_path: Any,
    language: str,
) -> None:
    """The check of a file that changes registered artisans lists each one's fields, old and new,
    stacked on a phone; an interrupted import says what it wrote and offers to import again."""
    texts = TEXTS[language]
    officer = make_user(Role.OFFICER, region="03")
    sign_in(page, live_server, officer.email, language)
    first = [person(1), person(2), person(3, first_name_latin="Mohammed-Amine Abderrahmane")]
    path = write_csv(tmp_path / "first.csv", first)
    page.goto(f"{live_server}/office/imports?lang={language}")
    page.set_input_files("input[type=file]", str(path))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("h1")).to_have_text(texts["report"], timeout=30_000)
    page.click("form[action$='/confirm'] button[type=submit]")
    changed = [
        person(1, phone="0700000000", gender="male", province="Meknès"),
        person(2, first_name_ar="زينب", programmes="EXPORT"),
        person(3, first_name_latin="Mohammed-Amine Abderrahmane", cnss_status="pre_registered", legal_status="company"),
    ]
    page.goto(f"{live_server}/office/imports?lang={language}")
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "second.csv", changed)))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("#changes-title")).to_have_text(texts["changes"], timeout=30_000)
    expect(page.locator(".import-changes > li")).to_have_count(3)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import-changes-{language}.png"), full_page=True)

    storage = app.extensions["jobs"].storage
    run = stored_upload(session, officer, storage, path, file_name="registre-fes.csv")
    job = make_job(
        session,
        import_runs.KIND,
        region_code="03",
        params={"run_id": run.id, "mode": "import"},
        done=44_000,
        total=100_000,
        heartbeat_at=utcnow() - timedelta(minutes=10),
    )
    run.job_id, run.status = job.id, ImportStatus.IMPORTING
    run.rows, run.created, run.updated, run.unchanged, run.last_line, run.written = 44_000, 43_120, 880, 0, 44_001, True
    session.commit()
    page.goto(f"{live_server}/office/imports/{run.id}?lang={language}")
    expect(page.locator("[data-stopped]")).to_contain_text("44")
    expect(page.locator("form[action$='/again'] button")).to_have_text(texts["again"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    page.screenshot(path=str(ARTIFACTS / f"import-interrupted-{language}.png"), full_page=True)
    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []


@pytest.mark.parametrize(("language", "name"), [("fr", "Fès-Meknès"), ("ar", "فاس مكناس")])
def test_the_region_refusal_names_the_region_at_360_px(
    live_server: str,
    page: Any,
    page_problems: PageProblems,
    make_user: Any,
    tmp_path: Any,
    language: str,
    name: str,
) -> None:
    """A row of another region is refused with the officer's region named in the reader's language,
    isolated in its parentheses (no "(03)"), on a phone in French and in Arabic."""
    officer = make_user(Role.OFFICER, region="03")
    sign_in(page, live_server, officer.email, language)
    rows = [person(1), person(2, region_code="06", rna_number="RNA-06-0000002", province="Casablanca")]
    page.goto(f"{live_server}/office/imports?lang={language}")
    numbers_help = page.locator("p.help").filter(has_text="rna_number")
    expect(numbers_help).to_have_count(1)
    numbers_help.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"import-numbers-help-{language}.png"))
    page.set_input_files("input[type=file]", str(write_csv(tmp_path / "fes.csv", rows)))
    page.click("form[enctype] button[type=submit]")
    expect(page.locator("h1")).to_have_text(TEXTS[language]["report"], timeout=30_000)
    refusal = page.locator("main").get_by_text(name).first
    expect(refusal).to_contain_text(f"(\u2068{name}\u2069)")
    assert "(03)" not in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    ARTIFACTS.mkdir(exist_ok=True)
    refusal.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"import-region-refusal-{language}.png"))  # the phone's screen
    assert page_problems.page_errors == [] and page_problems.console_errors == []
