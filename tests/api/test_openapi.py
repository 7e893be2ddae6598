"""/api/v1/openapi.json: a valid OpenAPI 3.1 document that tells the truth. For every documented
operation and status code, real requests through the test client get that status, with a JSON body
that validates against the documented schema and the documented headers.

Documenting a new endpoint in webapp/api/openapi.py: add an example request per status code to
EXAMPLES below (a function of the test's fixtures that returns the response)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import TestResponse

from tests.conftest import TEST_ACTOR
from webapp.api.openapi import OPENAPI_VERSION
from webapp.models import Card, RevocationReason, Role
from webapp.services.cards import lifecycle as card_service
from webapp.services.cards.tokens import qr_text

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


EXAMPLES: dict[tuple[str, str, str], list[Example]] = {
    ("post", VERIFY, "200"): [verify_valid_card, verify_revoked_card_in_arabic, verify_foreign_text],
    ("post", VERIFY, "400"): [verify_broken_json, verify_without_qr],
    ("post", VERIFY, "413"): [verify_oversized_body],
    ("post", VERIFY, "429"): [verify_past_the_rate_limit],
    ("get", ME, "200"): [whoami_with_a_key],
    ("get", ME, "401"): [whoami_without_a_key, whoami_with_an_unknown_key],
    ("get", ME, "403"): [whoami_as_a_signed_in_person],
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


def test_every_api_route_is_documented(app, document):
    """Each route of the API blueprint, with each of its methods, is an operation of the document."""
    routes = {
        (method.lower(), rule.rule.replace("<", "{").replace(">", "}"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
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
    [(*key, example) for key, examples in EXAMPLES.items() for example in examples],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_real_answers_match_the_document(request, document, method, path, status, example):
    """The example request gets the documented status, a JSON body valid against the documented
    schema, and the documented headers with valid values."""
    response = example(request)

    assert response.status_code == int(status), response.get_data(as_text=True)
    pointer, documented = response_location(document, method, path, status)
    assert response.mimetype in documented["content"]
    validator_for(document, f"{pointer}/content/{escape(response.mimetype)}/schema").validate(response.get_json())
    for name, header in documented.get("headers", {}).items():
        header_pointer = f"{pointer}/headers/{escape(name)}"
        if "$ref" in header:
            header_pointer = header["$ref"].removeprefix("#")
        assert name in response.headers, f"{name} is documented but missing"
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
