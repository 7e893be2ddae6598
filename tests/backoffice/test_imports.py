"""The back office's import screens: upload, the dry run's report (with each update's changes),
confirmation (strict or not), progress as JSON (from the job), cancel, an interrupted import said
honestly and started again, the full problem and change reports, templates and exports; who may use
them. Jobs run in immediate mode: a check or an import has run when the request that submitted it
answers."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.fixtures.imports import stored_upload
from tests.fixtures.support import csrf_token_from
from tests.services.register.test_imports import person, write_csv, write_xlsx
from webapp.models import Artisan, ImportFileKind, ImportRun, ImportStatus, Job, JobState, Role, utcnow
from webapp.services.register import import_runs
from webapp.services.register.artisan_fields import FIELDS
from webapp.services.register.exports import EXPORT_COLUMNS
from webapp.services.scope import Scope


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, region="03")


@pytest.fixture
def signed_in(client, auth, officer):
    """The client signed in as an officer of region 03."""
    assert auth.login(officer).status_code == 302
    return client


def uploads(tmp_path: Path) -> list[Path]:
    """The files kept in the job storage's imports/ (JOB_FILES_DIR is the test's files/)."""
    return sorted((tmp_path / "files" / "imports").glob("*"))


def upload(client, path: Path, name: str | None = None, lang: str = "en"):
    token = csrf_token_from(client.get(f"/office/imports?lang={lang}").get_data(as_text=True))
    with path.open("rb") as handle:
        return client.post(
            "/office/imports",
            data={"csrf_token": token, "file": (handle, name or path.name)},
            content_type="multipart/form-data",
        )


def run_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def confirm(client, run_id: int, strict: bool = False):
    token = csrf_token_from(client.get("/office/imports").get_data(as_text=True))
    data = {"csrf_token": token} | ({"strict": "y"} if strict else {})
    return client.post(f"/office/imports/{run_id}/confirm", data=data)


def count_artisans(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Artisan)) or 0


def test_upload_check_confirm_import(app, signed_in, session, tmp_path):
    """A file is checked first (nothing written, a report with counts), then imported on confirmation;
    the uploaded file is deleted once imported."""
    path = write_csv(tmp_path / "fes.csv", [person(1), person(2)], delimiter=";", encoding="utf-8-sig")
    run_id = run_of(upload(signed_in, path))
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "Check report" in page and "Import 2 artisans" in page and "new artisans to register" in page
    assert count_artisans(session) == 0
    assert run_of(confirm(signed_in, run_id)) == run_id
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "The import is done." in page and "artisans registered" in page
    assert count_artisans(session) == 2
    folder = tmp_path / "files" / "imports"
    assert uploads(tmp_path) == [folder / f"run-{run_id}-changes.csv", folder / f"run-{run_id}-problems.csv"]
    run = session.get(ImportRun, run_id)
    assert (run.status, run.created, run.stored_name) == (ImportStatus.IMPORTED, 2, None)


def test_the_report_names_each_refused_row_in_the_readers_language(app, signed_in, tmp_path):
    """The report's table shows line, column and reason, in French here; the full report (CSV)
    lists every problem, translated too."""
    rows = [person(1), person(2, cin="12"), person(1, cin="ZZ1")]
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "fes.csv", rows), lang="fr"))
    page = signed_in.get(f"/office/imports/{run_id}?lang=fr").get_data(as_text=True)
    assert "Lignes refusées" in page
    assert '<code class="column-name">cin</code>' in page
    assert "Le même numéro RNA qu’à la ligne \u20682\u2069." in page
    report = signed_in.get(f"/office/imports/{run_id}/problems.csv?lang=fr")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["Ligne", "Colonne", "Problème"]
    assert [line[:2] for line in lines[1:]] == [["3", "cin"], ["4", "rna_number"]]


def test_a_strict_import_writes_nothing_when_a_row_is_refused(app, signed_in, session, tmp_path):
    """Confirming strictly a file with a refused row writes nothing, and the report says so."""
    rows = [person(1), person(2, birth_date="soon")]
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "fes.csv", rows)))
    confirm(signed_in, run_id, strict=True)
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "Strict import: a row was refused, so nothing at all was written." in page
    assert count_artisans(session) == 0


def test_an_xlsx_with_a_formula_is_reported_on_its_cell(app, signed_in, tmp_path):
    """A formula cell of a workbook is named in the report, never evaluated or stored."""
    bad = [person(2)[name] for name in FIELDS]
    bad[FIELDS.index("province")] = "=1+1"
    path = write_xlsx(tmp_path / "fes.xlsx", [[person(1)[name] for name in FIELDS], bad])
    run_id = run_of(upload(signed_in, path))
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "A formula is not accepted: type the value itself." in page


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.csv", "neither a CSV file nor an Excel workbook"),
        (b"rna_number,cin\n", "register.txt", "A CSV file or an Excel workbook (.xlsx)."),
        (b"", "empty.csv", "The file is empty"),
    ],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(signed_in, session, tmp_path, content, name, message):
    """Refused at once on the upload form (422): no run, no file kept."""
    path = tmp_path / name
    path.write_bytes(content)
    response = upload(signed_in, path)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0
    assert uploads(tmp_path) == []


def test_wrong_columns_end_the_check_with_one_problem(app, signed_in, tmp_path):
    """A header that does not match the template: the run says which columns, and nothing else."""
    path = tmp_path / "fes.csv"
    path.write_text("nom;prénom\nKhadija;Bennani\n", encoding="utf-8")
    run_id = run_of(upload(signed_in, path))
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "The file was refused before any row was read." in page
    assert "missing columns \u2068cin, first_name_latin" in page and "rna_number" not in page
    assert "unknown columns \u2068nom, prénom\u2069" in page
    assert "Confirm the import" not in page


def test_an_oversized_upload_is_refused_with_the_limit(make_app, app_config, officer, tmp_path):
    """Over the limit: the body is refused unread (413) on the upload page with the limit; a file
    just over it (inside the request's margin) is refused by the form (422)."""
    small = make_app(REGISTER_IMPORT_MAX_BYTES=2048)
    client = small.test_client()
    from tests.fixtures.auth import AuthActions

    assert AuthActions(client).login(officer).status_code == 302
    huge = write_csv(tmp_path / "huge.csv", [person(serial) for serial in range(1, 2000)])
    response = upload(client, huge)
    assert response.status_code == 413
    assert "The file is larger than 0 MB" not in response.get_data(as_text=True)
    assert "Send a file" in response.get_data(as_text=True)
    just_over = write_csv(tmp_path / "over.csv", [person(serial) for serial in range(1, 20)])
    assert 2048 < just_over.stat().st_size < 60_000
    response = upload(client, just_over)
    assert response.status_code == 422 and "The file is larger than" in response.get_data(as_text=True)


def waiting_run(session, officer, **job_values) -> ImportRun:
    """A run being checked, its job running with the given values (no file: nothing runs)."""
    run = import_runs.start_run(
        session,
        officer,
        Scope(region_code="03"),
        file_name="fes.csv",
        stored_name=f"{len(job_values)}-{utcnow().timestamp()}.csv",
        kind=ImportFileKind.CSV,
        size=10,
    )
    job = Job(
        kind=import_runs.KIND,
        state=JobState.RUNNING,
        actor_label=f"user:{officer.id}",
        user_id=officer.id,
        region_code="03",
        params={"run_id": run.id, "mode": "dry_run"},
        started_at=utcnow(),
        heartbeat_at=utcnow(),
    )
    for name, value in job_values.items():
        setattr(job, name, value)
    session.add(job)
    session.flush()
    run.job_id = job.id
    session.commit()
    return run


def test_progress_is_json_while_the_work_runs(signed_in, session, officer):
    """The status route answers the run's state, rows done and total (read from its job), and a
    text for people."""
    run = waiting_run(session, officer, done=4000, total=622000)
    response = signed_in.get(f"/office/imports/{run.id}/status?lang=en")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "checking",
        "finished": False,
        "url": f"/office/imports/{run.id}",
        "rows_done": 4000,
        "rows_total": 622000,
        "percent": 0,
        "text": "4,000 of about 622,000 rows",
    }
    page = signed_in.get(f"/office/imports/{run.id}").get_data(as_text=True)
    assert 'src="/static/js/backoffice/import-progress.js"' in page and "<script>" not in page
    assert f'action="/office/imports/{run.id}/cancel"' in page


def test_a_queued_run_says_it_waits_for_a_worker(signed_in, session, officer):
    """A job no worker has taken yet: the progress text says so."""
    run = waiting_run(session, officer, state=JobState.QUEUED, started_at=None, heartbeat_at=None)
    state = signed_in.get(f"/office/imports/{run.id}/status?lang=en").get_json()
    assert state["finished"] is False and state["text"] == "Waiting for a job worker to start the work…"


def test_a_run_whose_worker_ended_is_marked_interrupted(signed_in, session, officer):
    """A run whose job's heartbeat has not moved for minutes was interrupted: it says so, and that
    nothing was written (it was checking)."""
    run = waiting_run(session, officer, heartbeat_at=utcnow() - timedelta(minutes=10))
    state = signed_in.get(f"/office/imports/{run.id}/status").get_json()
    assert state["finished"] is True and state["status"] == "interrupted"
    page = signed_in.get(f"/office/imports/{run.id}?lang=en").get_data(as_text=True)
    assert "stopped before its end" in page and "Nothing was written to the register." in page
    session.expire_all()
    assert session.get(Job, run.job_id).state == JobState.INTERRUPTED


def test_a_running_check_can_be_stopped(signed_in, session, officer):
    """Stopping a check in progress asks its job to cancel (it stops at its next batch)."""
    run = waiting_run(session, officer, done=2000, total=10000)
    token = csrf_token_from(signed_in.get(f"/office/imports/{run.id}").get_data(as_text=True))
    response = signed_in.post(f"/office/imports/{run.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == f"/office/imports/{run.id}"
    session.expire_all()
    assert session.get(Job, run.job_id).cancel_requested is True


def test_the_check_shows_what_each_update_changes(app, signed_in, session, tmp_path):
    """The check's report lists each artisan it would update with each field's value before and
    after (labels and values in the reader's language); every change is in the CSV download."""
    first = [person(1), person(2), person(3)]
    run_of(upload(signed_in, write_csv(tmp_path / "first.csv", first)))
    confirm(signed_in, session.scalar(select(func.max(ImportRun.id))))
    changed = [person(1, phone="0700000000", gender="male"), person(2), person(3, programmes="EXPORT")]
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "second.csv", changed), lang="fr"))
    page = signed_in.get(f"/office/imports/{run_id}?lang=fr").get_data(as_text=True)
    assert "Ce qui change" in page and "RNA-03-0000001" in page and "RNA-03-0000003" in page
    assert "RNA-03-0000002" not in page
    assert "<del><bdi>Femme</bdi></del>" in page and "<ins><bdi>Homme</bdi></ins>" in page
    assert "<del><bdi>+212612345678</bdi></del>" in page and "<ins><bdi>+212700000000</bdi></ins>" in page
    report = signed_in.get(f"/office/imports/{run_id}/changes.csv?lang=fr")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(report.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0] == ["Ligne", "Numéro RNA", "Nom", "Colonne", "Avant", "Après"]
    assert lines[1:] == [
        ["2", "RNA-03-0000001", "Khadija Bennani", "gender", "female", "male"],
        ["2", "RNA-03-0000001", "Khadija Bennani", "phone", "+212612345678", "+212700000000"],
        ["4", "RNA-03-0000003", "Khadija Bennani", "programmes", "EXCELLENCE;WOMEN", "EXPORT"],
    ]
    arabic = signed_in.get(f"/office/imports/{run_id}?lang=ar").get_data(as_text=True)
    assert '<span aria-hidden="true">←</span>' in arabic


def test_cancel_deletes_the_file(app, signed_in, session, tmp_path):
    """Cancelling a checked file deletes it; it can no longer be confirmed."""
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "fes.csv", [person(1)])))
    stored = tmp_path / "files" / "imports" / session.get(ImportRun, run_id).stored_name
    assert stored.exists()
    token = csrf_token_from(signed_in.get(f"/office/imports/{run_id}").get_data(as_text=True))
    assert signed_in.post(f"/office/imports/{run_id}/cancel", data={"csrf_token": token}).status_code == 302
    assert not stored.exists()
    response = confirm(signed_in, run_id)
    assert response.status_code == 302
    assert "no longer waiting" in signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert count_artisans(session) == 0


def test_an_officer_sees_only_their_regions_runs(app, client, auth, signed_in, make_user, tmp_path):
    """Another region's officer gets 404 on every route of a run (its existence is not disclosed);
    an administrator sees it."""
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "fes.csv", [person(1)])))
    auth.logout()
    auth.login(make_user(Role.OFFICER, region="05"))
    token = csrf_token_from(client.get("/office/imports").get_data(as_text=True))
    for url in (
        f"/office/imports/{run_id}",
        f"/office/imports/{run_id}/status",
        f"/office/imports/{run_id}/problems.csv",
        f"/office/imports/{run_id}/changes.csv",
    ):
        assert client.get(url).status_code == 404
    for action in ("confirm", "again", "cancel"):
        assert client.post(f"/office/imports/{run_id}/{action}", data={"csrf_token": token}).status_code == 404
    auth.logout()
    auth.login(make_user(Role.ADMIN))
    assert client.get(f"/office/imports/{run_id}").status_code == 200


def test_an_officer_import_refuses_another_regions_rows(app, signed_in, tmp_path):
    """Rows of another region are refused in an officer's check, with their region named."""
    run_id = run_of(
        upload(
            signed_in,
            write_csv(
                tmp_path / "fes.csv",
                [person(1), person(2, region_code="06", rna_number="RNA-06-0000002", province="Casablanca")],
            ),
        )
    )
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "You may import only artisans of your region (\u2068Fez-Meknes\u2069)." in page


@pytest.mark.parametrize(("language", "name"), [("fr", "Fès-Meknès"), ("ar", "فاس مكناس")])
def test_the_region_refusal_names_the_region_in_the_readers_language(signed_in, session, tmp_path, language, name):
    """The refusal of another region's row names the officer's region in the reader's language,
    isolated on the page so its parentheses stay put in Arabic; the full report (CSV) names it
    too, without isolates; the run keeps the code."""
    rows = [person(1), person(2, region_code="06", rna_number="RNA-06-0000002", province="Casablanca")]
    run_id = run_of(upload(signed_in, write_csv(tmp_path / "fes.csv", rows), lang=language))
    page = signed_in.get(f"/office/imports/{run_id}?lang={language}").get_data(as_text=True)
    assert f"(\u2068{name}\u2069)" in page and "(03)" not in page and "\u206803\u2069" not in page
    report = signed_in.get(f"/office/imports/{run_id}/problems.csv?lang={language}").get_data(as_text=True)
    assert f"({name})" in report and "\u2068" not in report
    session.expire_all()
    stored = session.get(ImportRun, run_id).problems["rows"]
    assert [params for _line, _column, _message, params in stored] == [{"region": "03"}]


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_templates_download(signed_in, extension):
    """The template as CSV (UTF-8 with BOM, the columns first) or as an Excel workbook."""
    response = signed_in.get(f"/office/imports/template.{extension}")
    assert response.status_code == 200
    data = response.get_data()
    if extension == "csv":
        assert data.startswith(b"\xef\xbb\xbf" + ",".join(FIELDS).encode())
    else:
        assert data.startswith(b"PK\x03\x04")


def export(client, extension: str, query: str = "", data: dict | None = None):
    """Ask for an export as the list's buttons do: a POST (CSRF) with the filters in the URL."""
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(f"/office/exports/artisans.{extension}{query}", data={"csrf_token": token, **(data or {})})


def export_job(client, extension: str, query: str = "", data: dict | None = None) -> int:
    """The job an export request started (it ran at once: the tests' queue is immediate)."""
    response = export(client, extension, query, data)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    assert location.startswith("/office/jobs/"), location
    return int(location.rsplit("/", 1)[1])


def test_the_export_keeps_an_officer_to_their_region(signed_in, session, make_artisan):
    """An officer's export lists their region's artisans only, even when asking for another region;
    Arabic reaches Excel intact (BOM) and formula cells are neutralised."""
    mine = make_artisan(region_code="03", first_name_ar="زينب", province="=HYPERLINK(1)")
    make_artisan(region_code="05")
    session.commit()
    job_id = export_job(signed_in, "csv")
    response = signed_in.get(f"/office/jobs/{job_id}/download")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    text = response.get_data().decode("utf-8")
    response.close()  # the job's file, sent by send_file: the client closes it
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == list(EXPORT_COLUMNS) and [row[0] for row in rows[1:]] == [mine.rna_number]
    assert "زينب" in rows[1] and "'=HYPERLINK(1)" in rows[1]
    assert export(signed_in, "csv", "?region=05").status_code == 400  # not a choice for them
    assert export(signed_in, "csv", data={"region": "05"}).status_code == 400  # nor in the import page's form
    xlsx = signed_in.get(f"/office/jobs/{export_job(signed_in, 'xlsx', '?card=none')}/download")
    assert xlsx.status_code == 200 and xlsx.get_data().startswith(b"PK\x03\x04")
    xlsx.close()


def test_an_export_is_asked_with_a_post_and_its_csrf_token(signed_in, session):
    """Asking for an export starts work: a bare POST is refused, and so is a GET (the old link)."""
    assert signed_in.post("/office/exports/artisans.csv").status_code == 400
    assert signed_in.get("/office/exports/artisans.csv").status_code == 405
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_an_upload_without_its_csrf_token_is_refused(signed_in, tmp_path):
    """The upload form carries a CSRF token like every form."""
    path = write_csv(tmp_path / "fes.csv", [person(1)])
    with path.open("rb") as handle:
        response = signed_in.post(
            "/office/imports", data={"file": (handle, "fes.csv")}, content_type="multipart/form-data"
        )
    assert response.status_code == 400


@pytest.mark.parametrize("role", [Role.PARTNER_MANAGER, Role.PARTNER_AGENT, Role.ARTISAN])
def test_people_outside_the_chambers_are_turned_away(client, auth, make_user, role):
    """Partner staff and artisans get 403 on the import and export routes."""
    auth.login(make_user(role))
    for url in ("/office/imports", "/office/imports/template.csv"):
        assert client.get(url).status_code == 403
    assert export(client, "csv").status_code == 403


def test_anonymous_people_are_sent_to_sign_in(client):
    """Without a session, the import pages lead to the login page."""
    response = client.get("/office/imports")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_exports_have_no_cap_any_more(signed_in, session, make_artisan):
    """Exports are jobs: the per-format caps of a download made within one request are gone, and a
    list chosen by its filters is exported whole (the import page's form posts its filters)."""
    from webapp.backoffice import imports as views

    assert not hasattr(views, "WEB_EXPORT_LIMITS")
    for _ in range(3):
        make_artisan(region_code="03")
    session.commit()
    job_id = export_job(signed_in, "csv", data={"trade": "ZEL", "card": "none"})
    session.expire_all()
    job = session.get(Job, job_id)
    assert job.state == JobState.DONE and job.done == job.total == 3
    assert job.params == {"format": "csv", "filters": {"card": "none", "trade": "ZEL"}}
    nothing = session.get(Job, export_job(signed_in, "xlsx", "?trade=POT"))  # none chosen: a header only
    assert nothing.state == JobState.DONE and nothing.total == 0


def test_a_double_click_on_export_makes_one_job(signed_in, session, officer, make_job):
    """The same export asked again while the first is still queued (a double click) leads to that
    job; another format is another job."""
    from webapp.services.jobs import exports as export_jobs

    params = export_jobs.export_params("csv", {"trade": "ZEL"})
    first = make_job(
        session,
        kind=export_jobs.NAME,
        state=JobState.QUEUED,
        region_code="03",
        user_id=officer.id,
        params=params,
        dedupe_key=export_jobs.export_dedupe_key(officer.id, "03", params),
    )
    session.commit()
    assert export_job(signed_in, "csv", "?trade=ZEL") == first.id
    assert export_job(signed_in, "csv", data={"trade": "ZEL"}) == first.id
    other = export_job(signed_in, "xlsx", "?trade=ZEL")
    assert other != first.id
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Job)) == 2


def test_the_list_offers_its_export_as_a_form_with_its_filters(signed_in, session, make_artisan):
    """The artisans list's export buttons post (CSRF) to the export with the list's filters."""
    make_artisan(region_code="03")
    session.commit()
    page = signed_in.get("/office/artisans?trade=ZEL&lang=en").get_data(as_text=True)
    assert 'formaction="/office/exports/artisans.csv?trade=ZEL"' in page
    assert 'formaction="/office/exports/artisans.xlsx?trade=ZEL"' in page
    assert 'name="csrf_token"' in page


def test_an_interrupted_import_says_what_it_wrote_and_imports_again(app, signed_in, session, officer, tmp_path):
    """A worker killed mid-import: once its job is found stale, the report says how many rows were
    written (which lines, created, updated) and offers to import the kept file again; doing so
    completes the register with no duplicate."""
    from tests.services.jobs.test_register_import import WorkerKilled, die_after, many
    from webapp.services.audit import Actor

    # Through the storage, not the upload form: the test client spools a large form to a file it
    # never closes.
    path = write_csv(tmp_path / "fes.csv", many())
    run = stored_upload(session, officer, app.extensions["jobs"].storage, path)
    import_runs.submit_work(session, run, Actor(f"user:{officer.id}", officer.id))
    session.commit()
    session.refresh(run)
    run_id = run.id
    with pytest.MonkeyPatch.context() as patch:
        die_after(patch, 4_000)
        with pytest.raises(WorkerKilled):
            import_runs.confirm_run(session, run, Actor(f"user:{officer.id}", officer.id), strict=False)
            session.commit()
    session.close()
    job = session.get(Job, session.get(ImportRun, run_id).job_id)
    job.heartbeat_at = utcnow() - timedelta(minutes=10)
    session.commit()
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "Interrupted" in page and "stopped before its end" in page
    assert (
        "Stopped after 4,000 rows of the file (lines 2 to 4,001): 4,000 artisans registered and 0 updated "
        "are written (0 already up to date, 0 refused). The rows after line 4,001 were not imported."
    ) in page
    assert f'action="/office/imports/{run_id}/again"' in page
    token = csrf_token_from(page)
    assert signed_in.post(f"/office/imports/{run_id}/again", data={"csrf_token": token}).status_code == 302
    page = signed_in.get(f"/office/imports/{run_id}?lang=en").get_data(as_text=True)
    assert "The import is done." in page
    assert count_artisans(session) == 5_000
    assert session.scalar(select(func.count(func.distinct(Artisan.rna_number)))) == 5_000


@pytest.mark.parametrize(("language", "name"), [("fr", "Fès-Meknès"), ("ar", "فاس مكناس")])
def test_the_officers_region_is_named_not_coded(signed_in, language, name):
    """ "An officer of the region Fès-Meknès", never "of region 03"."""
    page = signed_in.get(f"/office/imports?lang={language}").get_data(as_text=True)
    help_text = page[page.index('<p class="help">') :]
    help_text = help_text[: help_text.index("</p>")]
    assert name in help_text and "03" not in help_text
