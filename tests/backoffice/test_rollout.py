"""Cards for a region's artisans without one: the screen counts them in the reader's region (an
administrator chooses one), the confirmation submits a `cards_issue_all` job of that region and
leads to the job's page; an officer never issues another region's cards."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.backoffice.conftest import OFFICER_REGION
from webapp.models import AuditEvent, Card, Job, JobState

PAGE = "/office/cards/issue-missing"
OTHER_REGION = "07"


def text_of(response) -> str:
    return response.get_data(as_text=True).replace("\u2068", "").replace("\u2069", "")


@pytest.fixture
def without_cards(session, make_artisan, make_card, signer):
    """Three artisans of the officer's region without a card, one with a card, two of another region."""
    mine = [make_artisan(region_code=OFFICER_REGION) for _ in range(3)]
    make_card(make_artisan(region_code=OFFICER_REGION))
    others = [make_artisan(region_code=OTHER_REGION) for _ in range(2)]
    session.commit()
    return mine, others


def cards_of(session, artisans) -> list[Card]:
    session.expire_all()
    return list(session.scalars(select(Card).where(Card.artisan_id.in_([a.id for a in artisans]))))


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_officer_sees_how_many_of_their_artisans_have_no_card(as_officer, without_cards, language):
    """The count is the officer's region's only, with a confirmation button."""
    page = text_of(as_officer.get(PAGE, language))
    assert 'name="region" value="03"' in page
    assert "<strong>3</strong>" in page and 'type="submit"' in page


def test_confirming_submits_the_regions_job_and_leads_to_its_page(as_officer, officer, session, without_cards):
    """One job of the officer's region, in their name; its page next; their artisans get cards, audited."""
    mine, others = without_cards
    response = as_officer.post(PAGE, {"region": OFFICER_REGION})
    assert response.status_code == 302
    [job] = session.scalars(select(Job).where(Job.kind == "cards_issue_all"))
    assert response.headers["Location"].endswith(f"/office/jobs/{job.id}")
    assert job.region_code == OFFICER_REGION and job.user_id == officer.id
    session.refresh(job)
    assert job.state == JobState.DONE and job.summary["issued"] == 3
    assert len(cards_of(session, mine)) == 3 and cards_of(session, others) == []
    issued = session.scalars(select(AuditEvent).where(AuditEvent.action == "card.issue")).all()
    assert sum(event.actor == f"user:{officer.id}" for event in issued) == 3


def test_an_officer_cannot_issue_another_regions_cards(as_officer, session, without_cards):
    """The region of the form is ignored for an officer: the job is their own region's."""
    _mine, others = without_cards
    as_officer.post(PAGE, {"region": OTHER_REGION})
    assert cards_of(session, others) == []
    assert [job.region_code for job in session.scalars(select(Job).where(Job.kind == "cards_issue_all"))] == [
        OFFICER_REGION
    ]


def test_running_it_again_issues_no_second_card(as_officer, session, without_cards):
    """A second confirmation finds nothing left to issue: one card per artisan."""
    mine, _others = without_cards
    as_officer.post(PAGE, {"region": OFFICER_REGION})
    as_officer.post(PAGE, {"region": OFFICER_REGION})
    assert len(cards_of(session, mine)) == 3
    assert "<strong>0</strong>" in text_of(as_officer.get(PAGE))


def test_an_administrator_chooses_the_region(as_admin, session, without_cards):
    """No region chosen: the choice only; a region chosen: its count and its job."""
    _mine, others = without_cards
    page = text_of(as_admin.get(PAGE))
    assert '<select id="region" name="region">' in page and 'name="region" value=' not in page
    assert "<strong>2</strong>" in text_of(as_admin.get(f"{PAGE}?region={OTHER_REGION}"))
    response = as_admin.post(PAGE, {"region": OTHER_REGION})
    assert response.status_code == 302
    assert len(cards_of(session, others)) == 2


@pytest.mark.parametrize("region", ["", "99", "0'3"])
def test_an_administrator_without_a_real_region_submits_nothing(as_admin, session, without_cards, region):
    """A missing or unknown region: the page again, no job."""
    assert as_admin.post(PAGE, {"region": region}).status_code == 200
    assert session.scalars(select(Job).where(Job.kind == "cards_issue_all")).all() == []
