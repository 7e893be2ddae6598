"""The `register_export` job: exactly the rows of the list's filters within the job's region, as CSV
or XLSX in the job storage, with its progress, kept EXPORT_RETENTION_DAYS then purged; no cap."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.fixtures.support import TEST_ACTOR
from webapp.models import Artisan, Job, JobState, utcnow
from webapp.models.search_keys import search_columns
from webapp.services.bulk import bulk_insert
from webapp.services.jobs import exports as export_jobs
from webapp.services.jobs.jobs import purge_expired_files, submit_job
from webapp.services.jobs.kinds import job_kinds
from webapp.services.partners.rules import moroccan_today
from webapp.services.register.exports import EXPORT_COLUMNS


@pytest.fixture
def storage(app):
    return app.extensions["jobs"].storage


def run_export(app, extension: str, filters: dict[str, str], region_code: str | None = "03") -> Job:
    """Submit an export and commit: the tests' queue runs it at once; the job as it ended."""
    database = app.extensions["database"]
    with database.session_scope() as session:
        job_id = submit_job(
            session,
            export_jobs.NAME,
            actor=TEST_ACTOR,
            region_code=region_code,
            params=export_jobs.export_params(extension, filters),
        ).id
    with database.session_scope() as session:
        job = session.get(Job, job_id)
        session.expunge(job)
    return job


def csv_rows(storage, job: Job) -> list[list[str]]:
    with storage.open(job.result_file) as source:
        text = source.read().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def xlsx_rows(storage, job: Job) -> list[list[Any]]:
    workbook = load_workbook(storage.local_path(job.result_file), read_only=True)
    try:
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()


def kept_days(job: Job) -> float:
    """Days between the job's end and its file's expiry (set when the file is done, just before)."""
    return round((job.result_expires_at - job.finished_at).total_seconds() / 86400, 3)


def many_artisans(session, count: int, region_code: str = "03", trade_code: str = "ZEL") -> list[str]:
    """`count` artisans inserted in bulk (a few statements): their RNA numbers, in id order."""
    rows = []
    for serial in range(count):
        row = {
            "rna_number": f"RNA-B-{region_code}{trade_code}{serial:07d}",
            "cin": f"B{region_code}{serial:07d}"[:12],
            "first_name_latin": "Fatima",
            "last_name_latin": "Alaoui",
            "first_name_ar": "فاطمة",
            "last_name_ar": "العلوي",
            "birth_date": date(1985, 1, 2),
            "gender": "female",
            "region_code": region_code,
            "province": "Fès",
            "trade_code": trade_code,
            "legal_status": "independent",
            "cnss_status": "registered",
            "activity_start_year": 2005,
            "registered_at": utcnow(),
        }
        rows.append(row | search_columns(row))
    bulk_insert(session, Artisan.__table__, rows, rows_per_statement=500)
    session.commit()
    return [row["rna_number"] for row in rows]


def test_the_kind_is_registered():
    """`register_export` is one line of kinds.py, with a label to translate."""
    assert job_kinds()["register_export"] is export_jobs.KIND
    assert export_jobs.KIND.label == "Register export"


def test_a_csv_export_has_exactly_the_rows_of_the_filter_in_the_jobs_region(app, session, make_artisan, storage):
    """Trade ZEL in region 03: those artisans only (not 03's potters, not 05's ZEL), in id order,
    under jobs/<id>/register-03-<date>.csv, with its progress and summary."""
    wanted = [make_artisan(region_code="03", trade_code="ZEL").rna_number for _ in range(3)]
    make_artisan(region_code="03", trade_code="POT")
    make_artisan(region_code="05", trade_code="ZEL")
    session.commit()
    job = run_export(app, "csv", {"trade": "ZEL"})
    assert job.state == JobState.DONE, job.error
    name = f"register-03-{moroccan_today().isoformat()}.csv"
    assert (job.result_file, job.result_name) == (f"jobs/{job.id}/{name}", name)
    rows = csv_rows(storage, job)
    assert rows[0] == list(EXPORT_COLUMNS) and [row[0] for row in rows[1:]] == wanted
    assert (job.done, job.total) == (3, 3) and job.summary["rows"] == 3


def test_an_officers_export_never_leaves_their_region(app, session, make_artisan, storage):
    """Filters naming another region export nothing from it: the job's region wins."""
    make_artisan(region_code="05")
    session.commit()
    job = run_export(app, "csv", {"region": "05"})
    assert job.state == JobState.DONE and csv_rows(storage, job) == [list(EXPORT_COLUMNS)]


def test_a_national_export_is_named_national(app, session, make_artisan, storage):
    """An administrator's export (no region) holds every region and says national in its name."""
    make_artisan(region_code="03")
    make_artisan(region_code="05")
    session.commit()
    job = run_export(app, "csv", {}, region_code=None)
    assert job.result_name.startswith("register-national-") and len(csv_rows(storage, job)) == 3


def test_an_xlsx_export_of_3000_rows_is_whole(app, session, storage):
    """No cap: a workbook of 3,000 artisans (more than a page of ids) holds them all, in order."""
    wanted = many_artisans(session, 3_000)
    job = run_export(app, "xlsx", {"trade": "ZEL"})
    assert job.state == JobState.DONE, job.error
    assert job.result_name.endswith(".xlsx")
    rows = xlsx_rows(storage, job)
    assert list(rows[0]) == list(EXPORT_COLUMNS) and [row[0] for row in rows[1:]] == wanted
    assert (job.done, job.total) == (3_000, 3_000)


def test_the_file_is_kept_for_the_retention_then_purged(app_config, app, session, make_artisan, storage):
    """The result expires EXPORT_RETENTION_DAYS after the job's end; the purge deletes it then."""
    make_artisan(region_code="03")
    session.commit()
    job = run_export(app, "csv", {})
    assert kept_days(job) == 7
    assert purge_expired_files(session, storage, now=job.finished_at + timedelta(days=6)) == 0
    assert storage.exists(job.result_file)
    assert purge_expired_files(session, storage, now=job.finished_at + timedelta(days=7, minutes=1)) == 1
    session.commit()
    assert not storage.exists(job.result_file)


class TestRetentionSetting:
    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"EXPORT_RETENTION_DAYS": 2}

    def test_the_retention_is_a_setting(self, app, session, make_artisan):
        """EXPORT_RETENTION_DAYS sets how long an export's file is kept."""
        make_artisan(region_code="03")
        session.commit()
        job = run_export(app, "xlsx", {})
        assert kept_days(job) == 2


def test_the_dedupe_key_names_the_person_the_scope_and_the_export():
    """Two asks of the same export by the same person share a key (one job while it is queued or
    running); another format, person or region is another job."""
    params = export_jobs.export_params("csv", {"trade": "ZEL"})
    key = export_jobs.export_dedupe_key(7, "03", params)
    assert key == export_jobs.export_dedupe_key(7, "03", export_jobs.export_params("csv", {"trade": "ZEL"}))
    assert key != export_jobs.export_dedupe_key(7, "03", export_jobs.export_params("xlsx", {"trade": "ZEL"}))
    assert key != export_jobs.export_dedupe_key(8, "03", params)
    assert key != export_jobs.export_dedupe_key(7, None, params)


def test_an_export_cancelled_midway_leaves_no_file(app, session, make_artisan, storage, monkeypatch):
    """Cancel asked while rows are being written: the job ends cancelled at its next progress step,
    with no file under its key and no half file in its folder (the storage's writer is atomic)."""
    from webapp.services.jobs.context import JobContext

    for _ in range(5):
        make_artisan(region_code="03")
    session.commit()
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 2)
    report = JobContext.progress
    monkeypatch.setattr(
        JobContext, "progress", lambda self, done, total=None, force=False: report(self, done, total, force=True)
    )
    original = export_jobs.write_export_to

    def cancelled_after_two_rows(*args: Any, progress: Any, **kwargs: Any) -> int:
        def cancel_then_report(rows: int) -> None:
            with app.extensions["database"].session_scope() as other:
                other.get(Job, job_ids[0]).cancel_requested = True
            progress(rows)

        return original(*args, progress=cancel_then_report, **kwargs)

    job_ids: list[int] = []
    monkeypatch.setattr(export_jobs, "write_export_to", cancelled_after_two_rows)
    database = app.extensions["database"]
    with database.session_scope() as submitting:
        job = submit_job(
            submitting,
            export_jobs.NAME,
            actor=TEST_ACTOR,
            region_code="03",
            params=export_jobs.export_params("csv", {}),
        )
        job_ids.append(job.id)
    session.expire_all()
    job = session.get(Job, job_ids[0])
    assert job.state == JobState.CANCELLED and job.done == 2 and job.result_file is None
    folder = storage.local_path(f"jobs/{job.id}")
    assert not folder.exists() or list(folder.iterdir()) == []


def test_an_interrupted_export_deletes_its_partial_file(app, session, make_job, storage):
    """A worker killed mid-export leaves a partial file: the sweep's report of the interruption
    deletes it and says how many rows had been written."""
    from webapp.services.jobs.jobs import sweep_stale

    job = make_job(
        session, kind=export_jobs.NAME, region_code="03", done=4_000, heartbeat_at=utcnow() - timedelta(hours=1)
    )
    session.commit()
    partial = storage.local_path(f"jobs/{job.id}/.register-03-2026-12-07.xlsx.0a1b2c.partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"PK\x03\x04")
    assert sweep_stale(session, storage, stale_after=timedelta(minutes=2)) == 1
    session.commit()
    assert job.state == JobState.INTERRUPTED and not partial.exists()
    assert job.summary["rows_written"] == 4_000 and job.summary["partial_files_deleted"] == 1


def test_an_export_runs_on_a_real_worker(make_app, worker_process, session, make_artisan, tmp_path):
    """Submitted by the web app, the export runs on a real `flask --app wsgi jobs worker` process and
    its file lands in the storage the web app reads."""
    from tests.fixtures.jobs import wait_for, worker_config

    wanted = make_artisan(region_code="03").rna_number
    make_artisan(region_code="05")
    session.commit()
    web = make_app(**worker_config(tmp_path))
    worker = worker_process()
    database = web.extensions["database"]
    with database.session_scope() as submitting:
        job_id = submit_job(
            submitting,
            export_jobs.NAME,
            actor=TEST_ACTOR,
            region_code="03",
            params=export_jobs.export_params("csv", {}),
        ).id

    def ended() -> Job | None:
        with database.session_scope() as reading:
            job = reading.get(Job, job_id)
            if job.is_finished:
                reading.expunge(job)
                return job
        return None

    job = wait_for(ended, seconds=90, what="the export job on the worker")
    assert job.state == JobState.DONE, (job.error, worker.output()[-2000:])
    rows = csv_rows(web.extensions["jobs"].storage, job)
    assert [row[0] for row in rows[1:]] == [wanted]
