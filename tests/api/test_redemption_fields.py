"""POST /api/v1/redemptions with values that do not fit the offer's fields: refused with each field's
own reason (the verifier app puts it on the field), never cut to fit, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures.factories import PARCEL_FIELDS
from webapp.models import Redemption, Role

URL = "/api/v1/redemptions"
NOTE = {"name": "note", "type": "text", "label": {"fr": "Note", "ar": "ملاحظة", "en": "Note"}, "max_length": 10}


@pytest.fixture
def counter(client: Any, auth: Any, make_user: Any, make_offer: Any, make_card: Any) -> Any:
    """A partner agent signed in, their parcel offer with a short note field, and a valid card."""
    offer = make_offer(fields=[*PARCEL_FIELDS, NOTE])
    auth.login(make_user(Role.PARTNER_AGENT, organisation=offer.organisation))
    return offer, make_card()


def post(client: Any, counter: Any, fields: dict[str, Any], key: str = "k-1") -> Any:
    offer, card = counter
    body = {"card": card.number, "offer": offer.id, "fields": fields}
    return client.post(URL, json=body, headers={"Idempotency-Key": key, "Accept-Language": "en"})


@pytest.mark.parametrize(
    ("fields", "name", "reason"),
    [
        ({"weight_kg": "2", "destination": "MA", "note": "x" * 11}, "note", "at most 10 characters"),
        ({"weight_kg": "2", "destination": "France", "note": "ok"}, "destination", "a country code is expected"),
        ({"weight_kg": "31", "destination": "MA", "note": "ok"}, "weight_kg", "at most 30"),
        ({"weight_kg": "deux", "destination": "MA", "note": "ok"}, "weight_kg", "a number is expected"),
    ],
    ids=["text-too-long", "country-name", "over-max", "not-a-number"],
)
def test_a_value_that_does_not_fit_is_refused_with_its_fields_reason(
    client: Any, session: Any, counter: Any, fields: dict[str, Any], name: str, reason: str
) -> None:
    """422 bad_fields with the reason under the field's name; nothing recorded (no cut "Fr", no cut note)."""
    response = post(client, counter, fields)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "bad_fields" and list(answer["fields"]) == [name]
    assert answer["fields"][name].startswith(reason)
    assert session.scalar(select(func.count()).select_from(Redemption)) == 0


def test_a_text_of_exactly_the_maximum_length_is_stored_whole(client: Any, session: Any, counter: Any) -> None:
    """At the limit the text is kept as typed, every character."""
    response = post(client, counter, {"weight_kg": "2,5", "destination": "fr", "note": "é" * 10})
    assert response.status_code == 201
    assert response.get_json()["fields"] == {"weight_kg": 2.5, "destination": "FR", "note": "é" * 10}
