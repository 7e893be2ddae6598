"""Redemptions: each refusal with its code, typed and scanned cards, quota periods in Morocco's
calendar, late offline redemptions over quota, idempotency keys, and the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from unittest.mock import patch

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import AuditEvent, CnssStatus, OfferState, Organisation, QuotaPeriod, QuotaUsage, Redemption, Role
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import TokenRejected, qr_text
from webapp.services.errors import ReasonRequired, ReasonTooLong
from webapp.services.partners.offer_fields import BadFields
from webapp.services.partners.offers import change_offer_state, withdraw_offer_from_card
from webapp.services.partners.quotas import quota_period_key
from webapp.services.partners.redemptions import (
    CLOCK_TOLERANCE,
    MAX_LATENESS,
    AlreadyVoided,
    BadMadeAt,
    CardNotValid,
    IdempotencyKeyRequired,
    IdempotencyKeyReused,
    NotEligible,
    QuotaSpent,
    Recorder,
    RedemptionRequest,
    UnknownCard,
    UnknownOffer,
    claim_idempotency_key,
    get_redemption,
    record_redemption,
    redemption_json,
    request_fingerprint,
    store_idempotent_answer,
    void_redemption,
)
from webapp.services.scope import RecordNotFound, Scope
from webapp.services.trust import signing_keys
from webapp.services.verification import read_card

NOW = datetime(2026, 12, 15, 10, 0, tzinfo=UTC)
ISSUED = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
FIELDS = {"weight_kg": "2,5", "destination": "es"}


@pytest.fixture
def partner(make_organisation, make_api_key):
    """An organisation and the recorder of its API key."""
    organisation = make_organisation()
    new_key = make_api_key(organisation)
    return Recorder(Actor(f"api_key:{new_key.api_key.prefix}"), organisation.id, api_key_id=new_key.api_key.id)


@pytest.fixture
def read_scanned(app, session, signer):
    """What the API gives the service: the card number of a genuine scanned text, or None."""
    keyring = signing_keys.load_keyring(session, app.config["KEYS_DIR"])

    def read(text: str) -> str | None:
        try:
            return read_card(text, app.config["PUBLIC_BASE_URL"], keyring.verifying_keys).number
        except TokenRejected:
            return None

    return read


@pytest.fixture
def offer_of(session, partner, make_offer):
    """Factory: an approved offer of the partner, in its window since 2020 unless told otherwise."""
    organisation = session.get(Organisation, partner.organisation_id)

    def make(**options):
        options.setdefault("valid_from", date(2020, 1, 1))
        return make_offer(organisation, **options)

    return make


@pytest.fixture
def card(make_card):
    return make_card(now=ISSUED)


@pytest.fixture
def redeem(session, partner, read_scanned):
    """Record a redemption of `offer` for a card reference, at NOW unless told otherwise."""

    def redeem(offer, reference, fields=FIELDS, *, made_at=None, offline=False, now=NOW):
        request = RedemptionRequest(card=reference, offer_id=offer.id, fields=fields, made_at=made_at, offline=offline)
        return record_redemption(session, request, partner, read_scanned=read_scanned, now=now)

    return redeem


def assert_nothing_written(session):
    """No redemption and no redemption event, even among the session's unflushed or flushed rows."""
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
    assert session.scalar(select(func.count()).where(AuditEvent.action == "redemption.record")) == 0


# --- accepted ---------------------------------------------------------------------------------------------


def test_a_redemption_is_stored_typed_and_audited(session, partner, offer_of, card, redeem):
    """Fields typed, period of the quota, the key that recorded it, and one audit event."""
    offer = offer_of(quota=(20, "month"))
    recorded = redeem(offer, card.number)
    redemption = recorded.redemption
    assert (redemption.offer_id, redemption.card_id, redemption.made_at, redemption.recorded_at) == (
        offer.id,
        card.id,
        NOW,
        NOW,
    )
    assert redemption.fields == {"weight_kg": 2.5, "destination": "ES"}
    assert (redemption.period, redemption.over_quota, redemption.made_offline) == ("2026-12", False, False)
    assert (redemption.api_key_id, redemption.recorded_by_user_id, recorded.remaining) == (partner.api_key_id, None, 19)
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.record")).all()
    assert (event.card_id, event.organisation_id, event.offer_id, event.actor) == (
        card.id,
        partner.organisation_id,
        offer.id,
        partner.actor.label,
    )
    assert event.after == {"redemption": redemption.id, "over_quota": False, "offline": False}
    assert redemption_json(redemption, recorded.remaining) | {"id": 0} == {
        "id": 0,
        "offer": offer.id,
        "card": card.number,
        "made_at": "2026-12-15T10:00:00Z",
        "made_at_local": "2026-12-15T10:00:00+00:00",  # Morocco has kept UTC+0 since 2026 (tzdata 2026f)
        "recorded_at": "2026-12-15T10:00:00Z",
        "fields": {"weight_kg": 2.5, "destination": "ES"},
        "offline": False,
        "over_quota": False,
        "remaining": 19,
    }


@pytest.mark.parametrize("form", ["qr_text", "bare_token", "typed_number"])
def test_the_card_may_be_scanned_or_typed(app, offer_of, card, redeem, form):
    """The scanned QR text (with the app's PUBLIC_BASE_URL), the bare token or the typed number name the card."""
    reference = {
        "qr_text": qr_text(app.config["PUBLIC_BASE_URL"], card.token),
        "bare_token": card.token,
        "typed_number": f" {card.number[:5].lower()} {card.number[5:].lower()} ",
    }[form]
    assert redeem(offer_of(), reference).redemption.card_id == card.id


def test_without_a_quota_no_period_is_counted(session, offer_of, card, redeem):
    """An offer without a quota stores no period and answers remaining None."""
    recorded = redeem(offer_of(), card.number)
    assert (recorded.redemption.period, recorded.remaining) == (None, None)
    assert session.scalar(select(func.count()).select_from(QuotaUsage)) == 0


# --- refusals ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["revoked", "suspended", "expired"])
def test_a_card_that_is_not_valid_is_refused(session, offer_of, card, redeem, status):
    """card_not_valid, naming the card's state, and nothing written."""
    offer, now = offer_of(), NOW
    if status == "revoked":
        card_service.revoke_card(session, card, card_service.RevocationReason.STOLEN, TEST_ACTOR)
    elif status == "suspended":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    else:
        now = card.expires_at + timedelta(hours=1)
    with pytest.raises(CardNotValid) as refused:
        redeem(offer, card.number, now=now)
    assert refused.value.code == "card_not_valid" and refused.value.params == {"state": status}
    assert_nothing_written(session)


@pytest.mark.parametrize(
    "reference",
    ["ZZZZZZZZZZ", "not a card", "https://carte.test/v#0000", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"],
    ids=["unknown-number", "text", "bad-qr", "forged-token"],
)
def test_an_unknown_card_is_refused_as_not_valid(session, offer_of, card, redeem, reference):
    """A number no card has, or a text that is no genuine card, is card_not_valid too."""
    with pytest.raises(UnknownCard) as refused:
        redeem(offer_of(), reference)
    assert refused.value.code == "card_not_valid" and refused.value.http_status == 409
    assert_nothing_written(session)


def test_another_partners_offer_is_unknown(session, make_offer, card, redeem):
    """An offer of another organisation answers unknown_offer, exactly like a missing id."""
    foreign = make_offer(valid_from=date(2020, 1, 1))
    with pytest.raises(UnknownOffer) as refused:
        redeem(foreign, card.number)
    with pytest.raises(UnknownOffer) as missing:
        redeem(SimpleNamespace(id=999_999), card.number)
    assert str(refused.value) == str(missing.value) and refused.value.code == "unknown_offer"
    assert_nothing_written(session)


@pytest.mark.parametrize(
    "options",
    [
        {"state": OfferState.PAUSED},
        {"state": OfferState.DRAFT},
        {"state": OfferState.RETIRED},
        {"valid_from": date(2026, 12, 16)},  # starts tomorrow
        {"valid_from": date(2026, 1, 1), "valid_until": date(2026, 12, 14)},  # ended yesterday
    ],
    ids=["paused", "draft", "retired", "not-yet", "over"],
)
def test_an_offer_that_does_not_apply_that_day_is_unknown(session, offer_of, card, redeem, options):
    """A paused (or draft, retired) offer, or one outside its window, answers unknown_offer."""
    with pytest.raises(UnknownOffer) as refused:
        redeem(offer_of(**options), card.number)
    assert refused.value.http_status == 404
    assert_nothing_written(session)


def test_a_holder_who_is_not_eligible_is_told_what_failed(session, offer_of, make_artisan, make_card, redeem):
    """not_eligible with the failed conditions' labels, in the caller's language."""
    holder = make_card(make_artisan(cnss_status=CnssStatus.NOT_REGISTERED), now=ISSUED)
    with pytest.raises(NotEligible) as refused:
        redeem(offer_of(conditions=[CNSS_REGISTERED]), holder.number)
    assert refused.value.failed == (CNSS_REGISTERED["label"],)
    assert refused.value.details("ar", lambda message, **params: message) == {"failed": ["مسجل في الضمان الاجتماعي"]}
    assert_nothing_written(session)


def test_a_withdrawn_offer_is_refused_with_its_reason(session, offer_of, card, redeem):
    """Withdrawn from this card: not_eligible, the withdrawal's reason as the failed label."""
    offer = offer_of()
    withdraw_offer_from_card(session, offer, card, "Fraude sur les tarifs", TEST_ACTOR)
    with pytest.raises(NotEligible) as refused:
        redeem(offer, card.number)
    assert refused.value.details("en", lambda message, **params: message) == {"failed": ["Fraude sur les tarifs"]}
    assert_nothing_written(session)


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({}, ["destination", "weight_kg"]),
        ({"weight_kg": 31, "destination": "ES"}, ["weight_kg"]),
        ({"weight_kg": 2, "destination": "Spain", "colour": "red"}, ["colour", "destination"]),
        ("weight=2", ["fields"]),
    ],
)
def test_bad_fields_are_refused_all_at_once(session, offer_of, card, redeem, fields, wrong):
    """bad_fields lists every wrong field; nothing is written and no quota is taken."""
    offer = offer_of(quota=(5, "day"))
    with pytest.raises(BadFields) as refused:
        redeem(offer, card.number, fields)
    assert sorted(refused.value.problems) == wrong
    assert_nothing_written(session)
    assert session.scalar(select(func.count()).select_from(QuotaUsage)) == 0


def test_a_spent_quota_is_refused(session, offer_of, card, redeem):
    """Two a month: the third is quota_spent (naming count and period), the count stays at two."""
    offer = offer_of(quota=(2, "month"))
    assert [redeem(offer, card.number).remaining for _ in range(2)] == [1, 0]
    with pytest.raises(QuotaSpent) as refused:
        redeem(offer, card.number)
    assert refused.value.params == {"count": 2, "period": "month"} and refused.value.http_status == 409
    assert session.scalar(select(func.count()).select_from(Redemption)) == 2
    assert session.scalar(select(QuotaUsage.used)) == 2


def test_the_quota_is_per_card(offer_of, card, make_card, redeem):
    """Another card has its own quota."""
    offer = offer_of(quota=(1, "year"))
    redeem(offer, card.number)
    assert redeem(offer, make_card(now=ISSUED).number).remaining == 0


@pytest.mark.parametrize(
    "made_at",
    [NOW + CLOCK_TOLERANCE + timedelta(seconds=1), NOW + timedelta(days=1), NOW - MAX_LATENESS - timedelta(seconds=1)],
    ids=["just-too-far-ahead", "tomorrow", "just-too-old"],
)
def test_a_time_made_in_the_future_or_too_old_is_refused(session, offer_of, card, redeem, made_at):
    """bad_made_at for a phone clock beyond the tolerance or an offline queue older than 30 days."""
    with pytest.raises(BadMadeAt) as refused:
        redeem(offer_of(), card.number, made_at=made_at, offline=True)
    assert refused.value.code == "bad_made_at" and refused.value.http_status == 422
    assert_nothing_written(session)


@pytest.mark.parametrize("made_at", [NOW + CLOCK_TOLERANCE, NOW - MAX_LATENESS], ids=["clock-ahead", "30-days-late"])
def test_the_tolerances_themselves_are_accepted(offer_of, card, redeem, made_at):
    """Exactly at the clock tolerance or at the 30-day lateness limit, the redemption is stored."""
    assert redeem(offer_of(), card.number, made_at=made_at, offline=True).redemption.made_at == made_at


# --- quota periods in Morocco ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "moment", "key"),
    [
        # Morocco's clock as the pinned tzdata (2026f) has it: UTC+1, UTC+0 in Ramadan, then UTC+0 from
        # 20 September 2026 (the system's older tzdata still says UTC+1 there: the two clocks of issue 17).
        (QuotaPeriod.DAY, "2026-07-01T22:59:59", "2026-07-01"),
        (QuotaPeriod.DAY, "2026-07-01T23:00:00", "2026-07-02"),  # midnight in Morocco (UTC+1)
        (QuotaPeriod.DAY, "2026-12-01T23:30:00", "2026-12-01"),  # UTC+0 since September 2026
        (QuotaPeriod.DAY, "2026-12-02T00:00:00", "2026-12-02"),
        (QuotaPeriod.MONTH, "2026-06-30T22:59:59", "2026-06"),
        (QuotaPeriod.MONTH, "2026-06-30T23:00:00", "2026-07"),
        (QuotaPeriod.MONTH, "2026-01-31T23:30:00", "2026-02"),
        (QuotaPeriod.MONTH, "2026-02-28T23:30:00", "2026-02"),  # Ramadan: Morocco is on UTC
        (QuotaPeriod.MONTH, "2026-11-30T23:30:00", "2026-11"),  # UTC+0 since September 2026
        (QuotaPeriod.YEAR, "2026-12-31T23:59:59", "2026"),
        (QuotaPeriod.YEAR, "2027-01-01T00:00:00", "2027"),
    ],
)
def test_periods_follow_the_calendar_in_morocco(period, moment, key):
    """Days, months and years turn at midnight in Morocco (UTC+1, UTC+0 during Ramadan), not UTC."""
    assert quota_period_key(period, datetime.fromisoformat(moment).replace(tzinfo=UTC)) == key


def test_a_redemption_counts_in_moroccos_period(session, offer_of, card, redeem):
    """Morocco's month, from the pinned tzdata: 23:30 UTC on 30 November is 23:30 there (UTC+0 since
    September 2026; the system's older tzdata said 00:30 on 1 December), so it counts in November, and
    one at 00:30 UTC on 1 December counts in December: the November one does not use it up."""
    offer = offer_of(quota=(1, "month"))
    november = redeem(offer, card.number, made_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), offline=True)
    december = redeem(offer, card.number, made_at=datetime(2026, 12, 1, 0, 30, tzinfo=UTC), offline=True)
    assert (november.redemption.period, december.redemption.period) == ("2026-11", "2026-12")
    assert not november.redemption.over_quota and not december.redemption.over_quota
    with pytest.raises(QuotaSpent):
        redeem(offer, card.number)  # NOW is in December too


# --- late offline redemptions -------------------------------------------------------------------------------


def test_a_late_offline_redemption_over_quota_is_stored_and_flagged(session, offer_of, card, redeem):
    """The artisan was served at the counter: over the quota, it is kept with over_quota=True."""
    offer = offer_of(quota=(1, "day"))
    redeem(offer, card.number)
    late = redeem(offer, card.number, made_at=NOW - timedelta(hours=1), offline=True)
    assert (late.redemption.over_quota, late.redemption.made_offline, late.remaining) == (True, True, 0)
    assert late.redemption.made_at == NOW - timedelta(hours=1) and late.redemption.recorded_at == NOW
    assert session.scalar(select(QuotaUsage.used)) == 1  # the flagged one takes no unit
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.record")).all()[-1]
    assert event.after == {"redemption": late.redemption.id, "over_quota": True, "offline": True}
    with pytest.raises(QuotaSpent):
        redeem(offer, card.number, made_at=NOW - timedelta(hours=1))  # online: refused


def test_an_offline_redemption_is_judged_at_the_time_it_was_made(offer_of, card, redeem):
    """Made on the card's last valid day and synced after it expired: accepted, in that day's period."""
    offer = offer_of(quota=(1, "day"))
    made_at = card.expires_at - timedelta(hours=2)
    late = redeem(offer, card.number, made_at=made_at, offline=True, now=card.expires_at + timedelta(days=1))
    assert late.redemption.made_offline and late.redemption.period == quota_period_key(QuotaPeriod.DAY, made_at)


# --- idempotency keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 256], ids=["none", "empty", "blank", "too-long"])
def test_an_idempotency_key_is_required(session, partner, key):
    """No usable key: idempotency_key_required (400), nothing claimed."""
    with pytest.raises(IdempotencyKeyRequired) as refused:
        claim_idempotency_key(session, partner.organisation_id, key, "f" * 64)
    assert refused.value.http_status == 400


def test_a_claimed_key_replays_its_answer_and_refuses_another_request(session, partner, make_organisation):
    """The same key and request find the stored answer; another request with it is refused."""
    fingerprint = request_fingerprint("POST", "/api/v1/redemptions", {"card": "X", "offer": 1})
    assert claim_idempotency_key(session, partner.organisation_id, " key-1 ", fingerprint) is None
    store_idempotent_answer(session, partner.organisation_id, "key-1", 201, {"id": 7})
    replay = claim_idempotency_key(session, partner.organisation_id, "key-1", fingerprint)
    assert replay is not None and (replay.status_code, replay.response) == (201, {"id": 7})
    other = request_fingerprint("POST", "/api/v1/redemptions", {"card": "X", "offer": 2})
    with pytest.raises(IdempotencyKeyReused) as refused:
        claim_idempotency_key(session, partner.organisation_id, "key-1", other)
    assert refused.value.http_status == 422
    # Keys belong to an organisation: another may use the same one.
    assert claim_idempotency_key(session, make_organisation().id, "key-1", other) is None


def test_the_fingerprint_ignores_member_order_only():
    """Two bodies with the same members in another order are the same request; another value is not."""
    first = request_fingerprint("POST", "/p", {"a": 1, "b": [1, 2]})
    assert first == request_fingerprint("POST", "/p", {"b": [1, 2], "a": 1})
    assert first != request_fingerprint("POST", "/p", {"a": 1, "b": [2, 1]})
    assert first != request_fingerprint("PUT", "/p", {"a": 1, "b": [1, 2]})


def test_a_paused_offer_refuses_then_accepts_when_resumed(session, offer_of, card, redeem):
    """Pausing is not final: the same card redeems again once the offer is resumed."""
    offer = offer_of()
    change_offer_state(session, offer, "pause", TEST_ACTOR, reason="audit")
    with pytest.raises(UnknownOffer):
        redeem(offer, card.number)
    change_offer_state(session, offer, "resume", TEST_ACTOR)
    assert redeem(offer, card.number).redemption.offer_id == offer.id


# --- offline, judged on the card as it stood ----------------------------------------------------------------


def _change_card(session, card, change, at):
    """Suspend or revoke the card, with the audit trail dating the change `at` (recorded so: the
    trail refuses a change afterwards)."""
    with patch("webapp.services.audit.utcnow", return_value=at):
        if change == "revoke":
            card_service.revoke_card(session, card, card_service.RevocationReason.STOLEN, TEST_ACTOR)
        else:
            card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.flush()


@pytest.mark.parametrize("change", ["revoke", "suspend"])
def test_an_offline_redemption_made_before_the_card_changed_is_kept(session, offer_of, card, redeem, change):
    """Made offline while the card was valid, synced after it was revoked or suspended: stored, and the
    audit trail says how the card stands now (the agent's phone could not know)."""
    _change_card(session, card, change, NOW - timedelta(hours=1))
    recorded = redeem(offer_of(), card.number, made_at=NOW - timedelta(hours=3), offline=True)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.record")).one()
    assert recorded.redemption.made_offline
    assert event.after["card_status_now"] == {"revoke": "revoked", "suspend": "suspended"}[change]


@pytest.mark.parametrize("change", ["revoke", "suspend"])
def test_an_offline_redemption_made_after_the_card_changed_is_refused(session, offer_of, card, redeem, change):
    """Made offline after the card was revoked or suspended: refused, naming that state."""
    _change_card(session, card, change, NOW - timedelta(hours=3))
    with pytest.raises(CardNotValid) as refused:
        redeem(offer_of(), card.number, made_at=NOW - timedelta(hours=1), offline=True)
    assert refused.value.params == {"state": {"revoke": "revoked", "suspend": "suspended"}[change]}
    assert_nothing_written(session)


def test_an_online_redemption_is_judged_on_the_card_now(session, offer_of, card, redeem):
    """Online, the card as it stands now: a made_at before the revocation does not bring it back."""
    _change_card(session, card, "revoke", NOW - timedelta(hours=1))
    with pytest.raises(CardNotValid):
        redeem(offer_of(), card.number, made_at=NOW - timedelta(hours=3))
    assert_nothing_written(session)


def test_a_card_reinstated_after_a_suspension_is_judged_at_each_moment(session, offer_of, card, redeem):
    """Suspended then reinstated: an offline redemption made during the suspension is refused, one made
    after the reinstatement is kept."""
    _change_card(session, card, "suspend", NOW - timedelta(hours=5))
    with patch("webapp.services.audit.utcnow", return_value=NOW - timedelta(hours=2)):
        card_service.reinstate_card(session, card, TEST_ACTOR)
    session.flush()
    offer = offer_of()
    with pytest.raises(CardNotValid):
        redeem(offer, card.number, made_at=NOW - timedelta(hours=3), offline=True)
    assert redeem(offer, card.number, made_at=NOW - timedelta(hours=1), offline=True).redemption.made_offline


# --- voiding a mistaken redemption ----------------------------------------------------------------------


@pytest.fixture
def manager(session, partner, make_user):
    return make_user(Role.PARTNER_MANAGER, organisation=session.get(Organisation, partner.organisation_id))


def _void(session, partner, manager, redemption, reason="Wrong card scanned"):
    found = get_redemption(session, redemption.id, Scope(organisation_id=partner.organisation_id))
    return void_redemption(session, found, manager.id, reason, Actor(f"user:{manager.id}", manager.id))


def test_a_voided_redemption_gives_its_quota_back(session, partner, manager, offer_of, card, redeem):
    """Quota 1: redeem, void, and the same card can redeem again (the API's remaining says so too)."""
    offer = offer_of(quota=(1, "month"))
    first = redeem(offer, card.number).redemption
    with pytest.raises(QuotaSpent):
        redeem(offer, card.number)
    voided = _void(session, partner, manager, first)
    assert (voided.void_reason, voided.voided_by_user_id) == ("Wrong card scanned", manager.id)
    assert voided.voided_at is not None and session.scalar(select(QuotaUsage.used)) == 0
    again = redeem(offer, card.number)
    assert again.remaining == 0 and not again.redemption.over_quota


def test_voiding_is_audited_with_its_reason(session, partner, manager, offer_of, card, redeem):
    """One redemption.void event, with the reason, the card and the offer."""
    offer = offer_of(quota=(2, "day"))
    redemption = redeem(offer, card.number).redemption
    _void(session, partner, manager, redemption, reason="  Saisie en double  ")
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "redemption.void")).all()
    assert (event.reason, event.card_id, event.offer_id, event.actor) == (
        "Saisie en double",
        card.id,
        offer.id,
        f"user:{manager.id}",
    )
    assert event.after == {"redemption": redemption.id, "voided": True, "quota_given_back": True}


def test_a_redemption_cannot_be_voided_twice(session, partner, manager, offer_of, card, redeem):
    """The second void is already_voided and gives no second unit back."""
    offer = offer_of(quota=(3, "month"))
    first, second = (redeem(offer, card.number).redemption for _ in range(2))
    _void(session, partner, manager, first)
    with pytest.raises(AlreadyVoided):
        _void(session, partner, manager, first)
    assert session.scalar(select(QuotaUsage.used)) == 1 and second.voided_at is None


def test_voiding_an_over_quota_redemption_gives_nothing_back(session, partner, manager, offer_of, card, redeem):
    """A late redemption flagged over quota took no unit: voiding it leaves the count as it was."""
    offer = offer_of(quota=(1, "day"))
    redeem(offer, card.number)
    late = redeem(offer, card.number, made_at=NOW - timedelta(hours=1), offline=True).redemption
    _void(session, partner, manager, late)
    assert session.scalar(select(QuotaUsage.used)) == 1


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 201], ids=["empty", "blank", "none", "too-long"])
def test_a_void_needs_a_reason(session, partner, manager, offer_of, card, redeem, reason):
    """No reason (or one longer than its column): refused, nothing changed."""
    offer = offer_of(quota=(1, "month"))
    redemption = redeem(offer, card.number).redemption
    with pytest.raises((ReasonRequired, ReasonTooLong)):
        _void(session, partner, manager, redemption, reason=reason)
    assert redemption.voided_at is None and session.scalar(select(QuotaUsage.used)) == 1


def test_another_partners_redemption_is_not_found(session, partner, manager, make_organisation, offer_of, card, redeem):
    """A redemption outside the manager's organisation answers not found (its existence undisclosed)."""
    redemption = redeem(offer_of(), card.number).redemption
    with pytest.raises(RecordNotFound):
        get_redemption(session, redemption.id, Scope(organisation_id=make_organisation().id))
