"""A reason longer than its column is refused with a sentence (ReasonTooLong), never a database error."""

import pytest

from tests.conftest import TEST_ACTOR
from webapp.models import OfferState, RevocationReason
from webapp.services.cards import lifecycle
from webapp.services.errors import MAX_REASON_LENGTH, ReasonTooLong, optional_reason, required_reason
from webapp.services.partners.api_keys import create_api_key
from webapp.services.partners.offers import change_offer_state, withdraw_offer_from_card

TOO_LONG = "x" * (MAX_REASON_LENGTH + 1)


@pytest.mark.parametrize("check", [required_reason, optional_reason])
def test_the_limit_is_the_column(check):
    """200 characters pass, 201 are refused; surrounding spaces do not count."""
    assert check("  " + "x" * MAX_REASON_LENGTH + "  ") == "x" * MAX_REASON_LENGTH
    with pytest.raises(ReasonTooLong):
        check(TOO_LONG)


def test_optional_reasons_may_be_blank():
    """A blank optional reason is no reason."""
    assert optional_reason("   ") is None and optional_reason(None) is None


@pytest.mark.parametrize(
    "action",
    [
        lambda session, card, offer: lifecycle.suspend_card(session, card, TOO_LONG, TEST_ACTOR),
        lambda session, card, offer: lifecycle.revoke_card(
            session, card, RevocationReason.FRAUD, TEST_ACTOR, "n" * 195
        ),
        lambda session, card, offer: withdraw_offer_from_card(session, offer, card, TOO_LONG, TEST_ACTOR),
        lambda session, card, offer: change_offer_state(session, offer, "pause", TEST_ACTOR, reason=TOO_LONG),
        lambda session, card, offer: create_api_key(session, offer.organisation, "k" * 121, TEST_ACTOR),
    ],
    ids=["suspension", "revocation note", "withdrawal", "offer pause", "api key label"],
)
def test_every_service_refuses_an_overlong_reason(session, make_card, make_offer, action):
    """Each place a person writes a reason refuses one that would not fit, before writing anything."""
    card, offer = make_card(), make_offer(state=OfferState.APPROVED)
    with pytest.raises(ReasonTooLong):
        action(session, card, offer)
