"""Card lists for operators: filtered by what a verifier would answer today, by region and by trade."""

from datetime import timedelta

import pytest

from tests.conftest import TEST_ACTOR
from webapp.models import RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.listing import card_history, list_cards


@pytest.fixture
def cards_in_every_state(session, make_card, make_artisan):
    """One card per state, the suspended one in region 07 with trade TAP."""
    cards = {
        "active": make_card(),
        "suspended": make_card(make_artisan(region_code="07", trade_code="TAP")),
        "revoked": make_card(),
        "expired": make_card(now=utcnow() - timedelta(days=6 * 366)),
    }
    card_service.suspend_card(session, cards["suspended"], "inquiry", TEST_ACTOR)
    card_service.revoke_card(session, cards["revoked"], RevocationReason.STOLEN, TEST_ACTOR)
    session.commit()
    return cards


@pytest.mark.parametrize("state", ["active", "suspended", "revoked", "expired"])
def test_list_filters_by_state(session, cards_in_every_state, state):
    """Each state lists exactly its card; an expired active card is listed as expired, not active."""
    rows = list(list_cards(session, state=state))
    assert [(r.number, r.state) for r in rows] == [(cards_in_every_state[state].number, state)]


def test_list_filters_by_region_and_trade_and_limits(session, cards_in_every_state):
    """Region and trade filter by the holder; the limit keeps the oldest cards."""
    suspended = cards_in_every_state["suspended"].number
    assert [r.number for r in list_cards(session, region_code="07")] == [suspended]
    assert [r.number for r in list_cards(session, trade_code="tap")] == [suspended]
    assert list(list_cards(session, region_code="07", trade_code="ZEL")) == []
    assert [r.number for r in list_cards(session, limit=2)] == [
        cards_in_every_state["active"].number,
        suspended,
    ]


def test_card_history_is_the_audit_trail_in_order(session, cards_in_every_state):
    """A card's history lists its audit events, oldest first, with their reasons."""
    events = card_history(session, cards_in_every_state["suspended"])
    assert [(e.action, e.reason) for e in events] == [("card.issue", None), ("card.suspend", "inquiry")]
