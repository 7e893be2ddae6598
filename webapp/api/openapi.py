"""The partner API described as an OpenAPI 3.1 document (served at /api/v1/openapi.json).

One plain dict, so that describing a new endpoint is adding an entry to `PATHS` (and its schemas to
`SCHEMAS`), then a row per status code to the example table of tests/api/test_openapi.py, which
sends a real request for every documented operation and status and validates the answer against
the schema written here. Texts are in English: the document is for partners' developers, and
docs/card-token.md (the format and the rules) is in English too.
"""

from __future__ import annotations

from typing import Any

from webapp.services.cards.numbers import ALPHABET
from webapp.services.verification import Verdict
from webapp.settings import Settings

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
JSON = "application/json"

# Verdicts that come with the signed card's details (docs/card-token.md, section 9).
VERDICTS_WITH_CARD = [Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED, Verdict.SUSPENDED]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json_body(schema_name: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref("schemas", schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


def _error_schema(*codes: str) -> dict[str, Any]:
    """An error body whose `error` is one of these reason codes."""
    error: dict[str, Any] = {"const": codes[0]} if len(codes) == 1 else {"enum": list(codes)}
    return {"allOf": [_ref("schemas", "Error"), {"properties": {"error": error}}]}


# Headers a verdict always carries: verdicts are never cached, and say which language they are in.
VERDICT_HEADERS = {"Cache-Control": _ref("headers", "NoStore"), "Content-Language": _ref("headers", "ContentLanguage")}

SCHEMAS: dict[str, Any] = {
    "VerifyRequest": {
        "type": "object",
        "required": ["qr"],
        "properties": {
            "qr": {
                "type": "string",
                "description": "The scanned text, as read from the QR code: the URL with the token in its "
                "fragment, the bare digits, or the bare token (docs/card-token.md, section 3).",
            }
        },
    },
    "Verdict": {
        "type": "string",
        "enum": [verdict.value for verdict in Verdict],
        "description": "What the card is (docs/card-token.md, section 1).",
    },
    "Card": {
        "type": "object",
        "description": "What the signed card says, with the trade and region names in the answer's language.",
        "required": ["number", "name", "trade", "trade_name", "region", "region_name", "expires"],
        "additionalProperties": False,
        "properties": {
            "number": {
                "type": "string",
                "pattern": f"^[{ALPHABET}]{{10}}$",
                "description": "The card number.",
                "examples": ["K7M2Q9XH4V"],
            },
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 40,
                "description": "The Latin name.",
                "examples": ["Fatima Zahra Benali"],
            },
            "trade": {
                "type": "string",
                "minLength": 1,
                "description": "The trade code (trade table).",
                "examples": ["TAP"],
            },
            "trade_name": {"type": "string", "examples": ["Carpets"]},
            "region": {
                "type": "string",
                "pattern": "^(0[1-9]|1[0-2])$",
                "description": "The region code.",
                "examples": ["07"],
            },
            "region_name": {"type": "string", "examples": ["Marrakesh-Safi"]},
            "expires": {
                "type": "string",
                "format": "date",
                "pattern": r"^\d{4}-\d{2}-\d{2}$",
                "description": "The expiry date in Morocco (Africa/Casablanca), as printed on the card.",
                "examples": ["2031-11-22"],
            },
        },
    },
    "CheckedAt": {
        "type": "string",
        "format": "date-time",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        "description": "When the server checked, UTC, to the second.",
        "examples": ["2026-11-22T12:00:00Z"],
    },
    "VerifyResult": {
        "type": "object",
        "required": ["verdict", "reason", "checked_at"],
        "additionalProperties": False,
        "properties": {
            "verdict": _ref("schemas", "Verdict"),
            "reason": {
                "type": "string",
                "description": "The verdict's message for a person, in the answer's language.",
                "examples": ["Valid card: this artisan is in the National Register of Handicraft."],
            },
            "card": _ref("schemas", "Card"),
            "checked_at": _ref("schemas", "CheckedAt"),
        },
        # The card's details come with the verdicts about a genuine card, and only with them.
        "if": {"properties": {"verdict": {"enum": [verdict.value for verdict in VERDICTS_WITH_CARD]}}},
        "then": {"required": ["card"]},
        "else": {"not": {"required": ["card"]}},
    },
    "MalformedRequest": {
        "type": "object",
        "required": ["verdict", "reason", "error", "checked_at"],
        "additionalProperties": False,
        "properties": {
            "verdict": {"const": Verdict.MALFORMED.value},
            "reason": {"type": "string"},
            "error": {
                "enum": ["invalid_json", "missing_qr"],
                "description": "`invalid_json`: the body is not a JSON object; `missing_qr`: it has no string `qr`.",
            },
            "checked_at": _ref("schemas", "CheckedAt"),
        },
    },
    "Error": {
        "type": "object",
        "required": ["error", "reason"],
        "additionalProperties": False,
        "properties": {
            "error": {"type": "string", "description": "A stable reason code, for programs."},
            "reason": {"type": "string", "description": "What went wrong, for a person, in the answer's language."},
            "message": {"type": "string", "description": "The same text as `reason`."},
        },
    },
    "Whoami": {
        "type": "object",
        "required": ["organisation", "api_key"],
        "additionalProperties": False,
        "properties": {
            "organisation": {
                "type": "object",
                "required": ["id", "slug", "name", "kind"],
                "additionalProperties": False,
                "properties": {
                    "id": {"type": "integer"},
                    "slug": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {
                        "type": "string",
                        "description": "A partner kind (transporter, market_organiser, lender, training_body, "
                        "other; new agreements may add kinds).",
                    },
                },
            },
            "api_key": {
                "type": "object",
                "required": ["prefix", "scopes"],
                "additionalProperties": False,
                "properties": {
                    "prefix": {
                        "type": "string",
                        "pattern": "^[a-z2-7]{10}$",
                        "description": "The key's public prefix, to tell your keys apart.",
                    },
                    "scopes": {
                        "type": "array",
                        "items": {"type": "string", "enum": ["eligibility", "redeem", "verify"]},
                        "description": "What the key may do.",
                    },
                },
            },
        },
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/verify": {
        "post": {
            "operationId": "verify",
            "tags": ["Verification"],
            "summary": "Verify a scanned card",
            "description": "Checks the token's signature against the keys of `/.well-known/jwks.json`, the card's "
            "status in the register and its expiry, and answers one verdict. Open to anyone, no key needed. "
            "The rules are in docs/card-token.md (sections 8 and 9).",
            "security": [],
            "parameters": [
                {
                    "name": "Accept-Language",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "example": "ar"},
                    "description": "`fr`, `ar` or `en` for the reason and the names; French otherwise.",
                }
            ],
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {
                        "schema": _ref("schemas", "VerifyRequest"),
                        "example": {"qr": "https://carte.example.ma/v#5667..."},
                    }
                },
            },
            "responses": {
                "200": _json_body(
                    "VerifyResult", "A verdict, whatever it is (a forged card is a 200 too).", VERDICT_HEADERS
                ),
                "400": _json_body(
                    "MalformedRequest",
                    "The body is not a JSON object with a string `qr`: the verdict is `malformed`.",
                    VERDICT_HEADERS,
                ),
                "413": _ref("responses", "PayloadTooLarge"),
                "429": _ref("responses", "RateLimited"),
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
                "200": _json_body("Whoami", "The key is valid.", {"Cache-Control": _ref("headers", "NoStore")}),
                "401": {
                    "description": "No key (`login_required`), or a key that is malformed, unknown or revoked "
                    "(`invalid_api_key`: the answer does not say which).",
                    "content": {JSON: {"schema": _error_schema("login_required", "invalid_api_key")}},
                },
                "403": {
                    "description": "A person signed in with a password: this endpoint is for partner systems.",
                    "content": {JSON: {"schema": _error_schema("forbidden")}},
                },
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
            "summary": "Verify the digital professional card of Moroccan artisans.",
            "description": "The card token, the verdicts and every verification rule are specified in "
            "docs/card-token.md. Public trust material (not part of this API, no key needed): "
            "`/.well-known/jwks.json` (the keys) and `/statuslists/1` (the signed status list). "
            f"Verifications are limited to {settings.VERIFY_RATE_LIMIT} per client address.",
        },
        "servers": [{"url": settings.PUBLIC_BASE_URL}],
        "tags": [
            {"name": "Verification", "description": "Verdicts on scanned cards."},
            {"name": "Partner systems", "description": "Calls made by a partner's server with its API key."},
        ],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "partnerApiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ca_<prefix>_<secret>",
                    "description": "An API key of your organisation, shown once when it was created: "
                    "`Authorization: Bearer ca_<prefix>_<secret>`.",
                }
            },
            "headers": {
                "NoStore": {
                    "description": "Answers about cards are never cached.",
                    "schema": {"const": "no-store"},
                },
                "ContentLanguage": {
                    "description": "The language of the texts in the answer.",
                    "schema": {"enum": ["fr", "ar", "en"]},
                },
            },
            "responses": {
                "PayloadTooLarge": {
                    "description": f"The body is over {settings.MAX_CONTENT_LENGTH:,} bytes.",
                    "content": {JSON: {"schema": _error_schema("payload_too_large")}},
                },
                "RateLimited": {
                    "description": "Too many requests from this client: wait as long as `Retry-After` says.",
                    "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}},
                    "content": {JSON: {"schema": _error_schema("rate_limited")}},
                },
            },
        },
    }
