"""Eligibility lists rebuilt by the `eligibility_lists` job, never inside a request: a request serves
the last signed list and asks for a rebuild (one queued job per offer), the changes that make lists
stale ask for one, a list not built yet answers 503 and stays out of the bundle, and the periodic
check re-signs lists after midnight in Morocco."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest
from jwt.utils import base64url_decode
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import EligibilityListState, Job, JobState, OfferState, RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.jobs.eligibility import submit_stale_rebuilds
from webapp.services.jobs.jobs import submit_job
from webapp.services.partners import eligibility
from webapp.services.partners.list_rebuilds import KIND, ask_rebuild, rebuild_key
from webapp.services.partners.offers import withdraw_offer_from_card
from webapp.services.register.artisans import artisans_written
from webapp.services.trust.signing_keys import load_keyring
from webapp.settings import current_settings

LIST = "/offers/{}/eligibility"


@pytest.fixture
def hold_jobs(app, monkeypatch) -> Callable[[], Callable[[], None]]:
    """From the call on, submitted jobs wait (a busy worker) instead of running at commit; the
    returned function runs those waiting, as a worker would."""
    queue = app.extensions["jobs"]

    def hold() -> Callable[[], None]:
        waiting: list[int] = []
        monkeypatch.setattr(queue, "enqueue", waiting.append)

        def run_waiting() -> None:
            with app.app_context():
                while waiting:
                    queue.run(waiting.pop(0))

        return run_waiting

    return hold


@pytest.fixture
def lender(make_organisation, make_api_key):
    """A lender organisation and the headers of its system's API key (verify scope)."""
    organisation = make_organisation(kind="lender")
    key = make_api_key(organisation)
    return organisation, {"Authorization": f"Bearer {key.plaintext}"}


def bits(token: str) -> bytes:
    payload = jwt.decode(token, options={"verify_signature": False})
    return zlib.decompress(base64url_decode(payload["status_list"]["lst"]))


def eligible(token: str, index: int) -> bool:
    return bool(bits(token)[index // 8] >> (index % 8) & 1)


def bundle_of(client, headers: dict[str, str]) -> dict:
    token = client.get("/api/v1/bundle", headers=headers).get_data(as_text=True)
    return jwt.decode(token, options={"verify_signature": False})


def rebuild_jobs(session, state: JobState | None = None) -> list[Job]:
    session.expire_all()
    statement = select(Job).where(Job.kind == KIND).order_by(Job.id)
    if state is not None:
        statement = statement.where(Job.state == state)
    return list(session.scalars(statement))


def test_a_request_after_a_register_change_serves_the_last_list_and_asks_for_a_rebuild(
    client, session, hold_jobs, lender, make_offer, make_card, make_artisan
):
    """The register changed and the worker has not caught up: the request answers at once with the
    last signed list, and a rebuild job waits; once it ran, the list counts the new card."""
    organisation, headers = lender
    make_card()
    offer = make_offer(organisation)
    before = client.get(LIST.format(offer.id), headers=headers)
    assert before.status_code == 200
    run_waiting = hold_jobs()
    new_card = make_card(make_artisan())
    after_change = client.get(LIST.format(offer.id), headers=headers)
    assert after_change.status_code == 200
    assert after_change.get_data(as_text=True) == before.get_data(as_text=True)
    waiting = rebuild_jobs(session, JobState.QUEUED)
    assert waiting and {job.dedupe_key for job in waiting} <= {rebuild_key(None), rebuild_key(offer.id)}
    client.get(LIST.format(offer.id), headers=headers)
    assert len(rebuild_jobs(session, JobState.QUEUED)) == len(waiting)  # one queued rebuild, not one per request
    run_waiting()
    assert all(job.state == JobState.DONE for job in rebuild_jobs(session))
    fresh = client.get(LIST.format(offer.id), headers=headers).get_data(as_text=True)
    assert fresh != before.get_data(as_text=True) and eligible(fresh, new_card.status_index)


def test_in_immediate_mode_the_rebuild_leaves_a_fresh_list(client, session, lender, make_offer, make_card):
    """Jobs run as their transaction commits (tests): after a change the list is already fresh,
    built by a job, not by the request."""
    organisation, headers = lender
    offer = make_offer(organisation)
    card = make_card()
    token = client.get(LIST.format(offer.id), headers=headers).get_data(as_text=True)
    assert eligible(token, card.status_index)
    [last] = rebuild_jobs(session)[-1:]
    assert last.state == JobState.DONE and last.summary["rebuilt"] == 1 and last.summary["offers"] == [offer.id]


def test_no_request_builds_a_list(app, client, session, hold_jobs, monkeypatch, lender, make_offer, make_card):
    """With the builder made to fail, the list, the bundle, verify and the card check all answer:
    no request path reads the whole register."""
    organisation, headers = lender
    card = make_card()
    offer = make_offer(organisation, conditions=[CNSS_REGISTERED])
    run_waiting = hold_jobs()
    make_card()  # the lists are stale now

    def refuse(*_args, **_kwargs):
        raise AssertionError("a request built an eligibility list")

    builder = eligibility.eligible_indices
    monkeypatch.setattr(eligibility, "eligible_indices", refuse)
    assert client.get(LIST.format(offer.id), headers=headers).status_code == 200
    assert [entry["id"] for entry in bundle_of(client, headers)["offers"]] == [offer.id]
    assert client.post("/api/v1/verify", json={"qr": card.token}, headers=headers).status_code == 200
    assert client.get("/api/v1/eligibility", query_string={"card": card.number}, headers=headers).status_code == 200
    monkeypatch.setattr(eligibility, "eligible_indices", builder)
    run_waiting()  # the job is what builds: it finds the builder back
    assert all(job.state == JobState.DONE for job in rebuild_jobs(session))


def test_an_offer_without_a_list_yet_answers_pending_and_is_left_out_of_the_bundle(
    client, session, hold_jobs, lender, make_offer, make_card
):
    """A newly approved offer whose list no job has built: 503 eligibility_list_pending with
    Retry-After, the bundle carries no entry for it; once the job ran, both have it."""
    organisation, headers = lender
    make_card()
    run_waiting = hold_jobs()
    offer = make_offer(organisation)
    response = client.get(LIST.format(offer.id), headers=headers)
    assert response.status_code == 503
    assert response.get_json()["error"] == "eligibility_list_pending"
    assert int(response.headers["Retry-After"]) > 0
    assert rebuild_jobs(session, JobState.QUEUED)  # asked for when the offer was approved
    bundle = bundle_of(client, headers)
    assert bundle["offers"] == []
    run_waiting()
    assert client.get(LIST.format(offer.id), headers=headers).status_code == 200
    bundle = bundle_of(client, headers)
    assert [entry["id"] for entry in bundle["offers"]] == [offer.id]


def test_the_bundle_never_outlives_a_list_it_carries(app, client, session, hold_jobs, lender, make_offer, make_card):
    """A list signed long ago (no worker re-signed it) is served with the bundle's max_age cut to its
    remaining life (rule B4), in whole hours; a list with less than an hour left is left out."""
    organisation, headers = lender
    make_card()
    run_waiting = hold_jobs()
    offer = make_offer(organisation)
    settings = current_settings(app)
    validity = timedelta(seconds=settings.STATUS_LIST_VALIDITY_SECONDS)

    def sign_at(moment):
        state = eligibility.current_eligibility_list(
            session,
            offer,
            load_keyring(session, settings.KEYS_DIR).require_signer,
            public_base_url=settings.PUBLIC_BASE_URL,
            validity=validity,
            ttl_seconds=settings.STATUS_LIST_MAX_AGE_SECONDS,
            now=moment,
        )
        session.commit()
        return state.signed_token

    token = sign_at(utcnow() - validity + timedelta(hours=10, minutes=30))
    bundle = bundle_of(client, headers)
    assert [entry["eligibility"] for entry in bundle["offers"]] == [token]
    assert (
        bundle["max_age"] == 10 * 3600
        and bundle["exp"] <= jwt.decode(token, options={"verify_signature": False})["exp"]
    )
    session.delete(session.get(EligibilityListState, offer.id))
    session.commit()
    sign_at(utcnow() - validity + timedelta(minutes=30))
    bundle = bundle_of(client, headers)
    assert bundle["offers"] == [] and bundle["max_age"] == 24 * 3600
    run_waiting()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda s, card, offer: card_service.revoke_card(s, card, RevocationReason.LOST, TEST_ACTOR),
            id="card revoked",
        ),
        pytest.param(
            lambda s, card, offer: card_service.suspend_card(s, card, "check", TEST_ACTOR), id="card suspended"
        ),
        pytest.param(lambda s, card, offer: artisans_written(s, [card.artisan_id]), id="register edited or imported"),
        pytest.param(
            lambda s, card, offer: withdraw_offer_from_card(s, offer, card, "abuse", TEST_ACTOR),
            id="offer withdrawn from a card",
        ),
    ],
)
def test_changes_that_make_lists_stale_ask_for_a_rebuild(session, hold_jobs, lender, make_offer, make_card, change):
    """The services that move a list's versions submit the rebuild in the same transaction."""
    organisation, _headers = lender
    card = make_card()
    offer = make_offer(organisation)
    run_waiting = hold_jobs()
    change(session, card, offer)
    session.commit()
    assert rebuild_jobs(session, JobState.QUEUED)
    run_waiting()
    state = session.get(EligibilityListState, offer.id)
    session.refresh(state)
    assert state.register_version == eligibility.register_version(session)


def test_nothing_is_asked_without_an_approved_offer(session, hold_jobs, make_card, make_offer):
    """Changes with no offer to keep fresh submit no job (no empty runs in the job table)."""
    make_offer(state=OfferState.DRAFT)
    hold_jobs()
    card = make_card()
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    assert rebuild_jobs(session) == []


def test_many_changes_make_one_queued_rebuild(session, hold_jobs, lender, make_offer, make_card, make_artisan):
    """A dedupe key per offer and one for all offers: ten cards issued while the worker is busy
    leave one queued rebuild."""
    organisation, _headers = lender
    make_offer(organisation)
    hold_jobs()
    for _ in range(10):
        make_card(make_artisan())
    assert (
        session.scalar(select(func.count()).select_from(Job).where(Job.kind == KIND, Job.state == JobState.QUEUED)) == 1
    )


def test_the_periodic_check_re_signs_after_midnight_in_morocco(app, session, hold_jobs, lender, make_offer, make_card):
    """Lists fresh: nothing submitted. The next day in Morocco (rules may read today, cards expire
    at its end), or past half their validity: one rebuild for all offers."""
    organisation, _headers = lender
    make_card()
    make_offer(organisation)
    settings = current_settings(app)
    hold_jobs()
    now = utcnow()
    assert submit_stale_rebuilds(session, settings, now) is False
    assert submit_stale_rebuilds(session, settings, now + timedelta(days=1)) is True
    session.commit()
    assert [job.dedupe_key for job in rebuild_jobs(session, JobState.QUEUED)] == [rebuild_key(None)]


def test_a_second_run_finds_nothing_to_do(app, session, lender, make_offer, make_card):
    """Safe to run twice: the second job finds every list fresh and rebuilds none."""
    organisation, _headers = lender
    make_card()
    make_offer(organisation)
    ask_rebuild(session)
    session.commit()
    last = rebuild_jobs(session)[-1]
    assert last.state == JobState.DONE and last.summary["rebuilt"] == 0


def test_a_job_submitted_before_a_savepoint_runs_after_the_real_commit(app, session, job_kind):
    """Releasing a savepoint is not the commit (SQLAlchemy calls after_commit for both): the job goes
    on the queue, and runs in immediate mode, only once its row is committed."""
    seen: list[int] = []
    job_kind("test_seen", lambda ctx: seen.append(ctx.job_id))
    job = submit_job(session, "test_seen", actor=TEST_ACTOR)
    with session.begin_nested():
        pass
    assert seen == []
    session.commit()
    assert seen == [job.id]
