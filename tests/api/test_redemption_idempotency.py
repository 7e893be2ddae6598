"""POST /api/v1/redemptions with an Idempotency-Key: a retry gets the first answer, a refusal keeps
nothing, and the key is claimed in the request's own transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import IdempotencyRecord, Redemption
from webapp.services.partners.offers import change_offer_state

URL = "/api/v1/redemptions"


@pytest.fixture
def partner(app, make_api_key, make_offer, make_card):
    """A partner's key (used a moment ago, so a request writes nothing before its claim), an
    offer of the partner and a valid card."""
    new_key = make_api_key()
    headers = {"Authorization": f"Bearer {new_key.plaintext}"}
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    offer = make_offer(new_key.api_key.organisation)
    card = make_card()
    body = {"card": card.number, "offer": offer.id, "fields": {"weight_kg": 2, "destination": "MA"}}
    return headers, offer, body


def post(client, headers, body, key):
    return client.post(URL, json=body, headers=headers | {"Idempotency-Key": key})


def test_a_retry_replays_the_first_answer(client, session, partner):
    """The same request with the same key answers the first 201 again and writes nothing more."""
    headers, _offer, body = partner
    first = post(client, headers, body, "k-1")
    again = post(client, headers, body, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_a_refused_request_keeps_nothing_and_its_retry_is_judged_again(client, session, partner):
    """A refusal stores no idempotency record: once the offer applies again, the same key records it."""
    headers, offer, body = partner
    change_offer_state(session, offer, "pause", TEST_ACTOR, reason="inquiry")
    session.commit()
    refused = post(client, headers, body, "k-2")
    assert refused.status_code == 404 and refused.get_json()["error"] == "unknown_offer"
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    change_offer_state(session, offer, "resume", TEST_ACTOR)
    session.commit()
    retried = post(client, headers, body, "k-2")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers


def test_one_key_for_another_request_is_refused(client, session, partner):
    """A key already used for another body answers 422 idempotency_key_reused and writes nothing."""
    headers, _offer, body = partner
    assert post(client, headers, body, "k-3").status_code == 201
    other = post(client, headers, body | {"fields": {"weight_kg": 3, "destination": "MA"}}, "k-3")
    assert other.status_code == 422 and other.get_json()["error"] == "idempotency_key_reused"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 1


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 256], ids=["absent", "empty", "blank", "too-long"])
def test_a_redemption_needs_an_idempotency_key(client, session, partner, key):
    """Without a usable Idempotency-Key the request answers 400 idempotency_key_required."""
    headers, _offer, body = partner
    response = client.post(URL, json=body, headers=headers | ({"Idempotency-Key": key} if key is not None else {}))
    assert response.status_code == 400 and response.get_json()["error"] == "idempotency_key_required"
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0
