"""schemathesis against /api/v1/openapi.json: generated requests (the document's examples, its
boundaries, then random ones, valid and not) through the WSGI app in process, on the test database
(SQLite, and PostgreSQL in its CI run), with a partner's API key holding every scope. Any 5xx, an
undocumented status, content type or header, a body that breaks its schema, a valid request
refused as malformed (400) or an invalid one accepted fails the test.

Bounded: MAX_EXAMPLES per operation and phase, and the engine's MAX_SECONDS. Rate limits are off
(the test app's setting): they are their own tests. What JSON Schema cannot say is given to the
generator here, not loosened in the document: a card number's check character (a wrong one is a
documented 400), and the partner's real offer and card, so that redemptions are also recorded.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from schemathesis.engine import events, from_schema

from webapp.api.schemas import TYPED_CARD_NUMBER, json_schemas
from webapp.services.cards.numbers import check_character
from webapp.services.partners.api_keys import SCOPES

SPEC_URL = "/api/v1/openapi.json"
MAX_EXAMPLES = 10
MAX_SECONDS = 45
# A schema-valid request may still be refused for what JSON Schema cannot say, with these documented
# statuses: 413 (the body's size in bytes), 422 (the offer's own field rules, made_at's 30-day window,
# an idempotency key reused), and the refusals of the defaults (credentials, unknown ids, a card
# that is not valid, the rate limits).
ACCEPTED_FOR_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "413", "422", "429"]
# An invalid request is refused with a documented 4xx: schemathesis's defaults, and 413 (an invalid
# member can make the body too large: a 5,000-character card in Arabic letters).
REFUSALS_OF_INVALID_DATA = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429"]
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
]


def with_check_character(typed: str) -> str:
    """The typed number with the right check character (the document's pattern cannot say it)."""
    kept = [char for char in typed if char not in " -"]
    canonical = "".join(kept).upper().translate(str.maketrans("OIL", "011"))
    last = len(typed) - 1 - [char not in " -" for char in reversed(typed)].index(True)
    return typed[:last] + check_character(canonical[:-1]) + typed[last + 1 :]


@pytest.fixture
def api_schema(app, make_organisation, make_offer, make_card, make_api_key):
    """The document as the app serves it, with a partner (an offer, a valid card, a key) to use."""
    organisation = make_organisation()
    offer = make_offer(organisation)
    card = make_card()
    key = make_api_key(organisation, scopes=SCOPES)
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {key.plaintext}"},
            "max-time": MAX_SECONDS,
            "continue-on-failure": True,
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                **{name: {"enabled": True} for name in CHECKS},
                "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTED_FOR_VALID_DATA},
                "negative_data_rejection": {"enabled": True, "expected-statuses": REFUSALS_OF_INVALID_DATA},
            },
        }
    )
    schema = schemathesis.openapi.from_wsgi(SPEC_URL, app, config=config)

    @schema.hook
    def map_query(context: Any, query: dict[str, Any] | None) -> dict[str, Any] | None:
        card = (query or {}).get("card")
        if isinstance(card, str) and normalize_typed(card):
            query = {**(query or {}), "card": with_check_character(card)}
        return query

    redemption_body = Draft202012Validator(json_schemas()["RedemptionRequestBody"])

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        # Only a valid body (a case valid, or invalid elsewhere) may become one that names real things.
        if context.operation.path != "/api/v1/redemptions" or not redemption_body.is_valid(body):
            return st.just(body)
        real = {"offer": offer.id, "card": card.number, "fields": {"weight_kg": 2.5, "destination": "MA"}}
        return st.sampled_from([body, body | real])

    return schema


def normalize_typed(text: str) -> bool:
    """Whether text is a typed card number but for its check character (TYPED_CARD_NUMBER)."""
    return re.fullmatch(TYPED_CARD_NUMBER, text) is not None


def failures_of(event: events.ScenarioFinished) -> list[str]:
    """What failed in one scenario, each with the request that made it fail."""
    found = []
    for case_id, checks in event.recorder.checks.items():
        case = event.recorder.cases[case_id].value
        for check in checks:
            if check.status != "success" and check.failure_info is not None:
                failure = check.failure_info.failure
                found.append(
                    f"{event.recorder.label}: {check.name}: {failure.title}\n  {failure.message[:400]}\n"
                    f"  query={case.query} body={str(case.body)[:300]}"
                )
    return found


def test_generated_requests_get_documented_answers(api_schema):
    """Every generated request gets an answer the document describes, and no 5xx."""
    failures: list[str] = []
    finished = None
    for event in from_schema(api_schema).execute():
        if isinstance(event, events.ScenarioFinished):
            failures += failures_of(event)
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"engine error: {event!r}")
        elif isinstance(event, events.EngineFinished):
            finished = event
    assert finished is not None
    print(f"schemathesis: {finished.running_time:.1f} s, stopped: {finished.stop_reason}")
    assert not failures, "\n".join(failures)
