"""Offers: drafts checked when saved, the approval state machine, the validity window in Morocco's
calendar, per-card withdrawals, and an audit event for every change."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from tests.fixtures.factories import CNSS_REGISTERED, PARCEL_FIELDS
from webapp.models import AuditEvent, OfferState, OfferWithdrawal, QuotaPeriod
from webapp.services.errors import ReasonRequired
from webapp.services.partners.offer_fields import InvalidFieldSpec
from webapp.services.partners.offers import (
    MAX_QUOTA,
    AlreadyWithdrawn,
    InvalidOffer,
    NotWithdrawn,
    OfferDraft,
    OfferNotEditable,
    OfferTransitionRefused,
    applicable_offers,
    change_offer_state,
    create_offer,
    get_offer,
    lift_withdrawal,
    list_offers,
    offer_applies,
    update_offer,
    withdraw_offer_from_card,
    withdrawal_in_force,
)
from webapp.services.partners.rules import InvalidRule, moroccan_today
from webapp.services.scope import RecordNotFound, Scope

NAME = {"fr": "Colis national", "ar": "طرد وطني", "en": "National parcel"}
BENEFIT = {"fr": "-30 % sur les colis", "ar": "-30 % على الطرود", "en": "-30% on parcels"}
DRAFT = OfferDraft(
    name=NAME,
    benefit=BENEFIT,
    valid_from=date(2026, 1, 1),
    valid_until=date(2026, 12, 31),
    conditions=[CNSS_REGISTERED],
    quota_count=20,
    quota_period="month",
    fields=PARCEL_FIELDS,
)


def events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


# --- drafts -----------------------------------------------------------------------------------------


def test_a_draft_is_stored_checked_and_audited(session, make_organisation):
    """A new offer is a draft at version 1, its texts stripped, rule and fields in canonical form."""
    organisation = make_organisation()
    offer = create_offer(session, organisation, replace(DRAFT, name=NAME | {"fr": "  Colis national  "}), TEST_ACTOR)
    assert (offer.state, offer.version, offer.organisation_id) == (OfferState.DRAFT, 1, organisation.id)
    assert (offer.name_fr, offer.name_ar, offer.benefit_en) == ("Colis national", "طرد وطني", "-30% on parcels")
    assert (offer.description_fr, offer.quota_count, offer.quota_period) == ("", 20, QuotaPeriod.MONTH)
    assert offer.conditions == [CNSS_REGISTERED]
    assert [field["name"] for field in offer.fields] == ["weight_kg", "destination"]
    [event] = events(session, "offer.create")
    assert (event.organisation_id, event.offer_id, event.actor) == (organisation.id, offer.id, TEST_ACTOR.label)
    assert event.before is None and event.after["state"] == "draft" and event.after["quota"] == [20, "month"]


@pytest.mark.parametrize("what", ["name", "benefit"])
@pytest.mark.parametrize("language", ["fr", "ar", "en"])
@pytest.mark.parametrize("text", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_name_and_benefit_are_required_in_each_language(session, make_organisation, what, language, text):
    """A name or benefit missing or blank in fr, ar or en is refused, naming text and language."""
    texts = {"name": NAME, "benefit": BENEFIT}[what] | {language: text}
    if text is None:
        del texts[language]
    with pytest.raises(InvalidOffer) as refused:
        create_offer(session, make_organisation(), replace(DRAFT, **{what: texts}), TEST_ACTOR)
    assert refused.value.params == {"place": f"{what} ({language})", "problem": "required"}


@pytest.mark.parametrize(("what", "limit"), [("name", 120), ("benefit", 200), ("description", 2000)])
def test_texts_have_a_length_limit(session, make_organisation, what, limit):
    """A text one character over its limit is refused; at the limit it is kept."""
    base = {"name": NAME, "benefit": BENEFIT, "description": {}}[what]
    at_limit = create_offer(
        session, make_organisation(), replace(DRAFT, **{what: base | {"ar": "ب" * limit}}), TEST_ACTOR
    )
    assert getattr(at_limit, f"{what}_ar") == "ب" * limit
    with pytest.raises(InvalidOffer) as refused:
        too_long = replace(DRAFT, **{what: base | {"ar": "ب" * (limit + 1)}})
        create_offer(session, make_organisation(), too_long, TEST_ACTOR)
    assert refused.value.params == {"place": f"{what} (ar)", "problem": f"at most {limit} characters"}


def test_the_description_is_optional(session, make_organisation):
    """A description may be left out in any language; one given is kept per language."""
    offer = create_offer(session, make_organisation(), replace(DRAFT, description={"en": " Up to 30 kg "}), TEST_ACTOR)
    assert (offer.description_fr, offer.description_ar, offer.description_en) == ("", "", "Up to 30 kg")


def test_the_window_must_end_after_it_starts(session, make_organisation):
    """valid_until before valid_from is refused; a one-day window and an open end are fine."""
    with pytest.raises(InvalidOffer) as refused:
        create_offer(session, make_organisation(), replace(DRAFT, valid_until=date(2025, 12, 31)), TEST_ACTOR)
    assert refused.value.params["place"] == "valid_until"
    one_day = create_offer(session, make_organisation(), replace(DRAFT, valid_until=DRAFT.valid_from), TEST_ACTOR)
    open_ended = create_offer(session, make_organisation(), replace(DRAFT, valid_until=None), TEST_ACTOR)
    assert one_day.valid_until == one_day.valid_from and open_ended.valid_until is None


@pytest.mark.parametrize(
    ("count", "period", "problem"),
    [
        (20, None, "give both a number of redemptions and a period, or neither"),
        (None, "month", "give both a number of redemptions and a period, or neither"),
        (0, "month", "from 1 to 10,000 redemptions"),
        (-1, "day", "from 1 to 10,000 redemptions"),
        (MAX_QUOTA + 1, "year", "from 1 to 10,000 redemptions"),
        (True, "month", "a whole number is expected"),
        (2.5, "month", "a whole number is expected"),
        ("20", "month", "a whole number is expected"),
        (20, "week", "the period is day, month or year"),
        (20, "MONTH", "the period is day, month or year"),
    ],
)
def test_a_bad_quota_is_refused(session, make_organisation, count, period, problem):
    """A quota needs both a count from 1 to the maximum and a period of day, month or year."""
    with pytest.raises(InvalidOffer) as refused:
        create_offer(session, make_organisation(), replace(DRAFT, quota_count=count, quota_period=period), TEST_ACTOR)
    assert refused.value.params == {"place": "quota", "problem": problem}


@pytest.mark.parametrize(("count", "period"), [(None, None), (1, "day"), (MAX_QUOTA, "year")])
def test_a_quota_is_optional_and_bounded_inclusively(session, make_organisation, count, period):
    """No quota at all, or one at either bound, is accepted."""
    draft = replace(DRAFT, quota_count=count, quota_period=period)
    offer = create_offer(session, make_organisation(), draft, TEST_ACTOR)
    assert (offer.quota_count, offer.quota_period) == (count, QuotaPeriod(period) if period else None)


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        ({"label": CNSS_REGISTERED["label"]}, "malformed"),
        ([{"label": CNSS_REGISTERED["label"], "logic": {"==": [{"var": "artisan.salary"}, 1]}}], "unknown_variable"),
        ([{"label": CNSS_REGISTERED["label"], "logic": {"map": [[1], {"var": ""}]}}], "unknown_operator"),
        ([{"label": {"fr": "x"}, "logic": True}], "bad_label"),
    ],
)
def test_rule_errors_surface_as_invalid_rule(session, make_organisation, conditions, reason):
    """A rule the checker refuses fails the whole draft with InvalidRule and its reason."""
    with pytest.raises(InvalidRule) as refused:
        create_offer(session, make_organisation(), replace(DRAFT, conditions=conditions), TEST_ACTOR)
    assert refused.value.reason == reason and refused.value.http_status == 422


@pytest.mark.parametrize(
    "fields",
    [{"name": "weight_kg"}, [{"name": "weight_kg", "type": "date", "label": NAME}]],
    ids=["not-a-list", "unknown-type"],
)
def test_field_spec_errors_surface_as_invalid_field_spec(session, make_organisation, fields):
    """Malformed redemption fields fail the draft with InvalidFieldSpec."""
    with pytest.raises(InvalidFieldSpec):
        create_offer(session, make_organisation(), replace(DRAFT, fields=fields), TEST_ACTOR)


def test_an_invalid_draft_writes_nothing(session, make_organisation):
    """A refused draft adds no offer and no audit event."""
    with pytest.raises(InvalidOffer):
        create_offer(session, make_organisation(), replace(DRAFT, quota_count=0), TEST_ACTOR)
    assert list_offers(session) == [] and events(session, "offer.create") == []


def test_updating_a_draft_bumps_its_version_and_is_audited(session, make_offer):
    """A draft rewritten takes the new values, version 2, and an offer.update event with before and after."""
    offer = make_offer(state=OfferState.DRAFT)
    update_offer(session, offer, replace(DRAFT, name=NAME | {"en": "Parcels"}, quota_count=5), TEST_ACTOR)
    assert (offer.name_en, offer.quota_count, offer.version, offer.state) == ("Parcels", 5, 2, OfferState.DRAFT)
    [event] = events(session, "offer.update")
    assert (event.organisation_id, event.offer_id) == (offer.organisation_id, offer.id)
    assert (event.before["version"], event.after["version"]) == (1, 2)
    assert event.before["quota"] == [None, None] and event.after["quota"] == [5, "month"]


def test_a_refused_update_changes_nothing(session, make_offer):
    """An update with a bad quota leaves the draft as it was (same version, no event)."""
    offer = make_offer(state=OfferState.DRAFT)
    with pytest.raises(InvalidOffer):
        update_offer(session, offer, replace(DRAFT, name=NAME | {"en": "Parcels"}, quota_count=0), TEST_ACTOR)
    assert (offer.name_en.startswith("Offer"), offer.version) == (True, 1)
    assert events(session, "offer.update") == []


@pytest.mark.parametrize("state", [OfferState.SUBMITTED, OfferState.APPROVED, OfferState.PAUSED, OfferState.RETIRED])
def test_only_a_draft_can_be_edited(session, make_offer, state):
    """Submitted, approved, paused or retired offers answer OfferNotEditable."""
    offer = make_offer(state=state)
    with pytest.raises(OfferNotEditable):
        update_offer(session, offer, DRAFT, TEST_ACTOR)


# --- the state machine ----------------------------------------------------------------------------------

ALLOWED = {
    (OfferState.DRAFT, "submit"): OfferState.SUBMITTED,
    (OfferState.SUBMITTED, "approve"): OfferState.APPROVED,
    (OfferState.SUBMITTED, "send_back"): OfferState.DRAFT,
    (OfferState.APPROVED, "pause"): OfferState.PAUSED,
    (OfferState.PAUSED, "resume"): OfferState.APPROVED,
    (OfferState.DRAFT, "retire"): OfferState.RETIRED,
    (OfferState.SUBMITTED, "retire"): OfferState.RETIRED,
    (OfferState.APPROVED, "retire"): OfferState.RETIRED,
    (OfferState.PAUSED, "retire"): OfferState.RETIRED,
}
ACTIONS = ["submit", "approve", "send_back", "pause", "resume", "retire"]
REFUSED = [(state, action) for state in OfferState for action in ACTIONS if (state, action) not in ALLOWED]


@pytest.mark.parametrize(("state", "action"), list(ALLOWED), ids=lambda value: str(value))
def test_every_allowed_transition(session, make_offer, state, action):
    """Each allowed move reaches its state, bumps the version and is audited with its reason."""
    offer = make_offer(state=state)
    version = offer.version
    change_offer_state(session, offer, action, TEST_ACTOR, reason="  checked by the desk  ")
    assert offer.state == ALLOWED[(state, action)] and offer.version == version + 1
    [event] = events(session, f"offer.{action}")
    assert (event.organisation_id, event.offer_id) == (offer.organisation_id, offer.id)
    assert event.reason == "checked by the desk"
    assert (event.before["state"], event.after["state"]) == (state.value, ALLOWED[(state, action)].value)
    assert (event.before["version"], event.after["version"]) == (version, version + 1)


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=lambda value: str(value))
def test_every_refused_transition(session, make_offer, state, action):
    """Every other move is OfferTransitionRefused (409) and changes nothing."""
    offer = make_offer(state=state)
    version, audited = offer.version, len(events(session, f"offer.{action}"))
    with pytest.raises(OfferTransitionRefused) as refused:
        change_offer_state(session, offer, action, TEST_ACTOR, reason="because")
    assert refused.value.http_status == 409 and refused.value.params["state"] == state.value
    assert (offer.state, offer.version) == (state, version)
    assert len(events(session, f"offer.{action}")) == audited


def test_an_unknown_action_is_refused(session, make_offer):
    """An action outside the machine is refused, not a KeyError."""
    offer = make_offer()
    with pytest.raises(OfferTransitionRefused):
        change_offer_state(session, offer, "delete", TEST_ACTOR)


@pytest.mark.parametrize(
    ("state", "action"),
    [(OfferState.SUBMITTED, "send_back"), (OfferState.APPROVED, "pause"), (OfferState.APPROVED, "retire")],
)
@pytest.mark.parametrize("reason", [None, "", "   "], ids=["none", "empty", "blank"])
def test_sending_back_pausing_and_retiring_need_a_reason(session, make_offer, state, action, reason):
    """Without a reason the move is refused (ReasonRequired) and the offer stays as it was."""
    offer = make_offer(state=state)
    with pytest.raises(ReasonRequired):
        change_offer_state(session, offer, action, TEST_ACTOR, reason=reason)
    assert offer.state == state


@pytest.mark.parametrize(
    ("state", "action"),
    [(OfferState.DRAFT, "submit"), (OfferState.SUBMITTED, "approve"), (OfferState.PAUSED, "resume")],
)
@pytest.mark.parametrize("reason", [None, "", "   "], ids=["none", "empty", "blank"])
def test_submitting_approving_and_resuming_need_no_reason(session, make_offer, state, action, reason):
    """The forward moves go through without a reason; a blank one is stored as none."""
    offer = make_offer(state=state)
    change_offer_state(session, offer, action, TEST_ACTOR, reason=reason)
    assert offer.state == ALLOWED[(state, action)]
    assert events(session, f"offer.{action}")[-1].reason is None


# --- where an offer applies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "applies"),
    [
        (date(2026, 11, 30), False),
        (date(2026, 12, 1), True),
        (date(2026, 12, 15), True),
        (date(2026, 12, 31), True),
        (date(2027, 1, 1), False),
    ],
)
def test_an_approved_offer_applies_within_its_window_both_days_included(make_offer, day, applies):
    """The first and the last day of the window count; the days around do not."""
    offer = make_offer(valid_from=date(2026, 12, 1), valid_until=date(2026, 12, 31))
    assert offer_applies(offer, day) is applies


@pytest.mark.parametrize(
    ("moment", "applies"),
    [
        (datetime(2026, 6, 30, 22, 59, tzinfo=UTC), False),  # 23:59 on 30 June in Morocco
        (datetime(2026, 6, 30, 23, 0, tzinfo=UTC), True),  # midnight, 1 July in Morocco
        (datetime(2026, 7, 31, 22, 59, tzinfo=UTC), True),  # 23:59 on 31 July in Morocco
        (datetime(2026, 7, 31, 23, 0, tzinfo=UTC), False),  # already 1 August in Morocco
    ],
)
def test_the_window_follows_the_calendar_in_morocco(make_offer, moment, applies):
    """Days are Morocco's (UTC+1 in July 2026), not UTC's: the window opens and closes at midnight there."""
    offer = make_offer(valid_from=date(2026, 7, 1), valid_until=date(2026, 7, 31))
    assert offer_applies(offer, moroccan_today(moment)) is applies


@pytest.mark.parametrize("state", [OfferState.DRAFT, OfferState.SUBMITTED, OfferState.PAUSED, OfferState.RETIRED])
def test_only_an_approved_offer_applies(make_offer, state):
    """Draft, submitted, paused and retired offers apply on no day, even within their window."""
    offer = make_offer(state=state, valid_from=date(2020, 1, 1))
    assert offer_applies(offer, date(2026, 6, 1)) is False


def test_applicable_offers_are_the_organisations_approved_ones_in_window(session, make_organisation, make_offer):
    """Only this organisation's approved offers in their window that day, oldest first."""
    organisation = make_organisation()
    first = make_offer(organisation, valid_from=date(2026, 1, 1))
    make_offer(organisation, state=OfferState.PAUSED, valid_from=date(2026, 1, 1))
    make_offer(organisation, valid_from=date(2026, 7, 1))  # not yet
    make_offer(organisation, valid_from=date(2025, 1, 1), valid_until=date(2025, 12, 31))  # over
    second = make_offer(organisation, valid_from=date(2026, 2, 1))
    make_offer(valid_from=date(2026, 1, 1))  # another organisation's
    assert applicable_offers(session, organisation.id, date(2026, 6, 1)) == [first, second]


def test_a_partner_sees_only_its_own_offers(session, make_offer):
    """get_offer and list_offers within an organisation's scope never show another's offers."""
    own, other = make_offer(), make_offer()
    scope = Scope(organisation_id=own.organisation_id)
    assert get_offer(session, own.id, scope) == own and list_offers(session, scope) == [own]
    with pytest.raises(RecordNotFound):
        get_offer(session, other.id, scope)
    assert list_offers(session, state=OfferState.APPROVED) == [other, own]


# --- withdrawals from one card ---------------------------------------------------------------------------


def test_withdrawing_an_offer_from_a_card_is_audited_and_bumps_the_version(session, make_offer, make_card):
    """The withdrawal is in force with its reason, the offer's version moves, the event names card and offer."""
    offer, card = make_offer(), make_card()
    version = offer.version
    withdrawal = withdraw_offer_from_card(session, offer, card, "  fraud on shipping rates ", TEST_ACTOR)
    assert withdrawal_in_force(session, offer, card) == withdrawal
    assert (withdrawal.reason, withdrawal.withdrawn_by, offer.version) == (
        "fraud on shipping rates",
        TEST_ACTOR.label,
        version + 1,
    )
    [event] = events(session, "offer.withdraw_from_card")
    assert (event.card_id, event.organisation_id, event.offer_id) == (card.id, offer.organisation_id, offer.id)
    assert event.reason == "fraud on shipping rates"


def test_a_card_cannot_lose_an_offer_twice(session, make_offer, make_card):
    """A second withdrawal in force is AlreadyWithdrawn; the first stays alone."""
    offer, card = make_offer(), make_card()
    withdraw_offer_from_card(session, offer, card, "fraud", TEST_ACTOR)
    with pytest.raises(AlreadyWithdrawn):
        withdraw_offer_from_card(session, offer, card, "fraud again", TEST_ACTOR)
    assert len(session.scalars(select(OfferWithdrawal)).all()) == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_withdrawal_needs_a_reason(session, make_offer, make_card, reason):
    """The reason is what the partner's staff see as the failed condition: it cannot be blank."""
    with pytest.raises(ReasonRequired):
        withdraw_offer_from_card(session, make_offer(), make_card(), reason, TEST_ACTOR)


def test_lifting_gives_the_offer_back_and_allows_a_new_withdrawal(session, make_offer, make_card):
    """Lifted: no withdrawal in force, version bumped, audited; a later withdrawal is possible again."""
    offer, card = make_offer(), make_card()
    withdraw_offer_from_card(session, offer, card, "fraud", TEST_ACTOR)
    version = offer.version
    lift_withdrawal(session, offer, card, TEST_ACTOR, reason="cleared")
    assert withdrawal_in_force(session, offer, card) is None and offer.version == version + 1
    [event] = events(session, "offer.lift_withdrawal")
    assert (event.card_id, event.organisation_id, event.offer_id, event.reason) == (
        card.id,
        offer.organisation_id,
        offer.id,
        "cleared",
    )
    with pytest.raises(NotWithdrawn):
        lift_withdrawal(session, offer, card, TEST_ACTOR)
    withdraw_offer_from_card(session, offer, card, "fraud, again", TEST_ACTOR)
    session.commit()
    assert len(session.scalars(select(OfferWithdrawal)).all()) == 2


def test_a_withdrawal_concerns_one_offer_and_one_card(session, make_organisation, make_offer, make_card):
    """Withdrawing offer A from card 1 leaves card 2 and offer B untouched."""
    organisation = make_organisation()
    offer_a, offer_b = make_offer(organisation), make_offer(organisation)
    card_1, card_2 = make_card(), make_card()
    withdraw_offer_from_card(session, offer_a, card_1, "fraud", TEST_ACTOR)
    assert withdrawal_in_force(session, offer_a, card_2) is None
    assert withdrawal_in_force(session, offer_b, card_1) is None


def test_today_is_the_day_in_morocco():
    """moroccan_today turns an instant into Morocco's date (an hour ahead of UTC in 2025's winter; level
    with UTC from 20 September 2026 in the pinned tzdata)."""
    assert moroccan_today(datetime(2025, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 1, 1)
    assert moroccan_today(datetime(2025, 12, 31, 22, 30, tzinfo=UTC)) == date(2025, 12, 31)
    assert moroccan_today(datetime(2025, 12, 31, 22, 30, tzinfo=UTC) + timedelta(hours=1)) == date(2026, 1, 1)
    assert moroccan_today(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2026, 12, 31)
