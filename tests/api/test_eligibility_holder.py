"""GET /api/v1/eligibility by a card's number: partner staff (the verifier app) get the holder's name
in both scripts to compare with the person at the counter; a partner system's key never does."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import TEST_ACTOR
from webapp.models import Role
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import new_card_number

ELIGIBILITY = "/api/v1/eligibility"


@pytest.mark.parametrize("role", [Role.PARTNER_AGENT, Role.PARTNER_MANAGER])
def test_partner_staff_get_the_holder_of_a_number(client: Any, auth: Any, make_user: Any, make_card: Any, role: Role):
    """Signed-in staff: the holder's Latin and Arabic names, trade and region, as the card's face shows them."""
    card = make_card()
    auth.login(make_user(role))
    answer = client.get(ELIGIBILITY, query_string={"card": card.number}, headers={"Accept-Language": "fr"}).get_json()
    holder = answer["holder"]
    assert (holder["number"], holder["name"], holder["name_ar"]) == (
        card.number,
        card.artisan.name_latin,
        card.artisan.name_ar,
    )
    assert (holder["trade"], holder["region"]) == (card.artisan.trade_code, card.artisan.region_code)
    assert "status_since" not in holder


def test_a_suspended_cards_holder_says_since_when(client: Any, auth: Any, session: Any, make_user: Any, make_card: Any):
    """A suspended card's holder is still named, with the day it was suspended (and no offer)."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.commit()
    auth.login(make_user(Role.PARTNER_AGENT))
    answer = client.get(ELIGIBILITY, query_string={"card": card.number}).get_json()
    assert answer["card"]["state"] == "suspended"
    assert answer["holder"]["name"] == card.artisan.name_latin and "status_since" in answer["holder"]


def test_a_partner_systems_key_never_gets_the_holder(client: Any, make_api_key: Any, make_card: Any):
    """A lender's system sees eligibility only (least disclosure): no holder member."""
    card, key = make_card(), make_api_key()
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    answer = client.get(ELIGIBILITY, query_string={"card": card.number}, headers=headers).get_json()
    assert answer["card"]["state"] == "active" and "holder" not in answer


def test_a_number_of_no_card_has_no_holder(client: Any, auth: Any, make_user: Any):
    """A well-formed number of no card: unknown, nobody named."""
    auth.login(make_user(Role.PARTNER_AGENT))
    answer = client.get(ELIGIBILITY, query_string={"card": new_card_number()}).get_json()
    assert answer["card"]["state"] == "unknown" and "holder" not in answer
