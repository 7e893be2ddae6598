"""Card requests: a lost card is suspended at once and becomes a task, renewals and corrections
become tasks, one pending request of each kind per card, officers see their region's tasks, and a
task changed by another officer since it was read is never overwritten (StaleRequest)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import TEST_ACTOR
from tests.services.trust.test_status_list import current, decode_list
from webapp.models import AuditEvent, CardRequest, CardStatus, RequestKind, RequestState, RevocationReason, Role
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle
from webapp.services.cards import requests as card_requests
from webapp.services.errors import ReasonRequired, ReasonTooLong
from webapp.services.scope import NATIONAL, RecordNotFound, Scope
from webapp.services.trust import status_list

ARTISAN_ACTOR = Actor("user:artisan")
FES, RABAT = Scope(region_code="03"), Scope(region_code="04")


@pytest.fixture
def officer_actor(make_user):
    """An officer of Fès-Meknès, as the audit trail names them."""
    user = make_user(Role.OFFICER, region="03")
    return Actor(f"user:{user.id}", user.id)


@pytest.fixture
def other_officer_actor(make_user):
    user = make_user(Role.OFFICER, region="03")
    return Actor(f"user:{user.id}", user.id)


def requests_of(session, card):
    return list(session.scalars(select(CardRequest).where(CardRequest.card_id == card.id)))


def test_a_lost_card_is_suspended_at_once_and_becomes_a_task(app, session, signer, make_card):
    """The card is suspended (reason lost_reported, audited), the status list says so, and an open
    task waits for the officers."""
    card = make_card()
    submitted = card_requests.submit_request(session, card.artisan, RequestKind.LOST, ARTISAN_ACTOR)
    session.commit()
    assert submitted.created and submitted.suspended
    assert (card.status, card.status_reason) == (CardStatus.SUSPENDED, lifecycle.LOST_REPORTED)
    assert submitted.request.state == RequestState.OPEN and submitted.request.version == 1
    _, _, packed = decode_list(app, session, current(session, signer).token)
    assert status_list.status_at(packed, card.status_index) == status_list.SUSPENDED
    actions = session.execute(
        select(AuditEvent.action, AuditEvent.reason).where(AuditEvent.card_id == card.id).order_by(AuditEvent.seq)
    ).all()
    assert [tuple(row) for row in actions][-2:] == [("card.suspend", "lost_reported"), ("card.request", None)]


@pytest.mark.parametrize(
    ("kind", "detail"), [(RequestKind.RENEWAL, None), (RequestKind.CORRECTION, "  My name is Khadija, not Kadija  ")]
)
def test_renewals_and_corrections_are_tasks_and_leave_the_card_as_it_is(session, make_card, kind, detail):
    """The card stays valid; a correction keeps the artisan's words (trimmed)."""
    card = make_card()
    submitted = card_requests.submit_request(session, card.artisan, kind, ARTISAN_ACTOR, detail=detail)
    session.commit()
    assert submitted.created and not submitted.suspended
    assert card.status == CardStatus.ACTIVE
    assert submitted.request.detail == (detail.strip() if detail else None)


@pytest.mark.parametrize(
    ("detail", "error"),
    [(None, ReasonRequired), ("", ReasonRequired), ("   \n ", ReasonRequired), ("x" * 501, ReasonTooLong)],
    ids=["none", "empty", "blank", "too-long"],
)
def test_a_correction_must_say_what_is_wrong(session, make_card, detail, error):
    """No words, or more than 500 characters: refused before anything is written."""
    card = make_card()
    with pytest.raises(error):
        card_requests.submit_request(session, card.artisan, RequestKind.CORRECTION, ARTISAN_ACTOR, detail=detail)
    assert requests_of(session, card) == []


def test_five_hundred_characters_are_enough(session, make_card):
    """The limit itself passes."""
    card = make_card()
    submitted = card_requests.submit_request(
        session, card.artisan, RequestKind.CORRECTION, ARTISAN_ACTOR, detail="é" * 500
    )
    session.commit()
    assert len(submitted.request.detail) == 500


@pytest.mark.parametrize("kind", list(RequestKind))
def test_a_second_request_of_a_kind_gets_the_first(session, make_card, kind):
    """While one is pending, a second is refused with the first's date, and no second task exists."""
    card = make_card()
    first = card_requests.submit_request(session, card.artisan, kind, ARTISAN_ACTOR, detail="wrong name").request
    session.commit()
    with pytest.raises(card_requests.DuplicateRequest) as refused:
        card_requests.submit_request(session, card.artisan, kind, ARTISAN_ACTOR, detail="wrong name")
    assert refused.value.existing.id == first.id and refused.value.code == "duplicate_request"
    session.rollback()
    assert len(requests_of(session, card)) == 1


def test_a_second_lost_report_suspends_a_card_made_valid_again(session, make_card):
    """An officer reinstated the card while the task was pending: the holder's second report
    suspends it again, and points at the pending task instead of making another."""
    card = make_card()
    first = card_requests.submit_request(session, card.artisan, RequestKind.LOST, ARTISAN_ACTOR).request
    lifecycle.reinstate_card(session, card, TEST_ACTOR)
    session.commit()
    again = card_requests.submit_request(session, card.artisan, RequestKind.LOST, ARTISAN_ACTOR)
    session.commit()
    assert (again.created, again.suspended, again.request.id) == (False, True, first.id)
    assert card.status == CardStatus.SUSPENDED
    assert len(requests_of(session, card)) == 1


def test_a_lost_report_on_a_suspended_card_keeps_the_officers_reason(session, make_card):
    """A card suspended by an officer stays as it is; the task is made."""
    card = make_card()
    lifecycle.suspend_card(session, card, "unpaid chamber fee", TEST_ACTOR)
    submitted = card_requests.submit_request(session, card.artisan, RequestKind.LOST, ARTISAN_ACTOR)
    session.commit()
    assert (submitted.created, submitted.suspended) == (True, False)
    assert card.status_reason == "unpaid chamber fee"


@pytest.mark.parametrize("arrange", ["never", "revoked"])
def test_no_card_in_force_no_request(session, make_artisan, make_card, arrange):
    """An artisan without a card in force is told so; nothing is written."""
    artisan = make_artisan()
    if arrange == "revoked":
        lifecycle.revoke_card(session, make_card(artisan), RevocationReason.FRAUD, TEST_ACTOR)
        session.commit()
    with pytest.raises(card_requests.NoCardInForce):
        card_requests.submit_request(session, artisan, RequestKind.RENEWAL, ARTISAN_ACTOR)
    assert session.scalar(select(func.count()).select_from(CardRequest)) == 0


def test_the_database_refuses_two_pending_requests_of_a_kind(session, make_card):
    """The partial unique index, not a check-then-insert, keeps one pending request per kind."""
    card = make_card()
    for _ in range(2):
        session.add(CardRequest(card_id=card.id, artisan_id=card.artisan_id, kind=RequestKind.RENEWAL, version=1))
    with pytest.raises(IntegrityError):
        session.flush()


def test_officers_see_their_regions_tasks_and_administrators_every_one(session, make_artisan, make_card):
    """Fès-Meknès's officers see Fès-Meknès's pending tasks, oldest first; Rabat's see none of
    them; another region's task is not found; a closed task leaves the list."""
    fes = [make_card(make_artisan(region_code="03")) for _ in range(3)]
    rabat = make_card(make_artisan(region_code="04"))
    made = [
        card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR).request
        for card in [*fes, rabat]
    ]
    session.commit()
    assert [r.id for r in card_requests.pending_requests(session, FES)] == [r.id for r in made[:3]]
    assert [r.id for r in card_requests.pending_requests(session, FES, after=made[0].id, limit=1)] == [made[1].id]
    assert [r.id for r in card_requests.pending_requests(session, RABAT)] == [made[3].id]
    assert card_requests.count_pending_requests(session, FES) == 3
    assert card_requests.count_pending_requests(session, NATIONAL) == 4
    with pytest.raises(RecordNotFound):
        card_requests.get_request(session, made[3].id, FES)
    assert card_requests.get_request(session, made[3].id, NATIONAL).id == made[3].id


def test_an_officer_takes_then_closes_a_task(session, make_card, officer_actor):
    """Open → in progress → done; each step moves the version and is audited; the artisan reads the state."""
    card = make_card()
    request = card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR).request
    session.commit()
    card_requests.take_request(session, request.id, 1, FES, officer_actor)
    assert (request.state, request.handled_by_id, request.version) == (
        RequestState.IN_PROGRESS,
        officer_actor.user_id,
        2,
    )
    card_requests.close_request(session, request.id, 2, RequestState.DONE, "  ", FES, officer_actor)
    session.commit()
    assert (request.state, request.officer_note, request.version) == (RequestState.DONE, None, 3)
    assert request.handled_at is not None
    assert [r.state for r in card_requests.artisan_requests(session, card.artisan_id)] == [RequestState.DONE]
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.card_id == card.id, AuditEvent.action.like("card.request%"))
    ).all()
    assert actions == ["card.request", "card.request_take", "card.request_close"]
    assert card_requests.count_pending_requests(session, FES) == 0


@pytest.mark.parametrize(
    ("outcome", "note", "error"),
    [
        (RequestState.DECLINED, None, ReasonRequired),
        (RequestState.DECLINED, "   ", ReasonRequired),
        (RequestState.DONE, "n" * 501, ReasonTooLong),
        (RequestState.OPEN, "reopen", card_requests.NotAClosingState),
        (RequestState.IN_PROGRESS, None, card_requests.NotAClosingState),
    ],
    ids=["declined-without-note", "declined-blank-note", "note-too-long", "open", "in-progress"],
)
def test_bad_closings_are_refused(session, make_card, officer_actor, outcome, note, error):
    """A refusal says why and leaves the task as it was."""
    card = make_card()
    request = card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR).request
    session.commit()
    with pytest.raises(error):
        card_requests.close_request(session, request.id, 1, outcome, note, FES, officer_actor)
    session.rollback()
    session.refresh(request)
    assert (request.state, request.version) == (RequestState.OPEN, 1)


def test_a_declined_task_keeps_the_officers_note_for_the_artisan(session, make_card, officer_actor):
    """Declined with a note: the artisan's list shows the note."""
    card = make_card()
    request = card_requests.submit_request(
        session, card.artisan, RequestKind.CORRECTION, ARTISAN_ACTOR, detail="my trade is pottery"
    ).request
    session.commit()
    card_requests.close_request(
        session, request.id, 1, RequestState.DECLINED, "The register says zellige: come with proof.", FES, officer_actor
    )
    session.commit()
    (mine,) = card_requests.artisan_requests(session, card.artisan_id)
    assert (mine.state, mine.officer_note) == (RequestState.DECLINED, "The register says zellige: come with proof.")


def test_two_officers_never_overwrite_each_other(app, session, make_card, officer_actor, other_officer_actor):
    """Both read version 1; the first closes it; the second, acting on what they read, is refused
    with StaleRequest (or RequestAlreadyClosed), and the first's closing stands."""
    card = make_card()
    request = card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR).request
    session.commit()
    factory = app.extensions["database"].session_factory
    first, second = factory(), factory()
    try:
        seen_first = card_requests.get_request(first, request.id, FES).version
        seen_second = card_requests.get_request(second, request.id, FES).version
        second.rollback()  # the second officer's page was read; their next request starts afresh
        card_requests.take_request(first, request.id, seen_first, FES, officer_actor)
        first.commit()
        with pytest.raises(card_requests.StaleRequest):
            card_requests.take_request(second, request.id, seen_second, FES, other_officer_actor)
        second.rollback()
        card_requests.close_request(first, request.id, seen_first + 1, RequestState.DONE, "renewed", FES, officer_actor)
        first.commit()
        with pytest.raises(card_requests.RequestAlreadyClosed):
            card_requests.close_request(
                second, request.id, seen_second + 1, RequestState.DECLINED, "no", FES, other_officer_actor
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    session.refresh(request)
    assert (request.state, request.handled_by_id, request.officer_note, request.version) == (
        RequestState.DONE,
        officer_actor.user_id,
        "renewed",
        3,
    )


def test_a_closed_request_lets_the_artisan_ask_again(session, make_card, officer_actor):
    """Once the pending one is closed, the same kind can be asked again."""
    card = make_card()
    request = card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR).request
    card_requests.close_request(session, request.id, 1, RequestState.DONE, None, FES, officer_actor)
    session.commit()
    again = card_requests.submit_request(session, card.artisan, RequestKind.RENEWAL, ARTISAN_ACTOR)
    assert again.created and again.request.id != request.id
