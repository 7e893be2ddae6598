"""The partner API described as an OpenAPI 3.1 document (served at /api/v1/openapi.json).

Assembled, not written by hand: every request and answer body, and the query of a GET, is the
JSON Schema of a pydantic model of webapp/api/schemas.py, the same models the views parse with;
the request body of an operation is the model its view declares (`@reads_json`). What is written
here is what JSON Schema cannot say: each operation's texts, who may call, which status answers
with which body, and the headers. Describing a new endpoint is adding an entry to `_paths` (and
its models to schemas.py), then a row per status code to the example table of
tests/api/test_openapi.py, which sends a real request for every documented operation and status
and validates the answer against this document. Texts are in English: the document is for
partners' developers, and docs/card-token.md (the format and the rules) is in English too.

Paths are full paths from the site's root (the one server): the API lives under /api/v1, and each
offer's signed eligibility list under /offers, next to the other signed lists.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import current_app

from webapp.api.schemas import (
    ERRORS,
    EligibilityQuery,
    EligibilityResult,
    MalformedRequest,
    Redemption,
    Request,
    VerifyResult,
    Whoami,
    json_schemas,
    request_model_of,
)
from webapp.services.partners.api_keys import SCOPE_ELIGIBILITY, SCOPE_REDEEM, SCOPE_VERIFY
from webapp.services.partners.redemptions import IDEMPOTENCY_KEY_PATTERN, MAX_IDEMPOTENCY_KEY_LENGTH
from webapp.services.trust.status_list import TOKEN_TYPE
from webapp.settings import Settings

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
JSON = "application/json"
STATUS_LIST_JWT = f"application/{TOKEN_TYPE}"
BUNDLE_JWT = "application/bundle+jwt"
COMPACT_JWS = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"}
# Flask's session cookie, which carries a signed-in person's session (SESSION_COOKIE_NAME).
SESSION_COOKIE = "session"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(model: type | str) -> dict[str, str]:
    return _ref("schemas", model if isinstance(model, str) else model.__name__)


def _json_body(model: type, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _schema(model)}}}
    if headers:
        response["headers"] = headers
    return response


def _error_response(description: str, *errors: str) -> dict[str, Any]:
    """A JSON error answer: one error body of schemas.ERRORS, or one of several (told apart by their codes)."""
    assert all(name in ERRORS for name in errors), errors
    schema = _schema(errors[0]) if len(errors) == 1 else {"oneOf": [_schema(name) for name in errors]}
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _request_body(endpoint: str, example: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the view of `endpoint` parses: the model it declares with @reads_json."""
    model = request_model_of(current_app.view_functions[endpoint])
    assert model is not None, f"{endpoint} declares no request model"
    return {"required": True, "content": {JSON: {"schema": _schema(model), "example": example}}}


def _query_parameters(model: type[Request]) -> list[dict[str, Any]]:
    """A GET's query parameters: the members of the model its view parses the query with."""
    schema = json_schemas()[model.__name__]
    parameters = []
    for name, member in schema["properties"].items():
        member = dict(member)
        description = member.pop("description", "")
        examples = member.pop("examples", [])
        parameter = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", []),
            "schema": member,
            "description": description,
        }
        if examples:
            parameter["example"] = examples[0]
        parameters.append(parameter)
    return parameters


# Headers a verdict always carries: verdicts are never cached, and say which language they are in.
VERDICT_HEADERS = {"Cache-Control": _ref("headers", "NoStore"), "Content-Language": _ref("headers", "ContentLanguage")}
ACCEPT_LANGUAGE = _ref("parameters", "AcceptLanguage")
# Every operation reads the database: while it cannot be reached, a prompt 503 rather than a hang.
UNAVAILABLE = _ref("responses", "Unavailable")


def _partner_security(scope: str) -> list[dict[str, list[str]]]:
    """Who may call: partner systems with an API key holding `scope` (OpenAPI 3.1 lets a security
    requirement name roles for any scheme), or partner staff signed in."""
    return [{"partnerApiKey": [scope]}, {"staffSession": []}]


def _paths() -> dict[str, Any]:
    """The operations; request bodies and query parameters come from the views' models."""
    return {
        "/api/v1/verify": {
            "post": {
                "operationId": "verify",
                "tags": ["Verification"],
                "summary": "Verify a scanned card",
                "description": "Checks the token's signature against the keys of `/.well-known/jwks.json`, the card's "
                "status in the register and its expiry, and answers one verdict. Open to anyone, no key needed. "
                "The rules are in docs/card-token.md (sections 8 and 9).\n\n"
                "Partner callers (an API key with the `verify` scope, or partner staff signed in) also get `offers`: "
                "their own organisation's offers that apply today and whether the holder may use each. A key that is "
                "not valid is refused (401) rather than ignored.",
                "security": [{}, {"partnerApiKey": [SCOPE_VERIFY]}, {"staffSession": []}],
                "parameters": [ACCEPT_LANGUAGE],
                "requestBody": _request_body("api.verify", {"qr": "https://carte.example.ma/v#5667..."}),
                "responses": {
                    "200": _json_body(
                        VerifyResult, "A verdict, whatever it is (a forged card is a 200 too).", VERDICT_HEADERS
                    ),
                    "400": _json_body(
                        MalformedRequest,
                        "The body is not a JSON object with a string `qr` (or its `place` is not acceptable): "
                        "the verdict is `malformed`.",
                        VERDICT_HEADERS,
                    ),
                    "401": _error_response(
                        "An API key was sent but is malformed, unknown, revoked or expired.",
                        "InvalidApiKey",
                    ),
                    "403": _error_response("The API key does not have the `verify` scope.", "InsufficientScope"),
                    "413": _ref("responses", "PayloadTooLarge"),
                    "429": _ref("responses", "RateLimited"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/v1/redemptions": {
            "post": {
                "operationId": "recordRedemption",
                "tags": ["Offers"],
                "summary": "Record a redemption",
                "description": "Records that a card holder used one of your offers. Accepted for a card valid when the "
                "redemption was made, an offer of your organisation that applied that day, a holder eligible for it, "
                "field values that fit the offer, and a quota not spent (the quota is never exceeded, also under "
                "concurrent requests).\n\n"
                "Send an `Idempotency-Key` with each redemption and keep it for its retries: a retry gets the first "
                "answer (with `Idempotent-Replayed: true`) and records nothing more. A refused request records "
                "nothing, so its retry is judged again.",
                "security": _partner_security(SCOPE_REDEEM),
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
                        "description": "A new unique value per redemption, kept for its retries, as in the IETF draft "
                        '"The Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header), which '
                        'makes it a quoted string such as a UUID v4: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`. The '
                        "value is compared as sent (quotes included, surrounding spaces ignored), per organisation: "
                        f"visible ASCII, spaces inside allowed, at most {MAX_IDEMPOTENCY_KEY_LENGTH} characters. "
                        "Missing: 400 `idempotency_key_required`; the same key with another request: 422 "
                        "`idempotency_key_reused`; a retry while the first request is still in progress waits for its "
                        "answer.",
                        "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
                    },
                    ACCEPT_LANGUAGE,
                ],
                "requestBody": _request_body(
                    "api.record_redemption_view",
                    {"card": "K7M2Q9XH4V", "offer": 1, "fields": {"weight_kg": 2.5, "destination": "FR"}},
                ),
                "responses": {
                    "201": _json_body(
                        Redemption,
                        "Recorded (or a retry of a recorded one: the first answer again).",
                        {
                            "Location": _ref("headers", "Location"),
                            "Idempotent-Replayed": _ref("headers", "IdempotentReplayed"),
                        },
                    ),
                    "400": _error_response(
                        "The request does not fit `RedemptionRequestBody`, and the first member found wrong is "
                        "named: the body "
                        "is not a JSON object (`invalid_json`), `card` is missing, not a string or blank "
                        "(`missing_card`), "
                        "`offer` not a whole number (`missing_offer`), `offline` not a boolean "
                        "(`bad_offline`), `made_at` "
                        "not an RFC 3339 date and time with its zone (`bad_made_at`); or the `Idempotency-Key` "
                        "header is missing or does not fit its pattern (`idempotency_key_required`).",
                        "BadRedemptionRequest",
                    ),
                    "401": _ref("responses", "Unauthorized"),
                    "403": _ref("responses", "Forbidden"),
                    "404": _error_response(
                        "No offer of your organisation with this id applies on that day (another partner's offer, a "
                        "missing one, a draft, a paused one, or one outside its window: the answer does not "
                        "say which).",
                        "UnknownOffer",
                    ),
                    "409": _error_response(
                        "The card is not valid or not recognised (`card_not_valid`), the holder is not eligible "
                        "(`not_eligible`, with the failed conditions' labels in `failed`), or the card's quota for the "
                        "period is spent (`quota_spent`).",
                        "CardNotUsable",
                        "NotEligible",
                    ),
                    "413": _ref("responses", "PayloadTooLarge"),
                    "422": _error_response(
                        "Field values that do not fit the offer (`bad_fields`, with a problem per field name in "
                        "`fields`), a `made_at` in the future or more than 30 days ago (`bad_made_at`), or an "
                        "`Idempotency-Key` already used for another request (`idempotency_key_reused`).",
                        "RedemptionUnprocessable",
                        "BadFields",
                    ),
                    "429": _ref("responses", "RateLimited"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/api/v1/eligibility": {
            "get": {
                "operationId": "cardEligibility",
                "tags": ["Offers"],
                "summary": "A card's eligibility for your offers",
                "description": "For lenders' and other partners' systems: whether a card is valid, and for each of "
                "your offers that apply today whether its holder may use it. Nothing else about the holder.",
                "security": _partner_security(SCOPE_ELIGIBILITY),
                "parameters": [
                    *_query_parameters(EligibilityQuery),
                    ACCEPT_LANGUAGE,
                ],
                "responses": {
                    "200": _json_body(EligibilityResult, "The card's state and your offers.", VERDICT_HEADERS),
                    "400": _error_response(
                        "`card` is missing or is not a card number (10 characters with a valid check character): "
                        "`bad_card_number`; `place` is longer than 120 characters or holds control characters: "
                        "`bad_place`.",
                        "BadEligibilityQuery",
                    ),
                    "401": _ref("responses", "Unauthorized"),
                    "403": _ref("responses", "Forbidden"),
                    "503": UNAVAILABLE,
                },
            }
        },
        "/offers/{offer_id}/eligibility": {
            "get": {
                "operationId": "offerEligibilityList",
                "tags": ["Offers"],
                "summary": "An offer's signed eligibility list",
                "description": "For verifier phones that work offline: a signed Token Status List (IETF "
                "draft-ietf-oauth-status-list) of 1 bit per card, indexed by the card's status-list index (the "
                "`status.status_list.idx` of its token), 1 when the holder may use the offer today. Signed with the "
                "keys of `/.well-known/jwks.json`, like `/statuslists/1`; its `sub` is this URL. Only the offer's own "
                "partner may read it. Fetch it again when its `ttl` has passed; `If-None-Match` makes that cheap. "
                "The list is rebuilt by the server after the register or the offer changes: until the new one is "
                "signed, the last one is served.",
                "security": _partner_security(SCOPE_VERIFY),
                "parameters": [
                    {
                        "name": "offer_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                        "description": "The offer's id.",
                    },
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The `ETag` of the list you hold: 304 while it is still the current one.",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The signed list, a compact JWS of type `statuslist+jwt`.",
                        "headers": {
                            "ETag": _ref("headers", "ETag"),
                            "Cache-Control": _ref("headers", "PrivateCache"),
                            "Vary": _ref("headers", "VaryCaller"),
                        },
                        "content": {
                            STATUS_LIST_JWT: {
                                "schema": {
                                    "type": "string",
                                    "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                                }
                            }
                        },
                    },
                    "304": {
                        "description": "The list named by `If-None-Match` is still the current one (no body).",
                        "headers": {"ETag": _ref("headers", "ETag"), "Cache-Control": _ref("headers", "PrivateCache")},
                    },
                    "401": _ref("responses", "Unauthorized"),
                    "403": _ref("responses", "Forbidden"),
                    "404": _error_response(
                        "No offer of yours with this id applies today (another partner's offer, a missing one, a "
                        "draft, a paused one, or one outside its window: the answer does not say which).",
                        "NotFound",
                    ),
                    "503": {
                        "description": "The offer's list is not built yet (a newly approved offer) or its last "
                        "one has expired: it is being built (`eligibility_list_pending`), ask again after "
                        "`Retry-After`; or the database cannot be reached now (`database_unavailable`).",
                        "headers": {
                            "Retry-After": {
                                "description": "Seconds to wait before asking again.",
                                "required": True,
                                "schema": {"type": "string", "pattern": r"^\d+$"},
                            }
                        },
                        "content": {
                            JSON: {"schema": {"anyOf": [_schema("EligibilityListPending"), _schema("AnyError")]}}
                        },
                    },
                },
            }
        },
        "/api/v1/bundle": {
            "get": {
                "operationId": "trustBundle",
                "tags": ["Verification"],
                "summary": "The trust bundle for verifying offline",
                "description": "Everything a verifier app needs to verify cards without a network, in one compact JWS "
                "of type `bundle+jwt` signed with the keys of `/.well-known/jwks.json` (docs/card-token.md section "
                "12): the JWKS, the status list token, the maximum age the app may rely on it (`max_age`, also its "
                "`exp`), and, for partner staff and systems, their offers that apply today with each offer's "
                "eligibility list token (an offer whose list is not built yet is left out until it is). Anyone may "
                "fetch the public bundle (no offers, 7 days). Send "
                "`If-None-Match` with the `ETag` you hold: 304 while nothing in it changed.",
                "security": [{}, *_partner_security(SCOPE_VERIFY)],
                "parameters": [
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "The `ETag` of the bundle you hold.",
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The signed bundle.",
                        "headers": {"ETag": _ref("headers", "ETag"), "Cache-Control": _ref("headers", "Revalidate")},
                        "content": {BUNDLE_JWT: {"schema": COMPACT_JWS}},
                    },
                    "304": {
                        "description": "The bundle named by `If-None-Match` is still the current one (no body).",
                        "headers": {"ETag": _ref("headers", "ETag")},
                    },
                    "401": _ref("responses", "Unauthorized"),
                    "403": _ref("responses", "Forbidden"),
                    "429": _ref("responses", "RateLimited"),
                    "503": {
                        "description": "The register has no signing key yet: there is nothing to verify with "
                        "(`no_signing_key`); or the database cannot be reached now (`database_unavailable`).",
                        "content": {JSON: {"schema": {"anyOf": [_schema("NoSigningKey"), _schema("AnyError")]}}},
                    },
                },
            }
        },
        "/api/v1/me": {
            "get": {
                "operationId": "whoami",
                "tags": ["Partner systems"],
                "summary": "Check an API key",
                "description": "The organisation and key the API sees: a first call to check that a key works.",
                "security": [{"partnerApiKey": []}],
                "responses": {
                    "200": _json_body(Whoami, "The key is valid.", {"Cache-Control": _ref("headers", "NoStore")}),
                    "401": {
                        "description": "No key (`login_required`), or a key that is malformed, unknown, revoked or "
                        "expired (`invalid_api_key`: the answer does not say which).",
                        "content": {JSON: {"schema": _schema("NotSignedIn")}},
                    },
                    "403": {
                        "description": "A person signed in with a password: this endpoint is for partner systems.",
                        "content": {JSON: {"schema": _schema("Forbidden")}},
                    },
                    "503": UNAVAILABLE,
                },
            }
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the partner API as this deployment serves it."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Carte Artisan API",
            "version": API_VERSION,
            "summary": "Verify the digital professional card of Moroccan artisans; partners' offers.",
            "description": "The card token, the verdicts and every verification rule are specified in "
            "docs/card-token.md; offers and their eligibility rules in docs/offers.md. Public trust material "
            "(not part of this API, no key needed): `/.well-known/jwks.json` (the keys) and `/statuslists/1` "
            f"(the signed status list). Verifications are limited to {settings.VERIFY_RATE_LIMIT} and redemptions "
            f"to {settings.REDEMPTION_RATE_LIMIT} per client address.\n\n"
            "Partner systems authenticate with an API key of their organisation (`partnerApiKey`); partner "
            "managers and agents signed in on this site use their session (`staffSession`). Refusals are JSON: "
            '`{"error": code, "reason": text, "message": text}` and the members each answer documents.',
        },
        "servers": [{"url": settings.PUBLIC_BASE_URL}],
        "tags": [
            {"name": "Verification", "description": "Verdicts on scanned cards."},
            {
                "name": "Offers",
                "description": "Your organisation's offers: a card's eligibility, redemptions, and signed "
                "eligibility lists for offline checks. Another partner's offers are never shown.",
            },
            {"name": "Partner systems", "description": "Calls made by a partner's server with its API key."},
        ],
        "paths": _paths(),
        "components": {
            "schemas": copy.deepcopy(json_schemas()),
            "securitySchemes": {
                "partnerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ca_<prefix>_<secret>",
                    "description": "An API key of your organisation, shown once when it was created: "
                    "`Authorization: Bearer ca_<prefix>_<secret>`. A key holds scopes (`verify`, `redeem`, "
                    "`eligibility`); each operation names the scope it needs. A malformed, unknown, revoked or "
                    "expired key is refused on every operation, public ones included (401 `invalid_api_key`); "
                    "a key without the operation's scope gets 403 `insufficient_scope`.",
                },
                "staffSession": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "A partner manager or agent signed in on this site with a password (the "
                    "scanner and the partner portal). Any other signed-in role gets 403 `forbidden` from the "
                    "partner operations. Partner systems use an API key instead.",
                },
            },
            "parameters": {
                "AcceptLanguage": {
                    "name": "Accept-Language",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "example": "ar"},
                    "description": "`fr`, `ar` or `en` for the texts of the answer; French otherwise.",
                }
            },
            "headers": {
                "NoStore": {
                    "description": "Answers about cards are never cached.",
                    "required": True,
                    "schema": {"const": "no-store"},
                },
                "ContentLanguage": {
                    "description": "The language of the texts in the answer.",
                    "required": True,
                    "schema": {"enum": ["fr", "ar", "en"]},
                },
                "Location": {
                    "description": "The path of the recorded redemption.",
                    "required": True,
                    "schema": {"type": "string", "pattern": r"^/api/v1/redemptions/[1-9][0-9]*$"},
                },
                "IdempotentReplayed": {
                    "description": "Present on a retry: this is the first answer given for the same "
                    "`Idempotency-Key`; nothing was recorded this time.",
                    "required": False,
                    "schema": {"const": "true"},
                },
                "ETag": {
                    "description": "The version of what was answered (a list, a bundle), for `If-None-Match`.",
                    "required": True,
                    "schema": {"type": "string", "pattern": '^"[0-9a-f]{32}"$'},
                },
                "PrivateCache": {
                    "description": "Only the caller may keep the list (it tells who may use the partner's "
                    f"offer), for at most {settings.STATUS_LIST_MAX_AGE_SECONDS} seconds.",
                    "required": True,
                    "schema": {"type": "string", "pattern": r"^private, max-age=\d+$"},
                },
                "Revalidate": {
                    "description": "Kept by the caller but checked again at every use: a revoked card must reach "
                    "the phones at their next refresh. Public for the public bundle, private for a partner's.",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "pattern": r"^(no-cache, (public|private)|(public|private), no-cache)$",
                    },
                },
                "VaryCaller": {
                    "description": "The answer depends on who asks.",
                    "required": True,
                    "schema": {"const": "Authorization, Cookie"},
                },
            },
            "responses": {
                "Unavailable": {
                    "description": "A store the answer needs cannot be reached now (the database: "
                    "`database_unavailable`): try again later. Refusals of this kind carry a reason code like "
                    "any other.",
                    "content": {JSON: {"schema": _schema("AnyError")}},
                },
                "Unauthorized": {
                    "description": "No API key and no session (`login_required`), or a key that is malformed, "
                    "unknown, revoked or expired (`invalid_api_key`: the answer does not say which).",
                    "content": {JSON: {"schema": _schema("NotSignedIn")}},
                },
                "Forbidden": {
                    "description": "Signed in, but not as partner staff (`forbidden`), or an API key without "
                    "this operation's scope (`insufficient_scope`).",
                    "content": {JSON: {"schema": _schema("NotAllowed")}},
                },
                "PayloadTooLarge": {
                    "description": f"The body is over {settings.MAX_CONTENT_LENGTH:,} bytes.",
                    "content": {JSON: {"schema": _schema("PayloadTooLarge")}},
                },
                "RateLimited": {
                    "description": "Too many requests from this client: wait as long as `Retry-After` says.",
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds to wait.",
                            "required": True,
                            "schema": {"type": "string", "pattern": r"^\d+$"},
                        }
                    },
                    "content": {JSON: {"schema": _schema("RateLimited")}},
                },
            },
        },
    }
