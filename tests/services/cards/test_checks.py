"""Who checked a card: recording (one statement, never failing the caller), the holder's history,
"this was not me" (checks and redemptions), the officers' list and the retention purge."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import AnonymousCheckCount, AuditEvent, CardCheck, CheckKind, Redemption, Role
from webapp.services.audit import Actor
from webapp.services.cards.checks import (
    CheckAlreadyReported,
    Checker,
    CheckNotFound,
    RedemptionAlreadyReported,
    RedemptionNotFound,
    check_history,
    clean_place,
    count_reported_checks,
    count_reported_redemptions,
    count_reports,
    month_of,
    note_check,
    note_check_in,
    purge_check_batch,
    report_check,
    report_redemption,
    reported_checks,
    reported_redemptions,
    retention_start,
)
from webapp.services.partners.redemptions import Recorder, RedemptionRequest, record_redemption
from webapp.services.scope import NATIONAL, Scope

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def engine(app):
    return app.extensions["database"].engine


def _note(engine, number, checker, now=NOW):
    with engine.connect() as connection:
        return note_check(connection, number, checker, now)


def test_a_partners_check_is_one_row_with_its_place(engine, session, make_card, make_organisation):
    """A partner's check is stored with organisation, time, kind and the place, cleaned."""
    card, organisation = make_card(), make_organisation()
    checker = Checker(organisation.id, CheckKind.SYSTEM_SCAN, "  Agence   Fès\tBatha ")
    assert _note(engine, card.number, checker) is True
    check = session.scalars(select(CardCheck)).one()
    assert (check.card_id, check.organisation_id, check.kind, check.place) == (
        card.id,
        organisation.id,
        CheckKind.SYSTEM_SCAN,
        "Agence Fès Batha",
    )
    assert check.checked_at == NOW and check.reported_at is None


def test_anonymous_checks_are_counted_per_card_and_month(engine, session, make_card):
    """Anonymous checks add one to the card's count of the month (Morocco's calendar), never a row."""
    card, other = make_card(), make_card()
    for _ in range(3):
        _note(engine, card.number, None)
    _note(engine, other.number, None)
    _note(engine, card.number, None, datetime(2027, 1, 1, 0, 30, tzinfo=UTC))  # January in Morocco (UTC+0)
    counts = session.execute(select(AnonymousCheckCount.card_id, AnonymousCheckCount.month, AnonymousCheckCount.checks))
    assert sorted(counts) == sorted([(card.id, "2026-12", 3), (other.id, "2026-12", 1), (card.id, "2027-01", 1)])
    assert session.scalar(select(func.count()).select_from(CardCheck)) == 0


@pytest.mark.parametrize("checker", [None, Checker(1, CheckKind.STAFF_SCAN)])
def test_a_number_of_no_card_records_nothing(engine, session, make_organisation, checker):
    """A number that is no card's inserts nothing and is no error."""
    make_organisation()
    assert _note(engine, "0000000000", checker) is True
    assert session.scalar(select(func.count()).select_from(CardCheck)) == 0
    assert session.scalar(select(func.count()).select_from(AnonymousCheckCount)) == 0


def test_a_failure_to_record_is_logged_not_raised(engine, session, make_card, caplog):
    """A record the database refuses (here an organisation that does not exist) returns False, is
    logged, and leaves the connection usable for the next record."""
    card = make_card()
    with engine.connect() as connection:
        assert note_check(connection, card.number, Checker(999_999, CheckKind.STAFF_SCAN), NOW) is False
        assert note_check(connection, card.number, None, NOW) is True
    assert "not recorded" in caplog.text
    assert session.scalar(select(AnonymousCheckCount.checks)) == 1


def test_a_partners_check_in_a_request_transaction_fails_alone(session, make_card, make_organisation, caplog):
    """In the request's session, a refused record is undone under its savepoint and logged; the
    request's other work and later records still commit."""
    card, organisation = make_card(), make_organisation()
    assert note_check_in(session, card.number, Checker(999_999, CheckKind.STAFF_SCAN), NOW) is False
    assert note_check_in(session, card.number, Checker(organisation.id, CheckKind.STAFF_NUMBER, "Fès"), NOW) is True
    session.commit()
    assert "not recorded" in caplog.text
    assert session.scalars(select(CardCheck.organisation_id)).all() == [organisation.id]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (None, None),
        (12, None),
        ("", None),
        ("   ", None),
        ("\x00\x07", None),
        ("Souk\x00 Fès", "Souk Fès"),
        ("سوق الأحد، أكادير", "سوق الأحد، أكادير"),
        ("x" * 300, "x" * 120),
    ],
)
def test_places_are_cleaned(raw, stored):
    """A place is stored trimmed, without control characters, at most 120 characters, or not at all."""
    assert clean_place(raw) == stored


@pytest.mark.parametrize(
    ("now", "months", "start"),
    [
        (datetime(2026, 12, 7, 15, tzinfo=UTC), 12, datetime(2025, 12, 7, 15, tzinfo=UTC)),
        (datetime(2026, 3, 31, 8, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2028, 3, 31, 8, tzinfo=UTC), 1, datetime(2028, 2, 29, 8, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    ],
)
def test_the_retention_period_counts_calendar_months(now, months, start):
    """The oldest moment kept is the same day `months` months ago (the month's last day if shorter)."""
    assert retention_start(now, months) == start


def _checks(engine, card, organisation, *moments):
    for moment in moments:
        _note(engine, card.number, Checker(organisation.id, CheckKind.STAFF_NUMBER, "Fès"), moment)


def test_the_history_lists_the_holders_cards_only_within_retention(
    engine, session, make_card, make_organisation, make_offer, make_user
):
    """The history has the artisan's checks newest first, their redemptions and monthly anonymous
    counts, within the retention period; another artisan's are not in it."""
    card, other = make_card(), make_card()
    organisation = make_organisation(name="Barid Al-Maghrib")
    _checks(engine, card, organisation, NOW - timedelta(days=1), NOW - timedelta(days=2), NOW - timedelta(days=400))
    _checks(engine, other, organisation, NOW - timedelta(days=1))
    _note(engine, card.number, None, NOW - timedelta(days=3))
    _note(engine, card.number, None, NOW - timedelta(days=40))
    _note(engine, card.number, None, NOW - timedelta(days=500))
    offer = make_offer(organisation)
    agent = make_user(Role.PARTNER_AGENT, organisation=organisation)
    record_redemption(
        session,
        RedemptionRequest(card=card.number, offer_id=offer.id, fields={"weight_kg": 2, "destination": "FR"}),
        Recorder(Actor(f"user:{agent.id}", agent.id), organisation.id, user_id=agent.id),
        read_scanned=lambda _text: None,
    )
    session.commit()
    history = check_history(session, card.artisan_id, NOW, 12)
    assert [check.checked_at for check in history.checks] == [NOW - timedelta(days=1), NOW - timedelta(days=2)]
    assert {check.organisation for check in history.checks} == {"Barid Al-Maghrib"}
    assert history.anonymous == [("2026-12", 1), ("2026-10", 1)]
    assert [(view.organisation, view.offer.id, view.offline) for view in history.redemptions] == [
        ("Barid Al-Maghrib", offer.id, False)
    ]


def _one_check(engine, session, card, organisation):
    _checks(engine, card, organisation, NOW - timedelta(hours=1))
    return session.scalars(select(CardCheck).where(CardCheck.card_id == card.id)).one()


def test_report_marks_the_check_and_audits_it(engine, session, make_card, make_organisation, make_user):
    """ "This was not me" marks the check reported by the artisan, with an audit event on the card."""
    card, organisation = make_card(), make_organisation()
    user = make_user(Role.ARTISAN, artisan=card.artisan)
    check = _one_check(engine, session, card, organisation)
    report_check(session, card.artisan_id, check.id, user.id, Actor(f"user:{user.id}", user.id))
    session.commit()
    session.refresh(check)
    assert check.reported_by_user_id == user.id and check.reported_at is not None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "card_check.report_not_me")).one()
    assert (event.card_id, event.artisan_id, event.organisation_id) == (card.id, card.artisan_id, organisation.id)
    assert event.after["check"] == check.id and event.after["place"] == "Fès"
    with pytest.raises(CheckAlreadyReported):
        report_check(session, card.artisan_id, check.id, user.id, TEST_ACTOR)


@pytest.mark.parametrize("which", ["another artisan's", "missing", "zero", "negative", "too large"])
def test_report_refuses_checks_not_the_holders(engine, session, make_card, make_organisation, which):
    """Another artisan's check, or an id of no check, is not found (its existence is not disclosed)."""
    card, other, organisation = make_card(), make_card(), make_organisation()
    theirs = _one_check(engine, session, other, organisation)
    check_id = {
        "another artisan's": theirs.id,
        "missing": theirs.id + 1000,
        "zero": 0,
        "negative": -1,
        "too large": 2**63,
    }[which]
    with pytest.raises(CheckNotFound):
        report_check(session, card.artisan_id, check_id, 1, TEST_ACTOR)
    session.rollback()
    assert session.get(CardCheck, theirs.id).reported_at is None


def test_officers_see_the_reported_checks_of_their_region(
    engine, session, make_card, make_artisan, make_organisation, make_user
):
    """Reported checks are listed and counted for the holder's region (and nationally), not elsewhere."""
    organisation = make_organisation()
    fes, rabat = make_card(make_artisan(region_code="03")), make_card(make_artisan(region_code="04"))
    reported = _one_check(engine, session, fes, organisation)
    holder = make_user(Role.ARTISAN, artisan=fes.artisan)
    report_check(session, fes.artisan_id, reported.id, holder.id, TEST_ACTOR)
    session.commit()
    _one_check(engine, session, rabat, organisation)  # not reported
    assert [item.card_number for item in reported_checks(session, Scope(region_code="03"))] == [fes.number]
    assert [item.check.id for item in reported_checks(session, NATIONAL)] == [reported.id]
    assert reported_checks(session, Scope(region_code="04")) == []
    assert count_reported_checks(session, Scope(region_code="03")) == 1
    assert count_reported_checks(session, Scope(region_code="04")) == 0


def test_purge_deletes_what_is_older_than_the_retention_in_batches(engine, session, make_card, make_organisation):
    """Checks older than the retention period and the counts of months before it are deleted, a
    batch at a time; the rest stay."""
    card, organisation = make_card(), make_organisation()
    old = [NOW - timedelta(days=366 + day) for day in range(5)]
    _checks(engine, card, organisation, NOW - timedelta(days=10), *old)
    for moment in (NOW, NOW - timedelta(days=400), NOW - timedelta(days=800)):
        _note(engine, card.number, None, moment)
    assert purge_check_batch(session, NOW, 12, batch_size=3) == 3 + 2
    session.commit()
    assert purge_check_batch(session, NOW, 12, batch_size=3) == 2
    session.commit()
    assert purge_check_batch(session, NOW, 12, batch_size=3) == 0
    assert session.scalars(select(CardCheck.checked_at)).all() == [NOW - timedelta(days=10)]
    assert session.scalars(select(AnonymousCheckCount.month)).all() == [month_of(NOW)]


def _redemption(session, card, offer, agent):
    """A redemption of the card as it is stored once a partner's phone has synced it (offline)."""
    redemption = Redemption(
        offer_id=offer.id,
        card_id=card.id,
        made_at=NOW - timedelta(hours=2),
        fields={"weight_kg": 2},
        made_offline=True,
        recorded_by_user_id=agent.id,
    )
    session.add(redemption)
    session.commit()
    return redemption


@pytest.fixture
def redeem(session, make_offer, make_organisation, make_user):
    """Makes a synced offline redemption of a card at one partner's offer."""
    organisation = make_organisation(name="Souk Expo")
    offer = make_offer(organisation)
    agent = make_user(Role.PARTNER_AGENT, organisation=organisation)
    return lambda card: _redemption(session, card, offer, agent)


def test_report_marks_the_holders_redemption_and_audits_ids_only(session, make_card, make_user, redeem):
    """ "This was not me" on a redemption marks it reported by the artisan and audits it on the card
    with ids (not the redemption's fields); a second report is refused with 409."""
    card = make_card()
    user = make_user(Role.ARTISAN, artisan=card.artisan)
    redemption = redeem(card)
    report_redemption(session, card.artisan_id, redemption.id, user.id, Actor(f"user:{user.id}", user.id))
    session.commit()
    session.refresh(redemption)
    assert redemption.reported_by_user_id == user.id and redemption.reported_at is not None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.report_not_me")).one()
    assert (event.card_id, event.artisan_id) == (card.id, card.artisan_id)
    assert event.organisation_id == redemption.offer.organisation_id
    assert event.after["redemption"] == redemption.id and event.after["made_offline"] is True
    assert "fields" not in event.after and "weight_kg" not in str(event.after)
    [view] = check_history(session, card.artisan_id, NOW, 12).redemptions
    assert (view.id, view.reported_at) == (redemption.id, redemption.reported_at)
    with pytest.raises(RedemptionAlreadyReported) as refused:
        report_redemption(session, card.artisan_id, redemption.id, user.id, TEST_ACTOR)
    assert refused.value.http_status == 409


@pytest.mark.parametrize("which", ["another holder's", "missing", "zero", "negative", "too large"])
def test_report_refuses_redemptions_not_the_holders(session, make_card, redeem, which):
    """Another holder's redemption, or an id of no redemption, is not found (404, nothing disclosed)."""
    card, other = make_card(), make_card()
    theirs = redeem(other)
    redemption_id = {
        "another holder's": theirs.id,
        "missing": theirs.id + 1000,
        "zero": 0,
        "negative": -1,
        "too large": 2**63,
    }[which]
    with pytest.raises(RedemptionNotFound) as refused:
        report_redemption(session, card.artisan_id, redemption_id, 1, TEST_ACTOR)
    assert refused.value.http_status == 404
    session.rollback()
    assert session.get(Redemption, theirs.id).reported_at is None


def test_officers_see_the_reported_redemptions_of_their_region(
    engine, session, make_card, make_artisan, make_user, make_organisation, redeem
):
    """Reported redemptions are listed and counted for the holder's region (and nationally), not
    elsewhere; the dashboard's count adds them to the reported checks."""
    fes, rabat = make_card(make_artisan(region_code="03")), make_card(make_artisan(region_code="04"))
    reported = redeem(fes)
    redeem(rabat)  # not reported
    holder = make_user(Role.ARTISAN, artisan=fes.artisan)
    report_redemption(session, fes.artisan_id, reported.id, holder.id, TEST_ACTOR)
    check = _one_check(engine, session, fes, make_organisation())
    report_check(session, fes.artisan_id, check.id, holder.id, TEST_ACTOR)
    session.commit()
    [item] = reported_redemptions(session, Scope(region_code="03"))
    assert (item.card_number, item.redemption.id, item.organisation) == (fes.number, reported.id, "Souk Expo")
    assert [item.redemption.id for item in reported_redemptions(session, NATIONAL)] == [reported.id]
    assert reported_redemptions(session, Scope(region_code="04")) == []
    assert count_reported_redemptions(session, Scope(region_code="03")) == 1
    assert count_reported_redemptions(session, Scope(region_code="04")) == 0
    assert count_reports(session, Scope(region_code="03")) == 2
    assert count_reports(session, Scope(region_code="04")) == 0
