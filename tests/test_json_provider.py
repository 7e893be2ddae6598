"""JSON nested deeper than Python's parser follows is refused as bad JSON (400), never a 500, on
every route that reads a JSON body; and no route answers it with a 5xx."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, BaseConverter

from webapp import create_app
from webapp.api.schemas import request_model_of

# 4 KB of "[": far past the parser's recursion limit (about 1,000), within the body size limit.
TOO_DEEP = b"[" * 4096
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def sample_value(converter: BaseConverter) -> str:
    """A value the converter accepts: an `any` converter's first word, else enough characters."""
    if isinstance(converter, AnyConverter):
        return min(converter.items)
    length = re.fullmatch(r"\[\^/\]\{(\d+)\}", converter.regex)
    return "A" * int(length[1]) if length else "1"


def body_routes(app: Flask, json_only: bool) -> list[tuple[str, str]]:
    """(method, URL) of each route that takes a body, with a value for each of its variables: only
    those whose view parses JSON (declared with @reads_json), or all."""
    found = []
    for rule in app.url_map.iter_rules():
        if json_only and request_model_of(app.view_functions[rule.endpoint]) is None:
            continue
        url = rule.rule
        for name, converter in rule._converters.items():
            url = re.sub(f"<[^<>]*{name}>", sample_value(converter), url)
        found += [(method, url) for method in sorted(rule.methods & BODY_METHODS)]
    return sorted(found)


_APP = create_app(
    {
        "TESTING": True,
        "SECRET_KEY": "collection-only-secret-key-0123456789abcdef",
        "DATABASE_URL": "sqlite://",
        "PUBLIC_BASE_URL": "https://carte.test",
    }
)
JSON_ROUTES = body_routes(_APP, json_only=True)
BODY_ROUTES = body_routes(_APP, json_only=False)


def test_the_json_routes_are_found():
    """The URL map names the API's JSON endpoints (a view that parses JSON declares its model)."""
    assert ("POST", "/api/v1/verify") in JSON_ROUTES and ("POST", "/api/v1/redemptions") in JSON_ROUTES


@pytest.mark.parametrize(("method", "url"), JSON_ROUTES)
def test_json_nested_too_deep_is_invalid_json(client, make_api_key, method, url):
    """A JSON endpoint answers 400 invalid_json, with a partner's key or without one."""
    headers = {"Authorization": f"Bearer {make_api_key().plaintext}", "Idempotency-Key": "deep"}
    for sent in (headers, {}):
        response = client.open(url, method=method, data=TOO_DEEP, content_type="application/json", headers=sent)
        if response.status_code in (401, 403):  # refused before reading the body: nothing to parse
            continue
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["error"] == "invalid_json"


@pytest.mark.parametrize(("method", "url"), BODY_ROUTES)
def test_no_route_answers_deep_json_with_a_server_error(client, method, url):
    """Whatever the route (forms included), too-deep JSON gets a 4xx or a redirect, never a 5xx."""
    response = client.open(url, method=method, data=TOO_DEEP, content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)
