"""The access matrix: every route of the administration, the partner portal, the partner API and the
artisan's card pages, for every kind of caller, answers as the table below says. Routes are read from the app's URL map,
so a new route is checked the day it is added (and an API route nobody classified fails)."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import AnyConverter, Rule
from werkzeug.test import TestResponse

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import TEST_ACTOR, csrf_token_from
from webapp.models import Role
from webapp.services.partners.offers import withdraw_offer_from_card

ANONYMOUS, ARTISAN, OFFICER, MANAGER, AGENT, SYSTEM, ADMIN = CALLERS = (
    "anonymous",
    "artisan",
    "officer",
    "partner manager",
    "partner agent",
    "partner system",
    "admin",
)
# What a caller may get: let in (any answer but 401, 403, a login redirect or a server error),
# sent to the login page, 401, or 403.
LET_IN, LOGIN, UNAUTHORIZED, FORBIDDEN = "let in", "login", "401", "403"


def _table(allowed: set[str], anonymous: str) -> dict[str, str]:
    return {caller: LET_IN if caller in allowed else FORBIDDEN for caller in CALLERS} | (
        {ANONYMOUS: anonymous} if ANONYMOUS not in allowed else {}
    )


# The expectation table, once: who each kind of route lets in, and what an anonymous caller gets.
EXPECTED = {
    "admin page": _table({ADMIN}, LOGIN),
    "artisan page": _table({ARTISAN}, LOGIN),
    "partner page": _table({MANAGER, AGENT}, LOGIN),
    "partner manager page": _table({MANAGER}, LOGIN),
    "partner api": _table({MANAGER, AGENT, SYSTEM}, UNAUTHORIZED),
    "partner system api": _table({SYSTEM}, UNAUTHORIZED),
    "public api": _table(set(CALLERS), LET_IN),
    "public page": _table(set(CALLERS), LET_IN),
    "artisan api": _table({ARTISAN}, UNAUTHORIZED),
}
# The partner API's routes, each classified by hand: a new one must be added here.
API_ROUTES = {
    "api.verify": "public api",
    "api.bundle": "public api",
    "api.who_am_i": "partner system api",
    "api.record_redemption_view": "partner api",
    "api.eligibility": "partner api",
    "offer_lists.eligibility_list": "partner api",
}
# The card app's routes (issue 15): its shell and activation are public (the phone keeps the shell
# for offline use; activation is how an artisan gets an account), its card API is the artisan's.
CARD_ROUTES = {
    "card.app_page": "public page",
    "card.offline_page": "public page",
    "card.manifest": "public page",
    "card.service_worker": "public page",
    "card.activate": "public page",
    "card.request_code": "public page",
    "card.enter_code": "public page",
    "card.card_api": "artisan api",
    "card.binding_api": "public api",
}
BLUEPRINTS = ("admin", "partner", "api", "offer_lists", "card", "card_account", "card_requests")


def kind_of_route(app: Flask, endpoint: str) -> str:
    """Which row of the table a route follows."""
    blueprint = endpoint.split(".", 1)[0]
    if blueprint == "admin":
        return "admin page"
    if blueprint in ("card_account", "card_requests"):
        return "artisan page"
    if blueprint == "partner":
        # Manager-only views carry the roles `roles_required` gave them.
        required = getattr(app.view_functions[endpoint], "required_roles", None)
        return "partner manager page" if required == frozenset({Role.PARTNER_MANAGER}) else "partner page"
    if blueprint == "card":
        assert endpoint in CARD_ROUTES, f"classify the new card app route {endpoint} in CARD_ROUTES"
        return CARD_ROUTES[endpoint]
    assert endpoint in API_ROUTES, f"classify the new API route {endpoint} in API_ROUTES"
    return API_ROUTES[endpoint]


def urls_of(rule: Rule, values: dict[str, Any]) -> list[str]:
    """Every URL of a rule: each item of an any() part, a known record for each id."""
    choices = []
    for name in rule.arguments:
        converter = rule._converters[name]
        choices.append(sorted(converter.items) if isinstance(converter, AnyConverter) else [values.get(name, 1)])
    return [rule.build(dict(zip(rule.arguments, combination, strict=True)))[1] for combination in product(*choices)]


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) of every route of the blueprints under test."""
    return sorted(
        (method, rule.endpoint, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".", 1)[0] in BLUEPRINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


@pytest.fixture
def world(app, session, make_organisation, make_user, make_offer, make_card, make_api_key):
    """One partner with a manager, an agent, a key and an approved offer withdrawn from a card; and
    the ids to put in URLs."""
    organisation = make_organisation()
    offer = make_offer(organisation)
    withdrawal = withdraw_offer_from_card(session, offer, make_card(), "test", TEST_ACTOR)
    session.commit()
    people = {
        ARTISAN: make_user(Role.ARTISAN),
        OFFICER: make_user(Role.OFFICER),
        MANAGER: make_user(Role.PARTNER_MANAGER, organisation=organisation),
        AGENT: make_user(Role.PARTNER_AGENT, organisation=organisation),
        ADMIN: make_user(Role.ADMIN),
    }
    key = make_api_key(organisation)
    values = {
        "offer_id": offer.id,
        "withdrawal_id": withdrawal.id,
        "slug": organisation.slug,
        "user_id": people[AGENT].id,
        "account_id": people[OFFICER].id,
        "key_id": key.api_key.id,
        "api_key_id": key.api_key.id,
        "prefix": key.api_key.prefix,
        "check_id": 1,
        "redemption_id": 1,
    }
    return {"people": people, "key": key.plaintext, "values": values}


def client_for(app: Flask, caller: str, world: dict[str, Any]) -> tuple[FlaskClient, dict[str, str], str]:
    """A client acting as the caller, the headers it sends, and a CSRF token of its session (so a
    POST is judged on who sends it, not refused for a missing token)."""
    client = app.test_client()
    headers = {}
    if caller in world["people"]:
        assert AuthActions(client).login(world["people"][caller]).status_code == 302
        token = csrf_token_from(client.get("/account").get_data(as_text=True))
    else:
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
    if caller == SYSTEM:
        headers["Authorization"] = f"Bearer {world['key']}"
    return client, headers, token


def outcome(response: TestResponse) -> str:
    if response.status_code == 302 and response.headers["Location"].startswith("/login"):
        return LOGIN
    if response.status_code in (401, 403):
        return str(response.status_code)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    return LET_IN


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_answers_each_caller_as_the_table_says(app, world, caller):
    """Admin pages for admins, portal pages for partner staff (some for managers only), the partner
    API for partner staff and systems, the card pages (offers, checks, requests) for artisans:
    everyone else 403, anonymous people to the login page and anonymous programs 401."""
    client, headers, token = client_for(app, caller, world)
    checked, wrong = 0, []
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for method, endpoint, _path in routes(app):
        expected = EXPECTED[kind_of_route(app, endpoint)][caller]
        for url in urls_of(rules[endpoint], world["values"]):
            if method == "GET":
                response = client.get(url, headers=headers)
            elif url.startswith(("/api/", "/offers/")):
                response = client.open(url, method=method, headers=headers, json={"qr": "not a card"})
            else:
                response = client.open(url, method=method, headers=headers, data={"csrf_token": token})
            checked += 1
            if outcome(response) != expected:
                wrong.append(f"{method} {url}: expected {expected}, got {response.status_code}")
    assert wrong == []
    assert checked >= 20  # the map was read: admin, portal and API routes are all there


def test_the_table_covers_the_routes_under_test(app):
    """Every blueprint under test has routes, and every API route in the table still exists."""
    endpoints = {endpoint for _method, endpoint, _rule in routes(app)}
    assert {endpoint.split(".", 1)[0] for endpoint in endpoints} == set(BLUEPRINTS)
    assert set(API_ROUTES) <= endpoints
    assert any(kind_of_route(app, endpoint) == "partner manager page" for endpoint in endpoints)
    assert any(kind_of_route(app, endpoint) == "partner page" for endpoint in endpoints)
    # The holder's "this was not me" reports are artisan pages like the rest of card_account.
    reports = {"card_account.report", "card_account.report_redemption_view"}
    assert reports <= endpoints and {kind_of_route(app, endpoint) for endpoint in reports} == {"artisan page"}
