"""What a card unlocks, as its holder sees it: every partner's offers that apply today, eligible or
with the failed conditions' labels, and the redemptions left this period."""

from datetime import date, timedelta

import pytest

from tests.conftest import TEST_ACTOR
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.models import CnssStatus, OfferState, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.partners.holder_offers import holder_card, offers_for_holder
from webapp.services.partners.offers import withdraw_offer_from_card
from webapp.services.partners.quotas import quota_period_key, take_quota_unit

FEZ_REGION = {
    "label": {"fr": "Artisan de la région Fès-Meknès", "ar": "صانع من جهة فاس مكناس", "en": "Artisan of Fez-Meknes"},
    "logic": {"==": [{"var": "card.region"}, "03"]},
}


def test_offers_of_every_partner_with_the_cards_standing(
    session, make_card, make_artisan, make_offer, make_organisation
):
    """Eligible offers come first with the quota left; the others carry the failed labels in each language."""
    card = make_card(make_artisan(cnss_status=CnssStatus.NOT_REGISTERED, region_code="03"))
    post, lender = make_organisation(name="Barid"), make_organisation(name="Crédit", kind="lender")
    parcels = make_offer(post, conditions=[FEZ_REGION], quota=(20, "month"))
    loan = make_offer(lender, conditions=[CNSS_REGISTERED, FEZ_REGION])
    now = utcnow()
    take_quota_unit(session, parcels, card, quota_period_key(parcels.quota_period, now))
    session.commit()
    standing = offers_for_holder(session, card.artisan_id, now)
    assert standing.card.id == card.id and standing.state == "active"
    assert [(item.offer.id, item.eligibility.eligible, item.remaining) for item in standing.offers] == [
        (parcels.id, True, 19),
        (loan.id, False, None),
    ]
    refused = standing.not_eligible[0]
    assert refused.partner == "Crédit"
    assert refused.failed_labels("ar") == ["مسجل في الضمان الاجتماعي"]
    assert refused.failed_labels("en") == ["CNSS registered"]


@pytest.mark.parametrize(
    "state", [OfferState.DRAFT, OfferState.SUBMITTED, OfferState.PAUSED, OfferState.RETIRED, "not yet", "ended"]
)
def test_offers_that_do_not_apply_today_are_not_listed(session, make_card, make_offer, state):
    """Only approved offers within their window are shown."""
    card = make_card()
    today = date.today()
    if state == "not yet":
        make_offer(valid_from=today + timedelta(days=5))
    elif state == "ended":
        make_offer(valid_from=today - timedelta(days=30), valid_until=today - timedelta(days=2))
    else:
        make_offer(state=state)
    assert offers_for_holder(session, card.artisan_id, utcnow()).offers == []


@pytest.mark.parametrize("change", ["suspend", "revoke"])
def test_a_card_not_in_force_unlocks_nothing(session, make_card, make_offer, change):
    """A suspended or revoked card is eligible for no offer (the holder is told its state)."""
    card = make_card()
    make_offer()
    if change == "suspend":
        card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    else:
        card_service.revoke_card(session, card, card_service.RevocationReason.FRAUD, TEST_ACTOR)
    session.commit()
    standing = offers_for_holder(session, card.artisan_id, utcnow())
    assert standing.state == change + ("ed" if change == "suspend" else "d")
    assert [item.eligibility.eligible for item in standing.offers] == [False]


def test_a_withdrawn_offer_shows_the_withdrawal_reason(session, make_card, make_offer):
    """An offer withdrawn from the card is not eligible, with the withdrawal's reason as the label."""
    card, offer = make_card(), make_offer()
    withdraw_offer_from_card(session, offer, card, "Fraude sur les tarifs", TEST_ACTOR)
    session.commit()
    (item,) = offers_for_holder(session, card.artisan_id, utcnow()).offers
    assert not item.eligibility.eligible and item.failed_labels("en") == ["Fraude sur les tarifs"]


def test_an_artisan_without_a_card_has_no_offers(session, make_artisan, make_offer):
    """No card yet: no offer, and the state says so."""
    artisan = make_artisan()
    make_offer()
    standing = offers_for_holder(session, artisan.id, utcnow())
    assert (standing.card, standing.state, standing.offers) == (None, "none", [])


def test_the_holders_card_is_the_one_in_force(session, signer, make_card):
    """After a replacement, the new card is the holder's card, not the revoked one."""
    old = make_card()
    new = card_service.replace_card(
        session, old, signer, TEST_ACTOR, validity_years=5, reason=card_service.RevocationReason.LOST
    )
    session.commit()
    assert holder_card(session, old.artisan_id).id == new.id
