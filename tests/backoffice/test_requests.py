"""The officers' tasks: their region's pending requests (every region for administrators), the
count on the dashboard, a task's page with links to act on the card, taking and closing a task,
and a stale or bad form answered on the page with nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import OFFICER_REGION
from tests.fixtures.support import TEST_ACTOR
from webapp.models import AuditEvent, CardRequest, RequestKind, RequestState
from webapp.services.cards import requests as card_requests

LIST = "/office/requests"


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


def task_url(task, tail: str = "") -> str:
    return f"{LIST}/{task.id}{tail}"


@pytest.fixture
def ask(session, make_card, make_artisan):
    """Factory: a pending request of an artisan of a region (Fès-Meknès unless told), committed."""

    def make(kind=RequestKind.RENEWAL, region=OFFICER_REGION, detail=None, **names):
        card = make_card(make_artisan(region_code=region, **names))
        submitted = card_requests.submit_request(session, card.artisan, kind, TEST_ACTOR, detail=detail)
        session.commit()
        return submitted.request

    return make


def state_of(session, task) -> tuple[RequestState, int]:
    session.expire_all()
    fresh = session.get(CardRequest, task.id)
    return fresh.state, fresh.version


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_an_officer_lists_their_regions_tasks_and_the_dashboard_counts_them(as_officer, ask, language):
    """Fès-Meknès's tasks, not Marrakech's; the dashboard's tile says how many and links to them."""
    mine = ask(RequestKind.LOST, last_name_latin="Fassi")
    ask(region="07", last_name_latin="Marrakchi")
    page = text_of(as_officer.get(LIST, language))
    assert "Khadija Fassi" in page and "Marrakchi" not in page
    assert f'href="{task_url(mine)}"' in page
    assert {"fr": "1 tâche à traiter", "ar": "مهمة واحدة للمعالجة"}[language] in page
    home = text_of(as_officer.get("/office/", language))
    tile = home.split("summary-tiles tile-links", 1)[1].split("</a>", 1)[0]
    assert f'href="{LIST}"' in tile
    assert "<strong>1</strong>" in tile


def test_an_administrator_sees_every_regions_tasks(as_admin, ask):
    """Both regions, with the region named."""
    ask(last_name_latin="Fassi")
    ask(region="07", last_name_latin="Marrakchi")
    page = text_of(as_admin.get(LIST))
    assert "Fassi" in page and "Marrakchi" in page and "Marrakech" in page


@pytest.mark.parametrize("after", ["abc", "0", "-1", "1" * 11, "1.5"])
def test_a_bad_page_cursor_answers_400_with_a_way_back(as_officer, after):
    """A cursor the list never writes: 400 with a link to the first page, never a 500."""
    response = as_officer.get(f"{LIST}?after={after}")
    assert response.status_code == 400 and f'href="{LIST}"' in text_of(response)


def test_the_list_pages_by_keyset(as_officer, ask, monkeypatch):
    """Past a page, a "next" link continues after the last task shown."""
    monkeypatch.setattr(card_requests, "PAGE_SIZE", 2)
    made = [ask(last_name_latin=f"Page{n}") for n in range(3)]
    first = text_of(as_officer.get(LIST))
    assert "Page0" in first and "Page1" in first and "Page2" not in first
    assert f"after={made[1].id}" in first
    second = text_of(as_officer.get(f"{LIST}?after={made[1].id}"))
    assert "Page2" in second and "Page0" not in second


@pytest.mark.parametrize(
    ("kind", "detail", "links"),
    [
        (RequestKind.LOST, None, ["/replace", "/reinstate", "/edit"]),
        (RequestKind.RENEWAL, None, ["/renew", "/replace", "/edit"]),
        (RequestKind.CORRECTION, "Mon nom s'écrit Bennany", ["/renew", "/edit"]),
    ],
)
def test_a_tasks_page_links_to_the_card_actions(as_officer, ask, kind, detail, links):
    """What was asked, the artisan's words, and the actions the card allows."""
    task = ask(kind, detail=detail)
    page = text_of(as_officer.get(task_url(task)))
    for link in links:
        assert (
            f"/office/artisans/{task.artisan_id}" + ("" if link == "/edit" else f"/cards/{task.card.number}") + link
            in page
        )
    if detail:
        assert "Mon nom s&#39;écrit Bennany" in page
    if kind == RequestKind.LOST:
        assert "déclarée perdue par le titulaire" in page  # the suspension's reason, in words


def test_the_artisans_record_shows_their_pending_requests(as_officer, ask):
    """The record links to the task, and the lost card's reason is in words."""
    task = ask(RequestKind.LOST)
    page = text_of(as_officer.get(f"/office/artisans/{task.artisan_id}"))
    assert f'href="{task_url(task)}"' in page and "déclarée perdue par le titulaire" in page


def test_taking_then_closing_a_task(as_officer, session, ask, officer):
    """Taken: in progress under the officer's name; closed done: off the list, audited."""
    task = ask()
    response = as_officer.post(task_url(task), {"version": "1"}, action=task_url(task, "/take"))
    assert response.status_code == 302 and response.headers["Location"] == task_url(task)
    page = text_of(as_officer.get(task_url(task)))
    assert "En cours" in page and "Samira Officer" in page
    closed = as_officer.post(
        task_url(task), {"version": "2", "outcome": "done", "note": "Renouvelée"}, action=task_url(task, "/close")
    )
    assert closed.status_code == 302 and closed.headers["Location"] == LIST
    assert state_of(session, task) == (RequestState.DONE, 3)
    assert "Aucune demande en attente." in text_of(as_officer.get(LIST))
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == f"user:{officer.id}")).all()
    assert "card.request_take" in actions and "card.request_close" in actions


def test_a_stale_form_is_refused_and_says_why(as_officer, session, ask):
    """Another officer took the task (version 2): a close sent with version 1 answers 409 on the
    task's page, and the task stays as the other officer left it."""
    task = ask()
    assert as_officer.post(task_url(task), {"version": "1"}, action=task_url(task, "/take")).status_code == 302
    stale = as_officer.post(
        task_url(task), {"version": "1", "outcome": "declined", "note": "non"}, action=task_url(task, "/close")
    )
    assert stale.status_code == 409 and "Quelqu’un d’autre a modifié cette tâche" in text_of(stale)
    assert state_of(session, task) == (RequestState.IN_PROGRESS, 2)
    again = as_officer.post(task_url(task), {"version": "1"}, action=task_url(task, "/take"))
    assert again.status_code == 409 and state_of(session, task) == (RequestState.IN_PROGRESS, 2)


def test_a_closed_task_cannot_be_closed_again(as_officer, session, ask):
    """409 saying it is closed; the first closing stands."""
    task = ask()
    as_officer.post(task_url(task), {"version": "1", "outcome": "done"}, action=task_url(task, "/close"))
    again = as_officer.post(
        task_url(task), {"version": "2", "outcome": "declined", "note": "x"}, action=task_url(task, "/close")
    )
    assert again.status_code == 409 and "déjà close" in text_of(again)
    assert state_of(session, task) == (RequestState.DONE, 2)


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"version": "", "outcome": "done"}, "Quelqu’un d’autre"),
        ({"version": "abc", "outcome": "done"}, "Quelqu’un d’autre"),
        ({"version": "0", "outcome": "done"}, "Quelqu’un d’autre"),
        ({"version": "-1", "outcome": "done"}, "Quelqu’un d’autre"),
        ({"version": "1" * 12, "outcome": "done"}, "Quelqu’un d’autre"),
        ({"version": "1"}, "Choisissez traitée ou refusée."),
        ({"version": "1", "outcome": "open"}, "outcome-errors"),
        ({"version": "1", "outcome": "nonsense"}, "outcome-errors"),
        ({"version": "1", "outcome": "declined"}, "Un motif est obligatoire"),
        ({"version": "1", "outcome": "declined", "note": "   "}, "Un motif est obligatoire"),
        ({"version": "1", "outcome": "done", "note": "n" * 501}, "500"),
        ({"version": "1", "outcome": "done", "note": "n" * 6000}, "5000"),
    ],
    ids=[
        "no-version",
        "version-text",
        "version-zero",
        "version-negative",
        "version-huge",
        "no-outcome",
        "outcome-open",
        "outcome-unknown",
        "declined-no-note",
        "declined-blank-note",
        "note-too-long",
        "note-flood",
    ],
)
def test_a_bad_closing_form_is_refused_with_nothing_written(as_officer, session, ask, form, expected):
    """422 on the task's page, saying what is wrong; the task stays open at version 1."""
    task = ask()
    response = as_officer.post(task_url(task), form, action=task_url(task, "/close"))
    assert response.status_code == 422
    page = text_of(response)
    if expected == "outcome-errors":
        assert "field-invalid" in page.split("<legend>", 1)[0].rsplit("<fieldset", 1)[1]
    else:
        assert expected in page
    assert state_of(session, task) == (RequestState.OPEN, 1)


@pytest.mark.parametrize("version", ["", "x", "0"])
def test_a_bad_take_form_is_refused(as_officer, session, ask, version):
    """422, nothing written."""
    task = ask()
    response = as_officer.post(task_url(task), {"version": version}, action=task_url(task, "/take"))
    assert response.status_code == 422 and state_of(session, task) == (RequestState.OPEN, 1)


def test_another_regions_task_is_not_found(as_officer, session, ask):
    """404 to look, take or close: its existence is not disclosed."""
    task = ask(region="07")
    assert as_officer.get(task_url(task)).status_code == 404
    assert as_officer.post(task_url(task), {"version": "1"}, action=task_url(task, "/take")).status_code == 404
    assert state_of(session, task) == (RequestState.OPEN, 1)
