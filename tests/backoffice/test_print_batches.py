"""Print batches in the back office (webapp/backoffice/print_batches.py): count before making, the
officer's region only, downloads, states, and what the page says once the files are deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from webapp.models import PrintBatch, PrintBatchState, utcnow
from webapp.services.printing import batches

NEW = "/office/print-batches/new"


def test_an_officer_counts_then_prepares_a_batch_of_their_region(as_officer, session, make_card, make_artisan):
    """The first answer counts (nothing made); the confirmation makes the batch, rendered at once."""
    mine = [make_card() for _ in range(2)]
    make_card(make_artisan(region_code="04"))
    counted = as_officer.post(NEW, {"selection": "new", "region_code": "04"})
    assert counted.status_code == 200 and "Ce lot contiendrait 2 cartes." in counted.get_data(as_text=True)
    assert session.scalar(select(PrintBatch)) is None
    made = as_officer.post(NEW, {"selection": "new", "confirm": "yes"})
    batch = session.scalar(select(PrintBatch))
    assert made.headers["Location"] == f"/office/print-batches/{batch.id}"
    assert (batch.region_code, batch.card_count, batch.card_pages) == ("03", 2, 4)
    page = as_officer.get(made.headers["Location"]).get_data(as_text=True)
    assert all(card.number[:5] in page for card in mine)
    manifest = as_officer.get(f"/office/print-batches/{batch.id}/manifest")
    manifest.close()
    assert manifest.status_code == 200 and manifest.headers["Cache-Control"] == "no-store"
    letters = as_officer.get(f"/office/print-batches/{batch.id}/letters")
    letters.close()
    assert letters.mimetype == "application/pdf"


@pytest.mark.parametrize(
    ("form", "status", "text"),
    [
        ({"selection": "numbers", "numbers": ""}, 422, "Saisissez les numéros"),
        ({"selection": "new"}, 200, "Ce lot contiendrait 0 carte."),
        ({"selection": "nothing"}, 422, ""),
        ({"selection": "new", "limit": "0"}, 422, ""),
    ],
)
def test_bad_selections_are_answered_on_the_form(as_officer, form, status, text):
    """A wrong selection comes back on the form with its reason; nothing is made."""
    response = as_officer.post(NEW, form)
    assert response.status_code == status
    assert text in response.get_data(as_text=True)


def test_typed_numbers_left_out_say_why(as_officer, make_card, make_artisan):
    """Another region's card typed by number is listed as left out, with its reason."""
    theirs = make_card(make_artisan(region_code="04"))
    response = as_officer.post(NEW, {"selection": "numbers", "numbers": theirs.number})
    html = response.get_data(as_text=True)
    assert "une carte d'une autre région" in html and "Ce lot contiendrait 0 carte." in html


def test_another_regions_batch_is_not_found(as_officer, as_admin, session, make_card, make_artisan):
    """An officer gets 404 for another region's batch and its files; the admin sees it."""
    make_card(make_artisan(region_code="04"))
    as_admin.post(NEW, {"selection": "new", "region_code": "04", "confirm": "yes"})
    batch = session.scalar(select(PrintBatch))
    assert batch.region_code == "04"
    for url in (f"/office/print-batches/{batch.id}", f"/office/print-batches/{batch.id}/cards"):
        assert as_officer.get(url).status_code == 404
        response = as_admin.get(url)
        response.close()
        assert response.status_code == 200
    assert f"Lot {batch.id}" not in as_officer.get("/office/print-batches").get_data(as_text=True)


def test_states_follow_in_order_and_deleted_files_are_said_so(as_officer, session, make_card, app):
    """sent -> printed; out of order: 409; once deleted, the page says when and downloads answer 410."""
    make_card()
    as_officer.post(NEW, {"selection": "new", "confirm": "yes"})
    batch = session.scalar(select(PrintBatch))
    url = f"/office/print-batches/{batch.id}"
    assert as_officer.post(url, {}, action=f"{url}/mark/printed").status_code == 409
    assert as_officer.post(url, {}, action=f"{url}/mark/sent_to_printer").status_code == 302
    session.refresh(batch)
    assert batch.state == PrintBatchState.SENT_TO_PRINTER
    batches.purge_batch_files(session, app.extensions["jobs"].storage, utcnow() + timedelta(days=91))
    session.commit()
    assert as_officer.get(f"{url}/cards").status_code == 410
    assert "Les fichiers ont été supprimés le" in as_officer.get(url).get_data(as_text=True)


def test_a_batch_whose_worker_was_killed_is_rendered_again(as_officer, session, make_card, app):
    """A worker killed mid-rendering: the sweep says how many parts were rendered and deletes their
    files; the batch page offers to render again, which makes every file (a second try is refused
    while it runs or once it is done)."""
    from webapp.models import Job, JobState
    from webapp.services.jobs.jobs import sweep_stale

    make_card()
    as_officer.post(NEW, {"selection": "new", "confirm": "yes"})
    batch = session.scalar(select(PrintBatch))
    job = session.get(Job, batch.job_id)
    storage = app.extensions["jobs"].storage
    with storage.writer(f"{batches.batch_prefix(batch.id)}/parts/0000-cards.pdf") as target:
        target.write(b"%PDF- a part left behind")
    # As a killed worker leaves it: the job running and silent, the batch's files never joined.
    job.state, job.finished_at, job.parts_done, job.parts_total = JobState.RUNNING, None, 0, 1
    job.heartbeat_at = utcnow() - timedelta(minutes=10)
    batch.rendered_at = batch.cards_file = batch.letters_file = batch.manifest_file = None
    session.commit()
    sweep_stale(session, storage, stale_after=timedelta(minutes=2))
    session.commit()
    assert job.state == JobState.INTERRUPTED
    assert (job.summary["parts_rendered"], job.summary["part_files_deleted"]) == (0, 1)
    url = f"/office/print-batches/{batch.id}"
    page = as_officer.get(url).get_data(as_text=True)
    assert "Fabriquer les fichiers à nouveau" in page
    assert as_officer.post(url, {}, action=f"{url}/render-again").status_code == 302
    session.expire_all()
    again = session.get(Job, session.get(PrintBatch, batch.id).job_id)
    assert again.id != job.id and again.state == JobState.DONE
    cards = as_officer.get(f"{url}/cards")
    cards.close()
    assert cards.status_code == 200
    assert as_officer.post(url, {}, action=f"{url}/render-again").status_code == 409
