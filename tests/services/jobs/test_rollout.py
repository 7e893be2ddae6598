"""The roll-out and re-issue jobs: cards in chunks with progress, one region's only when the job has
a region, cancellable between chunks with every written chunk kept, and safe to run again (no
artisan ever gets a second card)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from tests.conftest import TEST_ACTOR
from webapp.models import Card, Job, JobState
from webapp.services.cards import rollout as rollout_service
from webapp.services.jobs.rollout import submit_issue_all, submit_reissue
from webapp.services.trust import signing_keys
from webapp.services.trust.signing_keys import KeySignsItsOwnCards, SigningKeyNotFound


def cards_by_artisan(session) -> dict[int, int]:
    session.expire_all()
    return dict(session.execute(select(Card.artisan_id, func.count()).group_by(Card.artisan_id)).all())


def test_the_job_issues_a_card_to_each_artisan_without_one(session, make_artisan, make_card, signer):
    """One card each, the progress at the total, the figures in the summary."""
    artisans = [make_artisan().id for _ in range(5)]
    make_card()
    job = submit_issue_all(session, TEST_ACTOR)
    assert job.total == 5
    session.commit()
    session.refresh(job)
    assert job.state == JobState.DONE and job.done == job.total == 5 and job.summary["issued"] == 5
    assert all(cards_by_artisan(session)[artisan] == 1 for artisan in artisans)


def test_a_regions_job_issues_that_regions_cards_only(session, make_artisan, signer):
    """A job with a region (an officer's) leaves the other regions' artisans without a card."""
    mine = [make_artisan(region_code="03").id for _ in range(3)]
    others = [make_artisan(region_code="07").id for _ in range(2)]
    submit_issue_all(session, TEST_ACTOR, region_code="03")
    session.commit()
    issued = cards_by_artisan(session)
    assert sorted(issued) == sorted(mine) and not set(others) & set(issued)


def test_a_cancelled_roll_out_keeps_its_chunks_and_a_rerun_issues_the_rest(session, make_artisan, signer, monkeypatch):
    """Cancelled after its first chunk: that chunk stays, the job says cancelled; run again, the
    others get their card and nobody gets two."""
    artisans = [make_artisan().id for _ in range(25)]
    written = rollout_service.insert_signed_cards

    def write_then_cancel(session_, plan, tokens, kid, actor):
        count = written(session_, plan, tokens, kid, actor)
        session_.execute(update(Job).where(Job.kind == "cards_issue_all").values(cancel_requested=True))
        return count

    monkeypatch.setattr(rollout_service, "insert_signed_cards", write_then_cancel)
    job = submit_issue_all(session, TEST_ACTOR, chunk_size=10)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.CANCELLED
    first = cards_by_artisan(session)
    assert 0 < sum(first.values()) < len(artisans) and set(first.values()) == {1}
    monkeypatch.setattr(rollout_service, "insert_signed_cards", written)
    again = submit_issue_all(session, TEST_ACTOR, chunk_size=10)
    session.commit()
    session.refresh(again)
    assert again.state == JobState.DONE and again.summary["issued"] == len(artisans) - sum(first.values())
    assert cards_by_artisan(session) == dict.fromkeys(artisans, 1)


def test_submitting_twice_gives_the_queued_job(session, make_artisan, signer, app, monkeypatch):
    """While a roll-out of a scope is queued, submitting it again returns that job."""
    monkeypatch.setattr(app.extensions["jobs"], "enqueue", lambda job_id: None)
    make_artisan()
    first = submit_issue_all(session, TEST_ACTOR, region_code="03")
    assert submit_issue_all(session, TEST_ACTOR, region_code="03").id == first.id
    assert submit_issue_all(session, TEST_ACTOR, region_code="07").id != first.id


def test_the_reissue_job_re_signs_the_old_keys_cards(app, session, make_card, signer):
    """After a rotation, every card in force of the old key is signed by the new one, in the summary."""
    cards = [make_card() for _ in range(3)]
    old = signer.kid
    signing_keys.rotate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    session.commit()
    new_signer = signing_keys.load_keyring(session, app.config["KEYS_DIR"]).require_signer()
    job = submit_reissue(session, TEST_ACTOR, new_signer, old, chunk_size=2)
    session.commit()
    session.refresh(job)
    assert job.state == JobState.DONE and job.summary == {"reissued": 3, "kid": old, "signer": new_signer.kid}
    session.expire_all()
    assert {session.get(Card, card.id).key_id for card in cards} == {new_signer.kid}


@pytest.mark.parametrize(
    ("kid", "refusal"),
    [("unknown-kid", SigningKeyNotFound), (None, KeySignsItsOwnCards)],
    ids=["unknown key", "the signing key itself"],
)
def test_a_reissue_of_a_key_it_cannot_take_is_refused_at_once(session, signer, kid, refusal):
    """Refused when submitted (no job left to fail later): an unknown key, or the signer's own."""
    with pytest.raises(refusal):
        submit_reissue(session, TEST_ACTOR, signer, kid or signer.kid)
    assert session.scalars(select(Job)).all() == []
