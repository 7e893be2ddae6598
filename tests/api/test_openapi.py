"""/api/v1/openapi.json: a valid OpenAPI 3.1 document that tells the truth. For every documented
operation and status code, real requests through the test client get that status, with a body that
validates against the documented schema and the documented headers.

Documenting a new endpoint in webapp/api/openapi.py: add an example request per status code to
EXAMPLES below (a function of the test's fixtures that returns the response). An example may
assert more than the document can say (which reason code, that a replay wrote nothing)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sqlalchemy import delete, func, select
from werkzeug.test import TestResponse

from tests.conftest import TEST_ACTOR, TEST_DATABASE_URL
from tests.fixtures.factories import CNSS_REGISTERED
from webapp.api.openapi import JSON, OPENAPI_VERSION, SESSION_COOKIE
from webapp.models import (
    Card,
    CnssStatus,
    EligibilityListState,
    Offer,
    OfferState,
    Organisation,
    Redemption,
    RevocationReason,
    Role,
)
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.numbers import new_card_number
from webapp.services.cards.tokens import qr_text
from webapp.services.partners.api_keys import SCOPE_ELIGIBILITY, SCOPE_REDEEM, SCOPE_VERIFY, SCOPES, revoke_api_key
from webapp.services.partners.offers import withdraw_offer_from_card
from webapp.services.scope import NATIONAL

SPEC_URL = "/api/v1/openapi.json"
VERIFY = "/api/v1/verify"
ME = "/api/v1/me"
DOCUMENT_URI = "urn:carte-artisan:openapi"

# An example takes pytest's `request` (to reach any fixture) and returns the response to check.
Example = Callable[[pytest.FixtureRequest], TestResponse]


def fixture(request: pytest.FixtureRequest, name: str) -> Any:
    return request.getfixturevalue(name)


def fresh_card(request: pytest.FixtureRequest) -> Card:
    return fixture(request, "make_card")()


def verify_valid_card(request):
    card = fresh_card(request)
    scanned = qr_text(fixture(request, "app").config["PUBLIC_BASE_URL"], card.token)
    return fixture(request, "client").post(VERIFY, json={"qr": scanned})


def verify_revoked_card_in_arabic(request):
    card = fresh_card(request)
    session = fixture(request, "session")
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    return fixture(request, "client").post(VERIFY, json={"qr": card.token}, headers={"Accept-Language": "ar"})


def verify_foreign_text(request):
    return fixture(request, "client").post(VERIFY, json={"qr": "https://example.com/menu"})


def verify_broken_json(request):
    return fixture(request, "client").post(VERIFY, data=b"{not json", content_type="application/json")


def verify_without_qr(request):
    return fixture(request, "client").post(VERIFY, json={"code": "abc"})


def verify_oversized_body(request):
    return fixture(request, "client").post(VERIFY, data=b"x" * 10_240, content_type="application/json")


def verify_past_the_rate_limit(request):
    limited = fixture(request, "make_app")(
        RATELIMIT_ENABLED=True, RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}", VERIFY_RATE_LIMIT="1 per minute"
    )
    client = limited.test_client()
    assert client.post(VERIFY, json={"qr": "x"}).status_code == 200
    return client.post(VERIFY, json={"qr": "x"})


def whoami_with_a_key(request):
    new_key = fixture(request, "make_api_key")()
    return fixture(request, "client").get(ME, headers={"Authorization": f"Bearer {new_key.plaintext}"})


def whoami_without_a_key(request):
    return fixture(request, "client").get(ME)


def whoami_with_an_unknown_key(request):
    return fixture(request, "client").get(ME, headers={"Authorization": "Bearer ca_abcdefghij_" + "a" * 43})


def whoami_as_a_signed_in_person(request):
    fixture(request, "auth").login(fixture(request, "make_user")(Role.PARTNER_MANAGER))
    return fixture(request, "client").get(ME)


REDEMPTIONS = "/api/v1/redemptions"
ELIGIBILITY = "/api/v1/eligibility"
OFFER_LIST = "/offers/{offer_id}/eligibility"
PARCELS = {"weight_kg": 2.5, "destination": "fr"}


def refused(response: TestResponse, code: str) -> TestResponse:
    """The response, after checking it carries this reason code."""
    assert response.get_json()["error"] == code, response.get_data(as_text=True)
    return response


def api_key_headers(request, organisation: Organisation | None = None, scopes=SCOPES) -> dict[str, str]:
    new_key = fixture(request, "make_api_key")(organisation, scopes=scopes)
    return {"Authorization": f"Bearer {new_key.plaintext}"}


UNKNOWN_KEY = {"Authorization": "Bearer ca_abcdefghij_" + "a" * 43}


def sign_in(request, role: Role, organisation: Organisation | None = None) -> None:
    """Sign the test client in as a new user of this role (with the session cookie the document names)."""
    client = fixture(request, "client")
    assert (
        fixture(request, "auth").login(fixture(request, "make_user")(role, organisation=organisation)).status_code
        == 302
    )
    assert client.get_cookie(SESSION_COOKIE) is not None


def card_of(request, **artisan: Any) -> Card:
    return fixture(request, "make_card")(fixture(request, "make_artisan")(**artisan) if artisan else None)


# --- POST /api/v1/verify, partner callers ---


def verify_as_a_partner_system(request):
    """Own offers only (not another partner's), eligible, with the quota left."""
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation, quota=(20, "month"))
    fixture(request, "make_offer")()  # another partner's
    card = fresh_card(request)
    headers = api_key_headers(request, organisation, scopes=[SCOPE_VERIFY])
    response = fixture(request, "client").post(VERIFY, json={"qr": card.token}, headers=headers)
    assert [(o["id"], o["eligible"], o["remaining"]) for o in response.get_json()["offers"]] == [(offer.id, True, 20)]
    return response


def verify_as_partner_staff_in_arabic(request):
    """A signed-in agent sees the failed condition's label in the answer's language."""
    organisation = fixture(request, "make_organisation")()
    fixture(request, "make_offer")(organisation, conditions=[CNSS_REGISTERED])
    card = card_of(request, cnss_status=CnssStatus.NOT_REGISTERED)
    sign_in(request, Role.PARTNER_AGENT, organisation)
    response = fixture(request, "client").post(VERIFY, json={"qr": card.token}, headers={"Accept-Language": "ar"})
    [offer] = response.get_json()["offers"]
    assert offer["eligible"] is False and offer["failed"] == [CNSS_REGISTERED["label"]["ar"]]
    return response


def verify_a_revoked_card_as_a_partner(request):
    """A revoked card is eligible for nothing, whatever the rule."""
    organisation = fixture(request, "make_organisation")()
    fixture(request, "make_offer")(organisation, quota=(20, "month"))
    card = fresh_card(request)
    session = fixture(request, "session")
    card_service.revoke_card(session, card, RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    headers = api_key_headers(request, organisation, scopes=[SCOPE_VERIFY])
    response = fixture(request, "client").post(VERIFY, json={"qr": card.token}, headers=headers)
    assert [(o["eligible"], o["failed"], o["remaining"]) for o in response.get_json()["offers"]] == [(False, [], None)]
    return response


def verify_as_an_officer_shows_no_offers(request):
    """Other roles never see offers."""
    fixture(request, "make_offer")()
    card = fresh_card(request)
    sign_in(request, Role.OFFICER)
    response = fixture(request, "client").post(VERIFY, json={"qr": card.token})
    assert "offers" not in response.get_json()
    return response


def verify_with_an_unknown_key(request):
    return refused(fixture(request, "client").post(VERIFY, json={"qr": "x"}, headers=UNKNOWN_KEY), "invalid_api_key")


def verify_with_a_key_without_the_verify_scope(request):
    headers = api_key_headers(request, scopes=[SCOPE_REDEEM, SCOPE_ELIGIBILITY])
    return refused(fixture(request, "client").post(VERIFY, json={"qr": "x"}, headers=headers), "insufficient_scope")


# --- POST /api/v1/redemptions ---


@dataclass
class Counter:
    """A partner's system (its key's headers, or none for a signed-in person) with one of its
    offers and a valid card to redeem it for."""

    organisation: Organisation
    offer: Offer
    card: Card
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, **changes: Any) -> dict[str, Any]:
        return {"card": self.card.number, "offer": self.offer.id, "fields": PARCELS} | changes


def open_counter(request, *, scopes=SCOPES, card: Card | None = None, **offer_options: Any) -> Counter:
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation, **offer_options)
    headers = api_key_headers(request, organisation, scopes) if scopes else {}
    return Counter(organisation, offer, card or fresh_card(request), headers)


def redeem(request, counter: Counter, idempotency_key: str | None = "new", **post: Any) -> TestResponse:
    """POST a redemption with the counter's key and an Idempotency-Key (a new one unless given;
    None sends none); `post` is the body (json=..., or data=...), the counter's default body otherwise."""
    headers = dict(counter.headers) | post.pop("headers", {})
    if idempotency_key is not None:
        headers["Idempotency-Key"] = f'"{uuid.uuid4()}"' if idempotency_key == "new" else idempotency_key
    if "json" not in post and "data" not in post:
        post["json"] = counter.body()
    return fixture(request, "client").post(REDEMPTIONS, headers=headers, **post)


def redemption_count(request, counter: Counter) -> int:
    session = fixture(request, "session")
    session.expire_all()
    return session.scalar(select(func.count(Redemption.id)).where(Redemption.offer_id == counter.offer.id))


def redeem_with_a_key(request):
    counter = open_counter(request, quota=(20, "month"))
    response = redeem(request, counter)
    answer = response.get_json()
    assert answer["fields"] == {"weight_kg": 2.5, "destination": "FR"} and answer["remaining"] == 19
    assert "Idempotent-Replayed" not in response.headers
    return response


def redeem_as_an_agent_with_the_scanned_text(request):
    counter = open_counter(request, scopes=None)
    sign_in(request, Role.PARTNER_AGENT, counter.organisation)
    scanned = qr_text(fixture(request, "app").config["PUBLIC_BASE_URL"], counter.card.token)
    response = redeem(request, counter, json=counter.body(card=scanned))
    assert response.get_json()["card"] == counter.card.number
    return response


def redeem_twice_with_one_idempotency_key(request):
    """The retry gets the first answer, says it is one, and writes nothing."""
    counter = open_counter(request, quota=(20, "month"))
    first = redeem(request, counter, idempotency_key="retry-1")
    retry = redeem(request, counter, idempotency_key="retry-1")
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json() and retry.headers["Location"] == first.headers["Location"]
    assert redemption_count(request, counter) == 1
    return retry


def redeem_offline_over_a_spent_quota(request):
    """A late offline redemption beyond the quota is stored, flagged over_quota."""
    counter = open_counter(request, quota=(1, "day"))
    assert redeem(request, counter).status_code == 201
    made_at = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    response = redeem(request, counter, json=counter.body(offline=True, made_at=made_at))
    assert response.get_json()["over_quota"] is True and response.get_json()["offline"] is True
    return response


def bad_shape(name: str, code: str, **post: Callable[[Counter], Any]) -> Example:
    """An example of a request of the wrong shape: `post` makes the POST's arguments from the counter."""

    def example(request):
        counter = open_counter(request)
        arguments = {argument: make(counter) for argument, make in post.items()}
        return refused(redeem(request, counter, **arguments), code)

    example.__name__ = name
    return example


BAD_SHAPES = [
    bad_shape("redeem_with_broken_json", "invalid_json", data=lambda c: b"{not json"),
    bad_shape("redeem_with_a_json_list", "invalid_json", json=lambda c: [c.body()]),
    bad_shape("redeem_without_card", "missing_card", json=lambda c: c.body(card=None)),
    bad_shape("redeem_with_a_blank_card", "missing_card", json=lambda c: c.body(card="  ")),
    bad_shape("redeem_with_a_numeric_card", "missing_card", json=lambda c: c.body(card=12345)),
    bad_shape("redeem_without_offer", "missing_offer", json=lambda c: c.body(offer=None)),
    bad_shape("redeem_with_the_offer_as_text", "missing_offer", json=lambda c: c.body(offer=str(c.offer.id))),
    bad_shape("redeem_with_the_offer_as_true", "missing_offer", json=lambda c: c.body(offer=True)),
    bad_shape("redeem_with_offline_as_text", "bad_offline", json=lambda c: c.body(offline="yes")),
    bad_shape("redeem_made_yesterday_in_words", "bad_made_at", json=lambda c: c.body(made_at="yesterday")),
    bad_shape("redeem_made_at_no_zone", "bad_made_at", json=lambda c: c.body(made_at="2026-01-01T10:00:00")),
    bad_shape("redeem_without_idempotency_key", "idempotency_key_required", idempotency_key=lambda c: None),
    bad_shape("redeem_with_a_blank_idempotency_key", "idempotency_key_required", idempotency_key=lambda c: " "),
    bad_shape("redeem_with_a_long_idempotency_key", "idempotency_key_required", idempotency_key=lambda c: "k" * 256),
]


def redeem_anonymously(request):
    counter = open_counter(request, scopes=None)
    return refused(redeem(request, counter), "login_required")


def redeem_with_a_revoked_key(request):
    organisation = fixture(request, "make_organisation")()
    new_key = fixture(request, "make_api_key")(organisation)
    session = fixture(request, "session")
    revoke_api_key(session, new_key.api_key.prefix, TEST_ACTOR, NATIONAL)
    session.commit()
    counter = open_counter(request, scopes=None)
    counter.headers = {"Authorization": f"Bearer {new_key.plaintext}"}
    return refused(redeem(request, counter), "invalid_api_key")


def redeem_as_an_officer(request):
    counter = open_counter(request, scopes=None)
    sign_in(request, Role.OFFICER)
    return refused(redeem(request, counter), "forbidden")


def redeem_with_a_key_without_the_redeem_scope(request):
    counter = open_counter(request, scopes=[SCOPE_VERIFY, SCOPE_ELIGIBILITY])
    return refused(redeem(request, counter), "insufficient_scope")


def redeem_another_partners_offer(request):
    counter = open_counter(request)
    counter.offer = fixture(request, "make_offer")()
    return refused(redeem(request, counter), "unknown_offer")


def redeem_a_missing_offer(request):
    counter = open_counter(request)
    return refused(redeem(request, counter, json=counter.body(offer=10**9)), "unknown_offer")


def redeem_an_offer_id_beyond_any_row(request):
    counter = open_counter(request)
    return refused(redeem(request, counter, json=counter.body(offer=2**63)), "unknown_offer")


def redeem_a_paused_offer(request):
    return refused(redeem(request, open_counter(request, state=OfferState.PAUSED)), "unknown_offer")


def redeem_an_offer_past_its_window(request):
    last_year = date.today() - timedelta(days=400)
    counter = open_counter(request, valid_from=last_year, valid_until=last_year + timedelta(days=30))
    return refused(redeem(request, counter), "unknown_offer")


def redeem_with_a_suspended_card(request):
    counter = open_counter(request)
    session = fixture(request, "session")
    card_service.suspend_card(session, counter.card, "inquiry", TEST_ACTOR)
    session.commit()
    return refused(redeem(request, counter), "card_not_valid")


def redeem_with_a_number_of_no_card(request):
    counter = open_counter(request)
    return refused(redeem(request, counter, json=counter.body(card=new_card_number())), "card_not_valid")


def redeem_for_a_holder_not_eligible(request):
    card = card_of(request, cnss_status=CnssStatus.PRE_REGISTERED)
    counter = open_counter(request, card=card, conditions=[CNSS_REGISTERED])
    response = refused(redeem(request, counter, headers={"Accept-Language": "en"}), "not_eligible")
    assert response.get_json()["failed"] == ["CNSS registered"]
    return response


def redeem_an_offer_withdrawn_from_the_card(request):
    counter = open_counter(request)
    session = fixture(request, "session")
    withdraw_offer_from_card(session, counter.offer, counter.card, "fraud on parcels", TEST_ACTOR)
    session.commit()
    response = refused(redeem(request, counter), "not_eligible")
    assert response.get_json()["failed"] == ["fraud on parcels"]
    return response


def redeem_past_the_quota(request):
    counter = open_counter(request, quota=(1, "month"))
    assert redeem(request, counter).status_code == 201
    response = refused(redeem(request, counter), "quota_spent")
    assert redemption_count(request, counter) == 1
    return response


def redeem_an_oversized_body(request):
    counter = open_counter(request)
    oversized = b"x" * (fixture(request, "app").config["MAX_CONTENT_LENGTH"] + 1)
    return redeem(request, counter, data=oversized, content_type=JSON)


def redeem_with_bad_fields(request):
    """Every wrong field at once, each with its problem."""
    counter = open_counter(request)
    response = redeem(request, counter, json=counter.body(fields={"weight_kg": 40, "colour": "red"}))
    assert set(refused(response, "bad_fields").get_json()["fields"]) == {"weight_kg", "destination", "colour"}
    return response


def redeem_with_fields_as_a_list(request):
    counter = open_counter(request)
    return refused(redeem(request, counter, json=counter.body(fields=[2.5, "FR"])), "bad_fields")


def redeem_made_forty_days_ago(request):
    counter = open_counter(request)
    made_at = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    return refused(redeem(request, counter, json=counter.body(made_at=made_at)), "bad_made_at")


def redeem_made_in_an_hour(request):
    counter = open_counter(request)
    made_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return refused(redeem(request, counter, json=counter.body(made_at=made_at)), "bad_made_at")


def redeem_reusing_an_idempotency_key(request):
    counter = open_counter(request)
    assert redeem(request, counter, idempotency_key="once").status_code == 201
    other_fields = counter.body(fields={"weight_kg": 3, "destination": "MA"})
    return refused(redeem(request, counter, idempotency_key="once", json=other_fields), "idempotency_key_reused")


def redeem_past_the_rate_limit(request):
    counter = open_counter(request)
    limited = fixture(request, "make_app")(
        RATELIMIT_ENABLED=True, RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}", REDEMPTION_RATE_LIMIT="1 per minute"
    )
    client = limited.test_client()
    headers = counter.headers | {"Idempotency-Key": "first"}
    assert client.post(REDEMPTIONS, json=counter.body(), headers=headers).status_code == 201
    headers["Idempotency-Key"] = "second"
    return refused(client.post(REDEMPTIONS, json=counter.body(), headers=headers), "rate_limited")


# --- GET /api/v1/eligibility ---


def ask_eligibility(request, number: str, headers: dict[str, str] | None = None) -> TestResponse:
    return fixture(request, "client").get(ELIGIBILITY, query_string={"card": number}, headers=headers or {})


def eligibility_by_a_lenders_key(request):
    organisation = fixture(request, "make_organisation")(kind="lender")
    offer = fixture(request, "make_offer")(organisation, conditions=[CNSS_REGISTERED])
    fixture(request, "make_offer")()  # another partner's
    card = card_of(request, cnss_status=CnssStatus.REGISTERED)
    headers = api_key_headers(request, organisation, scopes=[SCOPE_ELIGIBILITY])
    response = ask_eligibility(request, card.number.lower(), headers)
    answer = response.get_json()
    assert answer["card"] == {"number": card.number, "valid": True, "state": "active"}
    assert [(o["id"], o["eligible"]) for o in answer["offers"]] == [(offer.id, True)]
    return response


def eligibility_of_a_suspended_card(request):
    organisation = fixture(request, "make_organisation")()
    fixture(request, "make_offer")(organisation)
    card = fresh_card(request)
    session = fixture(request, "session")
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.commit()
    response = ask_eligibility(request, card.number, api_key_headers(request, organisation))
    answer = response.get_json()
    assert answer["card"]["state"] == "suspended" and [o["eligible"] for o in answer["offers"]] == [False]
    return response


def eligibility_of_a_number_of_no_card(request):
    response = ask_eligibility(request, new_card_number(), api_key_headers(request))
    assert response.get_json()["card"]["state"] == "unknown"
    return response


def eligibility_asked_by_a_manager_in_english(request):
    organisation = fixture(request, "make_organisation")()
    fixture(request, "make_offer")(organisation, conditions=[CNSS_REGISTERED])
    card = card_of(request, cnss_status=CnssStatus.NOT_REGISTERED)
    sign_in(request, Role.PARTNER_MANAGER, organisation)
    response = ask_eligibility(request, card.number, {"Accept-Language": "en"})
    assert response.get_json()["offers"][0]["failed"] == ["CNSS registered"]
    return response


def eligibility_without_a_card(request):
    headers = api_key_headers(request)
    return refused(fixture(request, "client").get(ELIGIBILITY, headers=headers), "bad_card_number")


def eligibility_of_a_mistyped_number(request):
    number = new_card_number()
    mistyped = number[:-1] + ("0" if number[-1] != "0" else "1")  # the check character catches it
    return refused(ask_eligibility(request, mistyped, api_key_headers(request)), "bad_card_number")


def eligibility_anonymously(request):
    return refused(ask_eligibility(request, new_card_number()), "login_required")


def eligibility_with_an_unknown_key(request):
    return refused(ask_eligibility(request, new_card_number(), UNKNOWN_KEY), "invalid_api_key")


def eligibility_as_an_artisan(request):
    sign_in(request, Role.ARTISAN)
    return refused(ask_eligibility(request, new_card_number()), "forbidden")


def eligibility_with_a_key_without_the_eligibility_scope(request):
    headers = api_key_headers(request, scopes=[SCOPE_VERIFY, SCOPE_REDEEM])
    return refused(ask_eligibility(request, new_card_number(), headers), "insufficient_scope")


# --- GET /offers/{offer_id}/eligibility ---


def get_list(request, offer_id: int | str, headers: dict[str, str] | None = None) -> TestResponse:
    fixture(request, "signer")
    return fixture(request, "client").get(OFFER_LIST.format(offer_id=offer_id), headers=headers or {})


def offer_list_by_a_key(request):
    fixture(request, "signer")  # before the offer: its list is signed by a job when it is approved
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation)
    return get_list(request, offer.id, api_key_headers(request, organisation, scopes=[SCOPE_VERIFY]))


def offer_list_as_an_agent(request):
    fixture(request, "signer")  # before the offer: its list is signed by a job when it is approved
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation)
    fresh_card(request)
    sign_in(request, Role.PARTNER_AGENT, organisation)
    return get_list(request, offer.id)


def offer_list_not_modified(request):
    fixture(request, "signer")  # before the offer: its list is signed by a job when it is approved
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation)
    headers = api_key_headers(request, organisation)
    first = get_list(request, offer.id, headers)
    response = get_list(request, offer.id, headers | {"If-None-Match": first.headers["ETag"]})
    assert response.headers["ETag"] == first.headers["ETag"]
    return response


def offer_list_not_built_yet(request):
    """A newly approved offer whose list no job has built yet (the worker is behind)."""
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation)
    session = fixture(request, "session")
    session.execute(delete(EligibilityListState).where(EligibilityListState.offer_id == offer.id))
    session.commit()
    response = get_list(request, offer.id, api_key_headers(request, organisation, scopes=[SCOPE_VERIFY]))
    assert response.headers["Retry-After"].isdigit()
    return refused(response, "eligibility_list_pending")


def offer_list_anonymously(request):
    return refused(get_list(request, fixture(request, "make_offer")().id), "login_required")


def offer_list_with_an_unknown_key(request):
    return refused(get_list(request, fixture(request, "make_offer")().id, UNKNOWN_KEY), "invalid_api_key")


def offer_list_as_an_officer(request):
    offer = fixture(request, "make_offer")()
    sign_in(request, Role.OFFICER)
    return refused(get_list(request, offer.id), "forbidden")


def offer_list_with_a_key_without_the_verify_scope(request):
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation)
    headers = api_key_headers(request, organisation, scopes=[SCOPE_REDEEM, SCOPE_ELIGIBILITY])
    return refused(get_list(request, offer.id, headers), "insufficient_scope")


def offer_list_of_another_partner(request):
    offer = fixture(request, "make_offer")()
    return refused(get_list(request, offer.id, api_key_headers(request)), "not_found")


def offer_list_of_a_missing_offer(request):
    return refused(get_list(request, 10**9, api_key_headers(request)), "not_found")


def offer_list_of_an_offer_that_does_not_apply(state: OfferState) -> Example:
    def example(request):
        organisation = fixture(request, "make_organisation")()
        offer = fixture(request, "make_offer")(organisation, state=state)
        return refused(get_list(request, offer.id, api_key_headers(request, organisation)), "not_found")

    example.__name__ = f"offer_list_of_a_{state.value}_offer"
    return example


def offer_list_of_an_offer_not_yet_open(request):
    organisation = fixture(request, "make_organisation")()
    offer = fixture(request, "make_offer")(organisation, valid_from=date.today() + timedelta(days=30))
    return refused(get_list(request, offer.id, api_key_headers(request, organisation)), "not_found")


def offer_list_of_an_id_beyond_any_row(request):
    return refused(get_list(request, 10**20, api_key_headers(request)), "not_found")


def offer_list_of_a_word(request):
    return refused(get_list(request, "parcels", api_key_headers(request)), "not_found")


# --- GET /api/v1/bundle ---

BUNDLE = "/api/v1/bundle"


def get_bundle(request, headers: dict[str, str] | None = None, client=None) -> TestResponse:
    return (client or fixture(request, "client")).get(BUNDLE, headers=headers or {})


def bundle_for_anyone(request):
    fresh_card(request)
    response = get_bundle(request)
    assert "public" in response.headers["Cache-Control"]
    return response


def bundle_for_a_partner_system(request):
    organisation = fixture(request, "make_organisation")()
    fixture(request, "make_offer")(organisation)
    fresh_card(request)
    response = get_bundle(request, api_key_headers(request, organisation, scopes=[SCOPE_VERIFY]))
    assert "private" in response.headers["Cache-Control"]
    return response


def bundle_not_modified(request):
    fresh_card(request)
    first = get_bundle(request)
    return get_bundle(request, {"If-None-Match": first.headers["ETag"]})


def bundle_with_an_unknown_key(request):
    fresh_card(request)
    return refused(get_bundle(request, UNKNOWN_KEY), "invalid_api_key")


def bundle_with_a_key_without_the_verify_scope(request):
    fresh_card(request)
    return refused(get_bundle(request, api_key_headers(request, scopes=[SCOPE_ELIGIBILITY])), "insufficient_scope")


def bundle_past_the_rate_limit(request):
    fresh_card(request)
    limited = fixture(request, "make_app")(
        RATELIMIT_ENABLED=True, RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}", VERIFY_RATE_LIMIT="1 per minute"
    )
    client = limited.test_client()
    assert get_bundle(request, client=client).status_code == 200
    return refused(get_bundle(request, client=client), "rate_limited")


def bundle_before_any_signing_key(request):
    return refused(get_bundle(request), "no_signing_key")


# --- 503: the database cannot be reached (every operation reads it) ---

# An address where no database answers: a missing folder for SQLite, a closed port for PostgreSQL.
UNREACHABLE_DATABASE = (
    "postgresql+psycopg://postgres@127.0.0.1:1/test" if TEST_DATABASE_URL else "sqlite:////nonexistent-folder/x.sqlite3"
)


def with_the_database_down(name: str, call: Callable[[Any, dict[str, str]], TestResponse]) -> Example:
    """An example: the call (a client of an app whose database cannot be reached, and a valid key's
    headers, made while the database was up) answers 503 database_unavailable."""

    def example(request):
        headers = api_key_headers(request)
        fresh_card(request)
        down = fixture(request, "make_app")(DATABASE_URL=UNREACHABLE_DATABASE)
        return refused(call(down.test_client(), headers), "database_unavailable")

    example.__name__ = name
    return example


DATABASE_DOWN = {
    VERIFY: with_the_database_down("verify_with_the_database_down", lambda c, h: c.post(VERIFY, json={"qr": "x"})),
    REDEMPTIONS: with_the_database_down(
        "redeem_with_the_database_down",
        lambda c, h: c.post(REDEMPTIONS, json={"card": "K7M2Q9XH4V", "offer": 1}, headers=h | {"Idempotency-Key": "k"}),
    ),
    ELIGIBILITY: with_the_database_down(
        "eligibility_with_the_database_down", lambda c, h: c.get(ELIGIBILITY, query_string={"card": "x"}, headers=h)
    ),
    OFFER_LIST: with_the_database_down(
        "offer_list_with_the_database_down", lambda c, h: c.get(OFFER_LIST.format(offer_id=1), headers=h)
    ),
    BUNDLE: with_the_database_down("bundle_with_the_database_down", lambda c, h: c.get(BUNDLE)),
    ME: with_the_database_down("whoami_with_the_database_down", lambda c, h: c.get(ME, headers=h)),
}


EXAMPLES: dict[tuple[str, str, str], list[Example]] = {
    ("post", VERIFY, "200"): [
        verify_valid_card,
        verify_revoked_card_in_arabic,
        verify_foreign_text,
        verify_as_a_partner_system,
        verify_as_partner_staff_in_arabic,
        verify_a_revoked_card_as_a_partner,
        verify_as_an_officer_shows_no_offers,
    ],
    ("post", VERIFY, "400"): [verify_broken_json, verify_without_qr],
    ("post", VERIFY, "401"): [verify_with_an_unknown_key],
    ("post", VERIFY, "403"): [verify_with_a_key_without_the_verify_scope],
    ("post", VERIFY, "413"): [verify_oversized_body],
    ("post", VERIFY, "429"): [verify_past_the_rate_limit],
    ("post", REDEMPTIONS, "201"): [
        redeem_with_a_key,
        redeem_as_an_agent_with_the_scanned_text,
        redeem_twice_with_one_idempotency_key,
        redeem_offline_over_a_spent_quota,
    ],
    ("post", REDEMPTIONS, "400"): BAD_SHAPES,
    ("post", REDEMPTIONS, "401"): [redeem_anonymously, redeem_with_a_revoked_key],
    ("post", REDEMPTIONS, "403"): [redeem_as_an_officer, redeem_with_a_key_without_the_redeem_scope],
    ("post", REDEMPTIONS, "404"): [
        redeem_another_partners_offer,
        redeem_a_missing_offer,
        redeem_an_offer_id_beyond_any_row,
        redeem_a_paused_offer,
        redeem_an_offer_past_its_window,
    ],
    ("post", REDEMPTIONS, "409"): [
        redeem_with_a_suspended_card,
        redeem_with_a_number_of_no_card,
        redeem_for_a_holder_not_eligible,
        redeem_an_offer_withdrawn_from_the_card,
        redeem_past_the_quota,
    ],
    ("post", REDEMPTIONS, "413"): [redeem_an_oversized_body],
    ("post", REDEMPTIONS, "422"): [
        redeem_with_bad_fields,
        redeem_with_fields_as_a_list,
        redeem_made_forty_days_ago,
        redeem_made_in_an_hour,
        redeem_reusing_an_idempotency_key,
    ],
    ("post", REDEMPTIONS, "429"): [redeem_past_the_rate_limit],
    ("get", ELIGIBILITY, "200"): [
        eligibility_by_a_lenders_key,
        eligibility_of_a_suspended_card,
        eligibility_of_a_number_of_no_card,
        eligibility_asked_by_a_manager_in_english,
    ],
    ("get", ELIGIBILITY, "400"): [eligibility_without_a_card, eligibility_of_a_mistyped_number],
    ("get", ELIGIBILITY, "401"): [eligibility_anonymously, eligibility_with_an_unknown_key],
    ("get", ELIGIBILITY, "403"): [eligibility_as_an_artisan, eligibility_with_a_key_without_the_eligibility_scope],
    ("get", OFFER_LIST, "200"): [offer_list_by_a_key, offer_list_as_an_agent],
    ("get", OFFER_LIST, "304"): [offer_list_not_modified],
    ("get", OFFER_LIST, "401"): [offer_list_anonymously, offer_list_with_an_unknown_key],
    ("get", OFFER_LIST, "403"): [offer_list_as_an_officer, offer_list_with_a_key_without_the_verify_scope],
    ("get", OFFER_LIST, "404"): [
        offer_list_of_another_partner,
        offer_list_of_a_missing_offer,
        offer_list_of_an_offer_that_does_not_apply(OfferState.DRAFT),
        offer_list_of_an_offer_that_does_not_apply(OfferState.SUBMITTED),
        offer_list_of_an_offer_that_does_not_apply(OfferState.PAUSED),
        offer_list_of_an_offer_that_does_not_apply(OfferState.RETIRED),
        offer_list_of_an_offer_not_yet_open,
        offer_list_of_an_id_beyond_any_row,
        offer_list_of_a_word,
    ],
    ("get", BUNDLE, "200"): [bundle_for_anyone, bundle_for_a_partner_system],
    ("get", BUNDLE, "304"): [bundle_not_modified],
    ("get", BUNDLE, "401"): [bundle_with_an_unknown_key],
    ("get", BUNDLE, "403"): [bundle_with_a_key_without_the_verify_scope],
    ("get", BUNDLE, "429"): [bundle_past_the_rate_limit],
    ("get", BUNDLE, "503"): [bundle_before_any_signing_key, DATABASE_DOWN[BUNDLE]],
    ("get", ME, "200"): [whoami_with_a_key],
    ("get", ME, "401"): [whoami_without_a_key, whoami_with_an_unknown_key],
    ("get", ME, "403"): [whoami_as_a_signed_in_person],
    ("post", VERIFY, "503"): [DATABASE_DOWN[VERIFY]],
    ("post", REDEMPTIONS, "503"): [DATABASE_DOWN[REDEMPTIONS]],
    ("get", ELIGIBILITY, "503"): [DATABASE_DOWN[ELIGIBILITY]],
    ("get", OFFER_LIST, "503"): [offer_list_not_built_yet, DATABASE_DOWN[OFFER_LIST]],
    ("get", ME, "503"): [DATABASE_DOWN[ME]],
}


@pytest.fixture
def document(client) -> dict:
    response = client.get(SPEC_URL)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def documented_statuses(document: dict) -> set[tuple[str, str, str]]:
    return {
        (method, path, status)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status in operation["responses"]
    }


def escape(token: str) -> str:
    """A JSON Pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def response_location(document: dict, method: str, path: str, status: str) -> tuple[str, dict]:
    """The documented response (a shared one followed through its $ref) and its JSON Pointer."""
    pointer = f"/paths/{escape(path)}/{method}/responses/{status}"
    response = document["paths"][path][method]["responses"][status]
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        kind, name = pointer.split("/")[2:]
        response = document["components"][kind][name]
    return pointer, response


def resolve(document: dict, pointer: str) -> Any:
    """The part of the document at a JSON Pointer."""
    part: Any = document
    for token in pointer.lstrip("/").split("/"):
        part = part[token.replace("~1", "/").replace("~0", "~")]
    return part


def validator_for(document: dict, pointer: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator (the dialect of OpenAPI 3.1) for the schema at `pointer`,
    whose $refs resolve inside the document."""
    registry = Registry().with_resource(DOCUMENT_URI, Resource(contents=document, specification=DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def test_the_document_is_valid_openapi_3_1(document):
    """The served document passes the OpenAPI 3.1 validator."""
    assert document["openapi"] == OPENAPI_VERSION
    validate(document)


def test_the_document_is_public_and_cacheable(client):
    """Anyone may read it, from any origin; caches keep it and revalidate it by ETag (304)."""
    response = client.get(SPEC_URL)
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age > 0
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get(SPEC_URL, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_server_is_this_deployments_address(app, document):
    """Requests tried from the document go to PUBLIC_BASE_URL."""
    assert document["servers"] == [{"url": app.config["PUBLIC_BASE_URL"]}]


# Blueprints whose every route is part of the API: the API itself and the offers' eligibility lists.
API_BLUEPRINTS = ("api", "offer_lists")
URL_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>:]+)>")


def test_every_api_route_is_documented(app, document):
    """Each route of the API blueprints, with each of its methods, is an operation of the document."""
    routes = {
        (method.lower(), URL_VARIABLE.sub(r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in API_BLUEPRINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert routes == documented


def test_every_documented_status_has_an_example_request(document):
    """EXAMPLES covers every documented operation and status code, and only those."""
    assert set(EXAMPLES) == documented_statuses(document)
    assert all(EXAMPLES.values())


@pytest.mark.parametrize(
    ("method", "path", "status", "example"),
    [
        pytest.param(*key, example, marks=getattr(example, "marks", ()))
        for key, examples in EXAMPLES.items()
        for example in examples
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_real_answers_match_the_document(request, document, method, path, status, example):
    """The example request gets the documented status, a JSON body valid against the documented
    schema, and the documented headers with valid values."""
    response = example(request)

    assert response.status_code == int(status), response.get_data(as_text=True)
    pointer, documented = response_location(document, method, path, status)
    if "content" not in documented:
        assert response.get_data() == b"", "a body where the document says there is none"
    else:
        assert response.mimetype in documented["content"]
        body = response.get_json() if response.is_json else response.get_data(as_text=True)
        validator_for(document, f"{pointer}/content/{escape(response.mimetype)}/schema").validate(body)
    for name, header in documented.get("headers", {}).items():
        header_pointer = f"{pointer}/headers/{escape(name)}"
        if "$ref" in header:
            header_pointer = header["$ref"].removeprefix("#")
            header = resolve(document, header_pointer)
        if header.get("required"):
            assert name in response.headers, f"{name} is documented as always sent but missing"
        if name in response.headers:
            validator_for(document, f"{header_pointer}/schema").validate(response.headers[name])


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"verdict": "valid", "reason": "ok", "checked_at": "2026-11-22T12:00:00Z"}, "a valid verdict without card"),
        ({"verdict": "not_a_card", "reason": "x", "checked_at": "2026-11-22 12:00"}, "a time without T and Z"),
        ({"verdict": "maybe", "reason": "x", "checked_at": "2026-11-22T12:00:00Z"}, "an unknown verdict"),
        (
            {"verdict": "not_a_card", "reason": "x", "checked_at": "2026-11-22T12:00:00Z", "extra": 1},
            "an undocumented field",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_verify_schema_refuses_answers_the_api_never_gives(document, body, wrong):
    """The documented verdict schema is strict enough to catch a drifting answer."""
    validator = validator_for(document, f"/paths/{escape(VERIFY)}/post/responses/200/content/application~1json/schema")
    assert not validator.is_valid(body), wrong


REDEMPTION = {
    "id": 1,
    "offer": 2,
    "card": "K7M2Q9XH4V",
    "made_at": "2026-11-22T12:00:00Z",
    "made_at_local": "2026-11-22T12:00:00+00:00",
    "recorded_at": "2026-11-22T12:00:00Z",
    "fields": {"weight_kg": 2.5, "destination": "FR"},
    "offline": False,
    "over_quota": False,
    "remaining": 19,
}
OFFER = {"id": 2, "name": "Colis", "benefit": "-30 %", "eligible": True, "failed": [], "remaining": None}
REFUSAL = {"reason": "x", "message": "x"}


@pytest.mark.parametrize(
    ("method", "path", "status", "body", "wrong"),
    [
        ("post", REDEMPTIONS, "201", REDEMPTION | {"artisan": "Khadija"}, "an undocumented member"),
        ("post", REDEMPTIONS, "201", REDEMPTION | {"remaining": -1}, "a negative quota left"),
        ("post", REDEMPTIONS, "409", REFUSAL | {"error": "not_eligible"}, "not_eligible without the failed labels"),
        ("post", REDEMPTIONS, "409", REFUSAL | {"error": "quota_spent", "failed": ["x"]}, "failed on another code"),
        ("post", REDEMPTIONS, "409", REFUSAL | {"error": "unknown_offer"}, "a code of another status"),
        ("post", REDEMPTIONS, "422", REFUSAL | {"error": "bad_fields"}, "bad_fields without the fields"),
        ("post", REDEMPTIONS, "404", {"error": "unknown_offer", "reason": "x"}, "an error without its message"),
        ("post", REDEMPTIONS, "403", REFUSAL | {"error": "forbidden", "scope": "redeem"}, "an undocumented member"),
        (
            "post",
            VERIFY,
            "200",
            {"verdict": "valid", "reason": "x", "checked_at": "2026-11-22T12:00:00Z", "card": {}, "offers": []},
            "an empty card",
        ),
        (
            "get",
            ELIGIBILITY,
            "200",
            {
                "card": {"number": "K7M2Q9XH4V", "valid": True, "state": "revoked"},
                "offers": [],
                "checked_at": "2026-11-22T12:00:00Z",
            },
            "valid but revoked",
        ),
        (
            "get",
            ELIGIBILITY,
            "200",
            {
                "card": {"number": "K7M2Q9XH4V", "valid": False, "state": "active"},
                "offers": [],
                "checked_at": "2026-11-22T12:00:00Z",
            },
            "active but not valid",
        ),
        (
            "get",
            ELIGIBILITY,
            "200",
            {
                "card": {"number": "K7M2Q9XH4V", "valid": True, "state": "active"},
                "offers": [OFFER | {"failed": ["CNSS"]}],
                "checked_at": "2026-11-22T12:00:00Z",
            },
            "eligible with a failed condition",
        ),
        (
            "get",
            ELIGIBILITY,
            "200",
            {
                "card": {"number": "K7M2Q9XH4V", "valid": True, "state": "active"},
                "offers": [OFFER | {"gender": "female"}],
                "checked_at": "2026-11-22T12:00:00Z",
            },
            "an attribute of the holder",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and " " in value else "",
)
def test_the_partner_schemas_refuse_answers_the_api_never_gives(document, method, path, status, body, wrong):
    """The documented partner answers are strict: a missing or undocumented member, or a code of
    another status, does not validate."""
    pointer, _documented = response_location(document, method, path, status)
    assert not validator_for(document, f"{pointer}/content/application~1json/schema").is_valid(body), wrong


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("post", REDEMPTIONS, "201", REDEMPTION),
        ("post", REDEMPTIONS, "409", REFUSAL | {"error": "not_eligible", "failed": ["CNSS registered"]}),
        ("post", REDEMPTIONS, "409", REFUSAL | {"error": "quota_spent"}),
        ("post", REDEMPTIONS, "422", REFUSAL | {"error": "bad_fields", "fields": {"weight_kg": "at most 30"}}),
        ("post", REDEMPTIONS, "403", REFUSAL | {"error": "forbidden"}),
        (
            "get",
            ELIGIBILITY,
            "200",
            {
                "card": {"number": "K7M2Q9XH4V", "valid": True, "state": "active"},
                "offers": [OFFER],
                "checked_at": "2026-11-22T12:00:00Z",
            },
        ),
    ],
)
def test_the_strictness_cases_change_valid_answers(document, method, path, status, body):
    """The answers the previous test spoils are valid as they are (so each refusal there comes from its change)."""
    pointer, _documented = response_location(document, method, path, status)
    validator_for(document, f"{pointer}/content/application~1json/schema").validate(body)
