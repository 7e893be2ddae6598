"""The back office's job screens: the list of the reader's jobs, one job's page and its status JSON,
cancelling, the result file's download (then 410 once deleted), and the scope (another region's job
is 404)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.models import Job, JobState, Role, utcnow

OTHER_REGION = "07"


@pytest.fixture
def storage(app):
    """The app's job storage (a folder of the test's own)."""
    return app.extensions["jobs"].storage


@pytest.fixture
def a_job(session, make_job):
    """Factory: a register export of the region of `owner` (03 unless given), asked by them, committed."""

    def make(owner, **columns) -> Job:
        values = {"kind": "register_export", "state": JobState.RUNNING, "region_code": "03", "user_id": owner.id}
        values |= {"actor_label": f"user:{owner.id}"}
        job = make_job(session, **(values | columns))
        session.commit()
        return job

    return make


def with_file(session, storage, job: Job, content: bytes = b"\xef\xbb\xbfrna_number\r\n", expired: bool = False) -> Job:
    """The job done, with a result file kept 7 days from its end: it ended now, or 8 days ago
    (`expired`: past its time, whether or not the purge has deleted it yet)."""
    key = f"jobs/{job.id}/register-03-2026-12-07.csv"
    with storage.writer(key) as target:
        target.write(content)
    finished = utcnow() - timedelta(days=8 if expired else 0)
    job.state, job.finished_at = JobState.DONE, finished
    job.result_file, job.result_name = key, "register-03-2026-12-07.csv"
    job.result_expires_at = finished + timedelta(days=7)
    session.commit()
    return job


def test_the_list_shows_my_regions_jobs_in_my_language(a_job, as_officer, session, officer, make_user):
    """An officer sees their region's jobs, with the kind, who asked and the state in words; not
    another region's."""
    mine = a_job(officer, done=1200, total=3000)
    other = make_user(Role.OFFICER, region=OTHER_REGION)
    theirs = a_job(other, region_code=OTHER_REGION)
    page = as_officer.get("/office/jobs", language="fr").get_data(as_text=True)
    assert f"/office/jobs/{mine.id}" in page and f"/office/jobs/{theirs.id}" not in page
    assert "Export du registre" in page and "Samira Officer" in page and "En cours" in page
    assert "1 200 sur 3 000" in page.replace("\u202f", " ").replace("\xa0", " ")
    arabic = as_officer.get("/office/jobs", language="ar").get_data(as_text=True)
    assert "تصدير السجل" in arabic


def test_an_administrator_sees_every_regions_jobs(a_job, as_admin, session, officer, make_user):
    """The national administrator's list holds every region's jobs."""
    mine = a_job(officer)
    theirs = a_job(make_user(Role.OFFICER, region=OTHER_REGION), region_code=OTHER_REGION)
    page = as_admin.get("/office/jobs").get_data(as_text=True)
    assert f"/office/jobs/{mine.id}" in page and f"/office/jobs/{theirs.id}" in page


def test_a_running_job_shows_its_progress_and_a_stop_button(a_job, as_officer, session, officer):
    """A running job's page: the progress bar with done and total, the state in words, the script
    that polls its status, and the stop form (CSRF)."""
    job = a_job(officer, done=500, total=2000)
    page = as_officer.get(f"/office/jobs/{job.id}", language="en").get_data(as_text=True)
    assert 'max="2000"' in page and 'value="500"' in page and "Running" in page
    assert f'data-job-status="/office/jobs/{job.id}/status"' in page
    assert "js/backoffice/job-progress.js" in page and "<script>" not in page
    assert f'action="/office/jobs/{job.id}/cancel"' in page and 'name="csrf_token"' in page
    assert "Stop this job" in page and "Download" not in page


def test_the_status_json_says_state_and_progress(a_job, as_officer, session, officer):
    """The status JSON: state and its words in the reader's language, done, total, percent, not cached."""
    job = a_job(officer, done=500, total=2000)
    response = as_officer.get(f"/office/jobs/{job.id}/status", language="fr")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    state = response.get_json()
    assert state["state"] == "running" and state["state_label"] == "En cours" and not state["finished"]
    assert (state["done"], state["total"], state["percent"]) == (500, 2000, 25)
    assert state["url"] == f"/office/jobs/{job.id}" and state["cancellable"] is True


def test_cancelling_a_queued_job_stops_it_at_once(a_job, as_officer, session, officer):
    """A queued job is cancelled at once; the page then says so and offers no stop button."""
    job = a_job(officer, state=JobState.QUEUED)
    response = as_officer.post(f"/office/jobs/{job.id}", {}, action=f"/office/jobs/{job.id}/cancel")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/office/jobs/{job.id}")
    session.expire_all()
    assert session.get(Job, job.id).state == JobState.CANCELLED
    page = as_officer.get(f"/office/jobs/{job.id}", language="en").get_data(as_text=True)
    assert "Cancelled" in page and "Stop this job" not in page


def test_cancelling_a_running_job_asks_it_to_stop(a_job, as_officer, session, officer):
    """A running job gets cancel_requested (its worker stops at its next step); the page says
    it is stopping."""
    job = a_job(officer)
    as_officer.post(f"/office/jobs/{job.id}", {}, action=f"/office/jobs/{job.id}/cancel")
    session.expire_all()
    assert session.get(Job, job.id).cancel_requested is True
    state = as_officer.get(f"/office/jobs/{job.id}/status", language="en").get_json()
    assert state["state_label"] == "Stopping…" and state["cancellable"] is False


def test_cancelling_needs_the_csrf_token(a_job, as_officer, session, officer):
    """The stop button is a form with a CSRF token: a bare POST is refused."""
    job = a_job(officer)
    assert as_officer.client.post(f"/office/jobs/{job.id}/cancel").status_code == 400
    session.expire_all()
    assert session.get(Job, job.id).cancel_requested is False


def test_a_finished_job_cannot_be_cancelled(a_job, as_officer, session, officer):
    """Stopping a job that has ended is refused with a message, not an error page."""
    job = a_job(officer, state=JobState.DONE, finished_at=utcnow())
    response = as_officer.post(f"/office/jobs/{job.id}", {}, action=f"/office/jobs/{job.id}/cancel", language="en")
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Job, job.id).state == JobState.DONE


def test_a_done_job_offers_its_file_with_size_and_retention(a_job, as_officer, session, officer, storage):
    """A done job's page: the download, the file's size and until when it is kept; the download
    sends the file as an attachment, never cached."""
    content = b"\xef\xbb\xbfrna_number\r\n" + b"RNA-03-0000001\r\n" * 100
    job = with_file(session, storage, a_job(officer), content)
    page = as_officer.get(f"/office/jobs/{job.id}", language="en").get_data(as_text=True)
    assert f"/office/jobs/{job.id}/download" in page and "register-03-2026-12-07.csv" in page
    assert "2 KB" in page and "Kept until" in page and "Finished" in page
    response = as_officer.get(f"/office/jobs/{job.id}/download")
    assert response.status_code == 200 and response.get_data() == content
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "filename=register-03-2026-12-07.csv" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    response.close()  # send_file streams the file: the client closes it


def test_an_expired_file_is_gone_with_a_410(a_job, as_officer, session, officer, storage):
    """Past its retention the page says the file was deleted after N days, and its download answers
    410 with that sentence, even before the purge has deleted it."""
    job = with_file(session, storage, a_job(officer), expired=True)
    page = as_officer.get(f"/office/jobs/{job.id}", language="en").get_data(as_text=True)
    assert "The file was deleted after 7 days" in page and f"/office/jobs/{job.id}/download" not in page
    response = as_officer.get(f"/office/jobs/{job.id}/download", language="en")
    assert response.status_code == 410 and "The file was deleted after 7 days" in response.get_data(as_text=True)


def test_a_file_deleted_from_the_storage_is_gone_too(a_job, as_officer, session, officer, storage):
    """A result file missing from the storage (purged, or lost) answers 410, not a server error."""
    job = with_file(session, storage, a_job(officer))
    storage.delete(job.result_file)
    assert as_officer.get(f"/office/jobs/{job.id}/download").status_code == 410


def test_a_job_without_a_file_has_no_download(a_job, as_officer, session, officer):
    """A job that has no result file: its download is 404."""
    job = a_job(officer, state=JobState.DONE, finished_at=utcnow())
    assert as_officer.get(f"/office/jobs/{job.id}/download").status_code == 404


def test_a_failed_job_says_why_in_the_readers_language(a_job, as_officer, session, officer):
    """The stored (untranslated) message of a failure is shown translated, with its parameters."""
    job = a_job(
        officer,
        state=JobState.FAILED,
        finished_at=utcnow(),
        error_code="reason_too_long",
        error=["This text is too long: at most %(count)s characters.", {"count": 200}],
    )
    page = as_officer.get(f"/office/jobs/{job.id}", language="fr").get_data(as_text=True)
    assert "Ce texte est trop long : 200 caractères au plus." in page.replace("\u202f", " ")
    assert "Échec" in page


@pytest.mark.parametrize("code", ["interrupted", "error"])
def test_a_job_that_stopped_without_a_message_says_what_happened(a_job, as_officer, session, officer, code):
    """Interrupted or failed on an unexpected error: a sentence of the screen's own, never blank."""
    state = JobState.INTERRUPTED if code == "interrupted" else JobState.FAILED
    job = a_job(officer, state=state, finished_at=utcnow(), error_code=code, error=None)
    page = as_officer.get(f"/office/jobs/{job.id}", language="en").get_data(as_text=True)
    assert "The work stopped" in page


@pytest.mark.parametrize("path", ["", "/status", "/download"])
def test_another_regions_job_is_not_found(a_job, as_officer, session, make_user, storage, path):
    """Another region's job does not exist for an officer (404), even with a file."""
    other = make_user(Role.OFFICER, region=OTHER_REGION)
    job = with_file(session, storage, a_job(other, region_code=OTHER_REGION))
    assert as_officer.get(f"/office/jobs/{job.id}{path}").status_code == 404


def test_another_regions_job_cannot_be_cancelled(a_job, as_officer, session, make_user):
    """Stopping another region's job is 404, and it goes on."""
    job = a_job(make_user(Role.OFFICER, region=OTHER_REGION), region_code=OTHER_REGION)
    response = as_officer.post(f"/office/jobs/{job.id}", {}, action=f"/office/jobs/{job.id}/cancel")
    assert response.status_code == 404
    session.expire_all()
    assert session.get(Job, job.id).cancel_requested is False


def test_the_navigation_leads_to_the_jobs(as_officer):
    """The back office's menu has a Jobs entry."""
    page = as_officer.get("/office/", language="en").get_data(as_text=True)
    assert 'href="/office/jobs"' in page
