"""The document and the server agree on each request found to differ (webapp/api/schemas.py): a
request the document's schema refuses is refused (400 with its reason code, or another documented
refusal), and one it accepts is never refused as malformed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from webapp.services.cards.numbers import new_card_number

REDEMPTIONS = "/api/v1/redemptions"
ELIGIBILITY = "/api/v1/eligibility"
DOCUMENT_URI = "urn:carte-artisan:openapi"


def validator(document: dict[str, Any], pointer: str) -> Draft202012Validator:
    registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture
def document(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").get_json()


def wrong_check_character(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


NOW = datetime.now(UTC)
# (what is sent as ?card=, the status, the reason code or None, valid for the document)
CARD_QUERIES = [
    ("", 400, "bad_card_number", False),  # an empty ?card= (the document said: any string)
    ("   ", 400, "bad_card_number", False),
    ("Drâa-Tafilalet", 400, "bad_card_number", False),  # found by schemathesis: any string was documented
    ("K7M2Q9XH4V\t", 400, "bad_card_number", False),  # around the number, only spaces and dashes
    ("ſ" * 10, 400, "bad_card_number", False),  # Python's upper() makes it "S": the pattern is ASCII
]


@pytest.mark.parametrize(("card", "status", "code", "valid"), CARD_QUERIES)
def test_a_card_query_is_refused_as_documented(client, document, make_api_key, card, status, code, valid):
    """An eligibility query gets the status its schema (the `card` parameter's pattern) says."""
    headers = {"Authorization": f"Bearer {make_api_key().plaintext}"}
    response = client.get(ELIGIBILITY, query_string={"card": card}, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (status, code)
    [parameter] = [p for p in document["paths"][ELIGIBILITY]["get"]["parameters"] if p.get("name") == "card"]
    assert Draft202012Validator(parameter["schema"]).is_valid(card) is valid


def test_a_typed_number_fits_the_document_and_is_answered(client, document, make_api_key):
    """Case, spaces and dashes do not matter; a wrong check character is a documented 400."""
    headers = {"Authorization": f"Bearer {make_api_key().plaintext}"}
    number = new_card_number()
    typed = f" {number[:5].lower()}-{number[5:]} "
    [parameter] = [p for p in document["paths"][ELIGIBILITY]["get"]["parameters"] if p.get("name") == "card"]
    assert Draft202012Validator(parameter["schema"]).is_valid(typed)
    assert client.get(ELIGIBILITY, query_string={"card": typed}, headers=headers).status_code == 200
    mistyped = client.get(ELIGIBILITY, query_string={"card": wrong_check_character(number)}, headers=headers)
    assert (mistyped.status_code, mistyped.get_json()["error"]) == (400, "bad_card_number")


def made(delta: timedelta) -> str:
    return (NOW + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


# (changes to a good redemption body, the status, the reason code, valid for the document)
BODIES = [
    ({"card": "  \t"}, 400, "missing_card", False),  # blank (the document said: minLength 1)
    ({"card": "\x1c"}, 400, "missing_card", False),  # a control character is blank too
    ({"made_at": "2000-01-01T00:00:00Z"}, 422, "bad_made_at", True),  # valid, but outside the 30 days
    ({"made_at": "0001-01-01T00:00:00+23:00"}, 422, "bad_made_at", True),  # before datetime's range in UTC: was a 500
    ({"made_at": "9999-12-31T23:59:59-23:00"}, 422, "bad_made_at", True),  # after it: was a 500
    ({"made_at": made(timedelta(0)).replace("T", "t").replace("Z", "z")}, 201, None, True),  # RFC 3339 allows t, z
    ({"made_at": made(timedelta(minutes=-1)).replace("Z", "+00:00")}, 201, None, True),
    ({"made_at": made(timedelta(0))[:10]}, 400, "bad_made_at", False),  # a day, no time
    ({"made_at": made(timedelta(0)).replace("-", "").replace(":", "")}, 400, "bad_made_at", False),  # ISO basic
    ({"made_at": made(timedelta(0))[:-1]}, 400, "bad_made_at", False),  # no zone
    ({"made_at": "2026-02-30T10:00:00Z"}, 400, "bad_made_at", False),  # no such day
    ({"made_at": 1_765_000_000}, 400, "bad_made_at", False),
    ({"offer": "OFFER"}, 400, "missing_offer", False),
    ({"offer": True}, 400, "missing_offer", False),
    ({"offer": 2.5}, 400, "missing_offer", False),
    ({"offline": "yes"}, 400, "bad_offline", False),
]


@pytest.mark.parametrize(("changes", "status", "code", "valid"), BODIES)
def test_a_redemption_body_is_answered_as_documented(
    client, document, make_organisation, make_offer, make_card, make_api_key, changes, status, code, valid
):
    """A redemption gets the status its body's schema says: 400 only when the schema refuses it."""
    organisation = make_organisation()
    offer, card = make_offer(organisation), make_card()
    body = {"card": card.number, "offer": offer.id, "fields": {"weight_kg": 2.5, "destination": "MA"}} | changes
    headers = {"Authorization": f"Bearer {make_api_key(organisation).plaintext}", "Idempotency-Key": str(uuid.uuid4())}
    response = client.post(REDEMPTIONS, json=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json().get("error") == code
    assert validator(document, "/components/schemas/RedemptionRequestBody").is_valid(body) is valid


def test_an_offer_id_written_as_a_whole_float_is_an_integer(
    client, document, make_organisation, make_offer, make_card, make_api_key
):
    """JSON Schema counts 2.0 as an integer; so does the server."""
    organisation = make_organisation()
    offer, card = make_offer(organisation), make_card()
    body = {"card": card.number, "offer": float(offer.id), "fields": {"weight_kg": 2.5, "destination": "MA"}}
    headers = {"Authorization": f"Bearer {make_api_key(organisation).plaintext}", "Idempotency-Key": "float"}
    assert validator(document, "/components/schemas/RedemptionRequestBody").is_valid(body)
    assert client.post(REDEMPTIONS, json=body, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("key", "accepted"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', True),
        ("  spaced key\t", True),  # around it, ignored
        ("k" * 255, True),
        ("k" * 256, False),
        (" ", False),
        ("\x0c", False),  # Python's strip() took it for blank; the document's pattern says so now
        ("clé", False),  # visible ASCII only
    ],
)
def test_an_idempotency_key_is_accepted_as_documented(
    client, document, make_organisation, make_offer, make_card, make_api_key, key, accepted
):
    """The Idempotency-Key header's documented pattern is the one the server checks."""
    organisation = make_organisation()
    offer, card = make_offer(organisation), make_card()
    body = {"card": card.number, "offer": offer.id, "fields": {"weight_kg": 2.5, "destination": "MA"}}
    headers = {"Authorization": f"Bearer {make_api_key(organisation).plaintext}"}
    environ = {"HTTP_IDEMPOTENCY_KEY": key}  # as sent: the test client would refuse some of these values
    response = client.post(REDEMPTIONS, json=body, headers=headers, environ_overrides=environ)
    assert response.status_code == (201 if accepted else 400), response.get_data(as_text=True)
    [parameter] = [
        p for p in document["paths"][REDEMPTIONS]["post"]["parameters"] if p.get("name") == "Idempotency-Key"
    ]
    assert Draft202012Validator(parameter["schema"]).is_valid(key) is accepted


@pytest.mark.parametrize("path", ["/api/v1/verify", REDEMPTIONS])
def test_a_body_over_the_limit_is_413_where_documented(client, app, document, make_api_key, path):
    """An oversized body is 413 payload_too_large (not 400), and the operation documents 413."""
    headers = {"Authorization": f"Bearer {make_api_key().plaintext}", "Idempotency-Key": "big"}
    oversized = b'{"qr": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    response = client.post(path, data=oversized, content_type="application/json", headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (413, "payload_too_large")
    assert "413" in document["paths"][path]["post"]["responses"]
