"""The partner API described as an OpenAPI 3.1 document (served at /api/v1/openapi.json).

One plain dict, so that describing a new endpoint is adding an entry to `PATHS` (and its schemas to
`SCHEMAS`), then a row per status code to the example table of tests/api/test_openapi.py, which
sends a real request for every documented operation and status and validates the answer against
the schema written here. Texts are in English: the document is for partners' developers, and
docs/card-token.md (the format and the rules) is in English too.

Paths are full paths from the site's root (the one server): the API lives under /api/v1, and each
offer's signed eligibility list under /offers, next to the other signed lists.
"""

from __future__ import annotations

from typing import Any

from webapp.services.cards.numbers import ALPHABET
from webapp.services.partners.api_keys import SCOPE_ELIGIBILITY, SCOPE_REDEEM, SCOPE_VERIFY, SCOPES
from webapp.services.partners.redemptions import MAX_IDEMPOTENCY_KEY_LENGTH
from webapp.services.trust.status_list import TOKEN_TYPE
from webapp.services.verification import Verdict
from webapp.settings import Settings

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1"
JSON = "application/json"
STATUS_LIST_JWT = f"application/{TOKEN_TYPE}"
BUNDLE_JWT = "application/bundle+jwt"
COMPACT_JWS = {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"}
# Flask's session cookie, which carries a signed-in person's session (SESSION_COOKIE_NAME).
SESSION_COOKIE = "session"

# Verdicts that come with the signed card's details (docs/card-token.md, section 9).
VERDICTS_WITH_CARD = [Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED, Verdict.SUSPENDED]
# What the register says of a card number (the card's state, or `unknown` for a number of no card).
CARD_STATES = ["active", "expired", "suspended", "revoked", "unknown"]


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json_body(schema_name: str, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {JSON: {"schema": _ref("schemas", schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


def _error_schema(*codes: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error body whose `error` is one of these reason codes, with these further members (all
    present), and nothing else."""
    error: dict[str, Any] = {"const": codes[0]} if len(codes) == 1 else {"enum": list(codes)}
    own: dict[str, Any] = {"properties": {"error": error}}
    if details:
        own["properties"] |= details
        own["required"] = sorted(details)
    # unevaluatedProperties (not additionalProperties) sees the members the allOf branches declare.
    return {"allOf": [_ref("schemas", "Error"), own], "unevaluatedProperties": False}


def _error_response(description: str, *variants: dict[str, Any]) -> dict[str, Any]:
    """A JSON error answer: one error schema, or one of several (told apart by their codes)."""
    schema = variants[0] if len(variants) == 1 else {"oneOf": list(variants)}
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _instant(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "format": "date-time",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$",
        "description": description,
        "examples": ["2026-11-22T12:00:00Z"],
    }


# Headers a verdict always carries: verdicts are never cached, and say which language they are in.
VERDICT_HEADERS = {"Cache-Control": _ref("headers", "NoStore"), "Content-Language": _ref("headers", "ContentLanguage")}
ACCEPT_LANGUAGE = _ref("parameters", "AcceptLanguage")
CARD_NUMBER = {
    "type": "string",
    "pattern": f"^[{ALPHABET}]{{10}}$",
    "description": "The card number: 10 characters, the last a check character.",
    "examples": ["K7M2Q9XH4V"],
}
FAILED_LABELS = {
    "type": "array",
    "items": {"type": "string", "minLength": 1},
    "description": "The labels of the conditions the holder does not meet, in the answer's language (or the "
    "reason an administrator withdrew this offer from this card). Never the holder's details.",
    "examples": [["CNSS registered"]],
}


def _partner_security(scope: str) -> list[dict[str, list[str]]]:
    """Who may call: partner systems with an API key holding `scope` (OpenAPI 3.1 lets a security
    requirement name roles for any scheme), or partner staff signed in."""
    return [{"partnerApiKey": [scope]}, {"staffSession": []}]


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
            "number": CARD_NUMBER,
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
            "name_ar": {
                "type": "string",
                "minLength": 1,
                "description": "The holder's name in Arabic, from the register (not in the token: the QR "
                "carries the Latin name only). Absent when the register has no card at the token's index.",
                "examples": ["فاطمة الزهراء بنعلي"],
            },
            "status_since": {
                "type": "string",
                "format": "date",
                "pattern": r"^\d{4}-\d{2}-\d{2}$",
                "description": "For a revoked or suspended card: the day (in Morocco) it was revoked or "
                "suspended. Show it instead of the expiry date, which no longer means the card is valid.",
                "examples": ["2026-11-30"],
            },
        },
    },
    "CheckedAt": _instant("When the server checked, UTC, to the second."),
    "OfferStanding": {
        "type": "object",
        "description": "One of the caller's organisation's offers that apply today (approved, in their window), "
        "as it stands for this card, in the answer's language. A card that is not valid is eligible for "
        "nothing.",
        "required": ["id", "name", "benefit", "eligible", "failed", "remaining"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "The offer's id (give it to record a redemption)."},
            "name": {"type": "string", "minLength": 1, "examples": ["Parcels"]},
            "benefit": {"type": "string", "minLength": 1, "examples": ["-30% on national parcels"]},
            "eligible": {"type": "boolean", "description": "Whether the holder may use the offer now."},
            "failed": FAILED_LABELS,
            "remaining": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Redemptions left to this card in the current period of the offer's quota; null "
                "for an offer without a quota, or when the card is not valid.",
                "examples": [19],
            },
        },
        # An eligible holder fails no condition.
        "if": {"properties": {"eligible": {"const": True}}},
        "then": {"properties": {"failed": {"maxItems": 0}}},
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
            "offers": {
                "type": "array",
                "items": _ref("schemas", "OfferStanding"),
                "description": "Only for partner callers (an API key with the `verify` scope, or partner staff "
                "signed in): their own organisation's offers that apply today, oldest first. Anyone else never "
                "gets this member.",
            },
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
        "description": "A refusal. Each answer documents its reason codes and any further members.",
        "required": ["error", "reason", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable reason code, for programs."},
            "reason": {"type": "string", "description": "What went wrong, for a person, in the answer's language."},
            "message": {"type": "string", "description": "The same text as `reason`."},
        },
    },
    "RedemptionRequest": {
        "type": "object",
        "required": ["card", "offer"],
        "properties": {
            "card": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4096,
                "description": "The card: its number as typed (spaces and dashes are ignored) or the text scanned "
                "from its QR code.",
                "examples": ["K7M2Q 9XH4V"],
            },
            "offer": {"type": "integer", "description": "The offer's id, as `POST /api/v1/verify` lists it."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": ["number", "string"]},
                "description": "The values of the offer's redemption fields, by name (for parcels: `weight_kg` in "
                "kg, `destination` an ISO 3166 country code). Every wrong value is reported at once (422 "
                "`bad_fields`).",
                "examples": [{"weight_kg": 2.5, "destination": "FR"}],
            },
            "made_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the redemption was made, with its time zone (ISO 8601); now when absent. "
                "At most 30 days ago, and not more than 5 minutes ahead of the server's clock.",
            },
            "offline": {
                "type": "boolean",
                "default": False,
                "description": "Made without a network and sent later: the card was already served, so a quota "
                "found spent does not refuse it; it is stored with `over_quota` true.",
            },
        },
    },
    "Redemption": {
        "type": "object",
        "description": "A recorded redemption.",
        "required": ["id", "offer", "card", "made_at", "recorded_at", "fields", "offline", "over_quota", "remaining"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1},
            "offer": {"type": "integer", "minimum": 1, "description": "The offer's id."},
            "card": CARD_NUMBER,
            "made_at": _instant("When it was made, UTC."),
            "recorded_at": _instant("When the server recorded it, UTC."),
            "fields": {
                "type": "object",
                "additionalProperties": {"type": ["number", "string"]},
                "description": "The field values as stored (numbers as numbers, country codes in capitals).",
                "examples": [{"weight_kg": 2.5, "destination": "FR"}],
            },
            "offline": {"type": "boolean", "description": "Made offline and sent later."},
            "over_quota": {
                "type": "boolean",
                "description": "An offline redemption that found the quota already spent (stored, never dropped).",
            },
            "remaining": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "Redemptions left to this card in the period; null for an offer without a quota.",
            },
        },
    },
    "EligibilityResult": {
        "type": "object",
        "required": ["card", "offers", "checked_at"],
        "additionalProperties": False,
        "properties": {
            "card": {
                "type": "object",
                "required": ["number", "valid", "state"],
                "additionalProperties": False,
                "properties": {
                    "number": CARD_NUMBER,
                    "valid": {"type": "boolean", "description": "Active and not expired."},
                    "state": {
                        "enum": CARD_STATES,
                        "description": "What the register says; `unknown` for a well-formed number of no card.",
                    },
                },
                "if": {"properties": {"valid": {"const": True}}},
                "then": {"properties": {"state": {"const": "active"}}},
                "else": {"properties": {"state": {"not": {"const": "active"}}}},
            },
            "offers": {
                "type": "array",
                "items": _ref("schemas", "OfferStanding"),
                "description": "The caller's organisation's offers that apply today, oldest first.",
            },
            "checked_at": _ref("schemas", "CheckedAt"),
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
                        "items": {"type": "string", "enum": sorted(SCOPES)},
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
            "The rules are in docs/card-token.md (sections 8 and 9).\n\n"
            "Partner callers (an API key with the `verify` scope, or partner staff signed in) also get `offers`: "
            "their own organisation's offers that apply today and whether the holder may use each. A key that is "
            "not valid is refused (401) rather than ignored.",
            "security": [{}, {"partnerApiKey": [SCOPE_VERIFY]}, {"staffSession": []}],
            "parameters": [ACCEPT_LANGUAGE],
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
                "401": _error_response(
                    "An API key was sent but is malformed, unknown, revoked or expired.",
                    _error_schema("invalid_api_key"),
                ),
                "403": _error_response(
                    "The API key does not have the `verify` scope.", _error_schema("insufficient_scope")
                ),
                "413": _ref("responses", "PayloadTooLarge"),
                "429": _ref("responses", "RateLimited"),
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
                    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH},
                    "description": "A new unique value per redemption, kept for its retries, as in the IETF draft "
                    '"The Idempotency-Key HTTP Header Field" (draft-ietf-httpapi-idempotency-key-header), which '
                    'makes it a quoted string such as a UUID v4: `"8e03978e-40d5-43e8-bc93-6894a57f9324"`. The '
                    "value is compared as sent (quotes included, surrounding spaces ignored), per organisation. "
                    "Missing: 400 `idempotency_key_required`; the same key with another request: 422 "
                    "`idempotency_key_reused`; a retry while the first request is still in progress waits for its "
                    "answer.",
                    "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
                },
                ACCEPT_LANGUAGE,
            ],
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {
                        "schema": _ref("schemas", "RedemptionRequest"),
                        "example": {
                            "card": "K7M2Q9XH4V",
                            "offer": 1,
                            "fields": {"weight_kg": 2.5, "destination": "FR"},
                        },
                    }
                },
            },
            "responses": {
                "201": _json_body(
                    "Redemption",
                    "Recorded (or a retry of a recorded one: the first answer again).",
                    {
                        "Location": _ref("headers", "Location"),
                        "Idempotent-Replayed": _ref("headers", "IdempotentReplayed"),
                    },
                ),
                "400": _error_response(
                    "The request is not of the right shape: the body is not a JSON object (`invalid_json`), `card` is "
                    "not a non-empty string (`missing_card`), `offer` not a whole number (`missing_offer`), `offline` "
                    "not a boolean (`bad_offline`), `made_at` not a date and time with its zone (`bad_made_at`), or "
                    "the `Idempotency-Key` header is missing, blank or too long (`idempotency_key_required`).",
                    _error_schema(
                        "invalid_json",
                        "missing_card",
                        "missing_offer",
                        "bad_offline",
                        "bad_made_at",
                        "idempotency_key_required",
                    ),
                ),
                "401": _ref("responses", "Unauthorized"),
                "403": _ref("responses", "Forbidden"),
                "404": _error_response(
                    "No offer of your organisation with this id applies on that day (another partner's offer, a "
                    "missing one, a draft, a paused one, or one outside its window: the answer does not say which).",
                    _error_schema("unknown_offer"),
                ),
                "409": _error_response(
                    "The card is not valid or not recognised (`card_not_valid`), the holder is not eligible "
                    "(`not_eligible`, with the failed conditions' labels in `failed`), or the card's quota for the "
                    "period is spent (`quota_spent`).",
                    _error_schema("card_not_valid", "quota_spent"),
                    _error_schema("not_eligible", details={"failed": FAILED_LABELS}),
                ),
                "413": _ref("responses", "PayloadTooLarge"),
                "422": _error_response(
                    "Field values that do not fit the offer (`bad_fields`, with a problem per field name in "
                    "`fields`), a `made_at` in the future or more than 30 days ago (`bad_made_at`), or an "
                    "`Idempotency-Key` already used for another request (`idempotency_key_reused`).",
                    _error_schema("bad_made_at", "idempotency_key_reused"),
                    _error_schema(
                        "bad_fields",
                        details={
                            "fields": {
                                "type": "object",
                                "minProperties": 1,
                                "additionalProperties": {"type": "string", "minLength": 1},
                                "description": "What is wrong with each field, by name, in the answer's language.",
                                "examples": [{"weight_kg": "at most 30", "destination": "required"}],
                            }
                        },
                    ),
                ),
                "429": _ref("responses", "RateLimited"),
            },
        }
    },
    "/api/v1/eligibility": {
        "get": {
            "operationId": "cardEligibility",
            "tags": ["Offers"],
            "summary": "A card's eligibility for your offers",
            "description": "For lenders' and other partners' systems: whether a card is valid, and for each of your "
            "offers that apply today whether its holder may use it. Nothing else about the holder.",
            "security": _partner_security(SCOPE_ELIGIBILITY),
            "parameters": [
                {
                    "name": "card",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The card number as printed (spaces and dashes are ignored).",
                    "example": "K7M2Q9XH4V",
                },
                ACCEPT_LANGUAGE,
            ],
            "responses": {
                "200": _json_body("EligibilityResult", "The card's state and your offers.", VERDICT_HEADERS),
                "400": _error_response(
                    "`card` is missing or is not a card number (10 characters with a valid check character).",
                    _error_schema("bad_card_number"),
                ),
                "401": _ref("responses", "Unauthorized"),
                "403": _ref("responses", "Forbidden"),
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
            "partner may read it. Fetch it again when its `ttl` has passed; `If-None-Match` makes that cheap.",
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
                    _error_schema("not_found"),
                ),
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
            "eligibility list token. Anyone may fetch the public bundle (no offers, 7 days). Send "
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
                "503": _error_response(
                    "The register has no signing key yet: there is nothing to verify with.",
                    _error_schema("no_signing_key"),
                ),
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
                    "description": "No key (`login_required`), or a key that is malformed, unknown, revoked or "
                    "expired (`invalid_api_key`: the answer does not say which).",
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
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
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
                "Unauthorized": {
                    "description": "No API key and no session (`login_required`), or a key that is malformed, "
                    "unknown, revoked or expired (`invalid_api_key`: the answer does not say which).",
                    "content": {JSON: {"schema": _error_schema("login_required", "invalid_api_key")}},
                },
                "Forbidden": {
                    "description": "Signed in, but not as partner staff (`forbidden`), or an API key without "
                    "this operation's scope (`insufficient_scope`).",
                    "content": {JSON: {"schema": _error_schema("forbidden", "insufficient_scope")}},
                },
                "PayloadTooLarge": {
                    "description": f"The body is over {settings.MAX_CONTENT_LENGTH:,} bytes.",
                    "content": {JSON: {"schema": _error_schema("payload_too_large")}},
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
                    "content": {JSON: {"schema": _error_schema("rate_limited")}},
                },
            },
        },
    }
