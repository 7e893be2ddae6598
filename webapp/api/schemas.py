"""The partner API's requests and answers as pydantic models: the one description from which the
views parse what they are sent (`parse`) and webapp/api/openapi.py writes the OpenAPI document
(`json_schemas`). A constraint written here is checked by the server and published to partners
at once; neither can drift from the other.

Why plain pydantic and not a framework that wraps every view (spectree, flask-openapi3): the verify
view is the hot path (docs/performance.md); validating a small model costs about 1.5 us, while a
wrapper adds its own request parsing and response handling to every call. The views call `parse`
themselves, and the error answers keep their reason codes (each request model names the code of
each member: the first wrong member in declaration order is the one reported, as before).

Answers are described by the response models below; the views build the same members (tests/api/
test_openapi.py sends a real request for each documented status and validates the answer against
the document, and tests/api/test_schemathesis.py does so for generated requests).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from flask_babel import lazy_gettext as _l
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from webapp.services.cards.numbers import ALPHABET
from webapp.services.partners.api_keys import SCOPES
from webapp.services.verification import Verdict

COMPONENTS_REF = "#/components/schemas/{model}"
# Verdicts that come with the signed card's details (docs/card-token.md, section 9).
VERDICTS_WITH_CARD = [Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED, Verdict.SUSPENDED]

# A card number as typed: 10 characters of the card alphabet or their look-alikes (O, I, L), any
# case, spaces and dashes anywhere. The check character is then verified (a wrong one: 400 too).
TYPED_CARD_NUMBER = r"^[ -]*(?:[0-9A-TV-Za-tv-z][ -]*){10}$"
# Text with something in it besides spaces and control characters.
NOT_BLANK = r"[^\x00-\x20]"
# RFC 3339 date-time, as Python reads it (fromisoformat): seconds required, at most 6 decimals,
# a zone required (Z or an offset). [0-9], not \d: \d matches other scripts' digits in some engines.
RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_RFC3339 = re.compile(RFC3339)
UTC_SECOND = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
LOCAL_SECOND = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"
DAY = r"^\d{4}-\d{2}-\d{2}$"
MAX_CARD_TEXT = 4096
# Where a partner checks a card ("Agence Fès Batha"), shown to the card's holder: printable text.
MAX_PLACE_LENGTH = 120
PLACE = r"^[^\x00-\x1f\x7f]*$"


class Refusal(Exception):
    """A request the API refuses before doing anything: 400 with this reason code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


REQUEST_MODEL_ATTRIBUTE = "api_request_model"
View = TypeVar("View", bound=Callable[..., Any])


def reads_json(model: type[Request]) -> Callable[[View], View]:
    """Declares the model a view parses its JSON body with (the document's request body; the
    tests find the JSON endpoints by it). Marks the view only: nothing runs per request."""

    def mark(view: View) -> View:
        setattr(view, REQUEST_MODEL_ATTRIBUTE, model)
        return view

    return mark


def request_model_of(view: Callable[..., Any]) -> type[Request] | None:
    return getattr(view, REQUEST_MODEL_ATTRIBUTE, None)


class Request(BaseModel):
    """A request's members. `REFUSALS` gives, per member, the reason code and message of a wrong or
    missing value; "" is the code of a body that is not a JSON object at all."""

    model_config = ConfigDict(frozen=True)
    REFUSALS: ClassVar[dict[str, tuple[str, Any]]]


RequestT = TypeVar("RequestT", bound=Request)


def parse(model: type[RequestT], data: Any) -> RequestT:
    """The request, validated; Refusal naming the first wrong member (in declaration order) otherwise."""
    try:
        return model.model_validate(data)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False, include_context=False, include_input=False)[0]
        member = str(first["loc"][0]) if first["loc"] else ""
        code, message = model.REFUSALS.get(member, model.REFUSALS[""])
        raise Refusal(code, str(message)) from None


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _instant(value: Any) -> datetime:
    """An RFC 3339 date-time with its zone, as a UTC datetime."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time")
    instant = datetime.fromisoformat(value.upper())  # ValueError for a day or an hour that does not exist
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        # Year 1 east of Greenwich or year 9999 west of it: outside datetime's range in UTC, and as
        # far outside the accepted window as a time can be (422 bad_made_at, like any other).
        return datetime.min.replace(tzinfo=UTC) if instant.year == 1 else datetime.max.replace(tzinfo=UTC)


def _whole_number(value: Any) -> int:
    """A JSON integer. JSON Schema counts 2.0 as one (a number with no fractional part), so the server
    does too; true, "2" and 2.5 are not."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not a whole number")
    return value


# --- Requests ---


class VerifyRequest(Request):
    """What a verifier scanned."""

    REFUSALS: ClassVar[dict[str, tuple[str, Any]]] = {
        # The answer's text is the `malformed` verdict's message.
        "": ("invalid_json", ""),
        "qr": ("missing_qr", ""),
        "place": ("bad_place", ""),
    }

    qr: StrictStr = Field(
        description="The scanned text, as read from the QR code: the URL with the token in its fragment, the bare "
        "digits, or the bare token (docs/card-token.md, section 3).",
    )
    place: Annotated[StrictStr, Field(max_length=MAX_PLACE_LENGTH, pattern=PLACE)] | None = Field(
        default=None,
        description="Partner callers: where the card is checked (a branch, a fair, a town), at most 120 characters "
        "of text. The card's holder sees it with your organisation's name in their list of checks; blank or absent "
        "when you do not say. Ignored for anyone else.",
        examples=["Agence Fès Batha"],
        json_schema_extra=_no_default,
    )


class RedemptionRequestBody(Request):
    """A redemption to record. Members are checked in this order; the first wrong one is reported."""

    REFUSALS: ClassVar[dict[str, tuple[str, Any]]] = {
        "": ("invalid_json", _l("The body must be a JSON object.")),
        "card": ("missing_card", _l("Give the card: its number or the scanned text of its QR code.")),
        "offer": ("missing_offer", _l("Give the offer's id (a whole number).")),
        "offline": ("bad_offline", _l("offline must be true or false.")),
        "made_at": ("bad_made_at", _l("made_at must be a date and time with its zone (ISO 8601).")),
    }

    card: StrictStr = Field(
        min_length=1,
        max_length=MAX_CARD_TEXT,
        pattern=NOT_BLANK,
        description="The card: its number as typed (spaces and dashes are ignored) or the text scanned from its QR "
        "code. Not blank.",
        examples=["K7M2Q 9XH4V"],
    )
    offer: Annotated[int, BeforeValidator(_whole_number)] = Field(
        description="The offer's id, as `POST /api/v1/verify` lists it."
    )
    offline: StrictBool = Field(
        default=False,
        description="Made without a network and sent later: the card was already served, so a quota found spent "
        "does not refuse it; it is stored with `over_quota` true.",
    )
    made_at: Annotated[
        datetime | None,
        BeforeValidator(lambda value: None if value is None else _instant(value)),
        WithJsonSchema({"type": ["string", "null"], "format": "date-time", "pattern": RFC3339}),
    ] = Field(
        default=None,
        description="When the redemption was made, an RFC 3339 date and time with its zone; now when absent or "
        "null. At most 30 days ago, and not more than 5 minutes ahead of the server's clock (else 422).",
        json_schema_extra=_no_default,
    )
    # Any JSON value reaches the offer's own field rules, which refuse a wrong one with 422 `bad_fields`
    # (all the wrong fields at once): documented as the object it must be.
    fields: Annotated[
        Any,
        WithJsonSchema({"type": "object", "additionalProperties": {"type": ["number", "string"]}}),
    ] = Field(
        default=None,
        description="The values of the offer's redemption fields, by name (for parcels: `weight_kg` in kg, "
        "`destination` an ISO 3166 country code). Every wrong value is reported at once (422 `bad_fields`).",
        examples=[{"weight_kg": 2.5, "destination": "FR"}],
        json_schema_extra=_no_default,
    )


class EligibilityQuery(Request):
    """The query of `GET /api/v1/eligibility`."""

    REFUSALS: ClassVar[dict[str, tuple[str, Any]]] = {
        "": ("bad_card_number", _l("Give a card number: ?card= followed by the 10 characters on the card.")),
        "place": ("bad_place", _l("The place is text of at most 120 characters.")),
    }

    card: StrictStr = Field(
        pattern=TYPED_CARD_NUMBER,
        description="The card number as printed: 10 characters, the last a check character (spaces and dashes are "
        "ignored, and so is case; O, I and L read as 0, 1 and 1). A wrong check character is refused too (400).",
        examples=["K7M2Q9XH4V"],
    )
    place: Annotated[StrictStr, Field(max_length=MAX_PLACE_LENGTH, pattern=PLACE)] | None = Field(
        default=None,
        description="Where the card is checked (a branch, a town), at most 120 characters of text: the card's holder "
        "sees it with your organisation's name in their list of checks.",
        examples=["Agence Fès Batha"],
        json_schema_extra=_no_default,
    )


# --- Answers ---


class Answer(BaseModel):
    """An answer's members: exactly these (additionalProperties false), so a drifting answer fails
    the document's own validation in the tests."""

    model_config = ConfigDict(extra="forbid")


CardNumber = Annotated[
    str,
    Field(
        pattern=f"^[{ALPHABET}]{{10}}$",
        description="The card number: 10 characters, the last a check character.",
        examples=["K7M2Q9XH4V"],
    ),
]
CheckedAt = Annotated[
    str,
    Field(
        pattern=UTC_SECOND,
        description="When the server checked, UTC, to the second.",
        examples=["2026-11-22T12:00:00Z"],
        json_schema_extra={"format": "date-time"},
    ),
]
FailedLabels = Annotated[
    list[Annotated[str, Field(min_length=1)]],
    Field(
        description="The labels of the conditions the holder does not meet, in the answer's language (or the reason "
        "an administrator withdrew this offer from this card). Never the holder's details.",
        examples=[["CNSS registered"]],
    ),
]
Remaining = Annotated[int | None, Field(ge=0)]


def _optional_member(schema: dict[str, Any]) -> None:
    """A member that is absent rather than null (the views leave it out): documented as its value's
    schema, not required."""
    schema.pop("default", None)
    branches = [branch for branch in schema.pop("anyOf", []) if branch != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches


class Card(Answer):
    """What the signed card says, with the trade and region names in the answer's language."""

    number: CardNumber
    name: str = Field(min_length=1, max_length=40, description="The Latin name.", examples=["Fatima Zahra Benali"])
    trade: str = Field(min_length=1, description="The trade code (trade table).", examples=["TAP"])
    trade_name: str = Field(examples=["Carpets"])
    region: str = Field(pattern="^(0[1-9]|1[0-2])$", description="The region code.", examples=["07"])
    region_name: str = Field(examples=["Marrakesh-Safi"])
    expires: str = Field(
        pattern=DAY,
        description="The expiry date in Morocco (Africa/Casablanca), as printed on the card.",
        examples=["2031-11-22"],
        json_schema_extra={"format": "date"},
    )
    name_ar: Annotated[str, Field(min_length=1)] | None = Field(
        default=None,
        description="The holder's name in Arabic, from the register (not in the token: the QR carries the Latin "
        "name only). Absent when the register has no card at the token's index.",
        examples=["فاطمة الزهراء بنعلي"],
        json_schema_extra=_optional_member,
    )
    status_since: Annotated[str, Field(pattern=DAY, json_schema_extra={"format": "date"})] | None = Field(
        default=None,
        description="For a revoked or suspended card: the day (in Morocco) it was revoked or suspended. Show it "
        "instead of the expiry date, which no longer means the card is valid.",
        examples=["2026-11-30"],
        json_schema_extra=_optional_member,
    )


class OfferStanding(Answer):
    """One of the caller's organisation's offers that apply today (approved, in their window), as it
    stands for this card, in the answer's language. A card that is not valid is eligible for nothing."""

    model_config = ConfigDict(
        # An eligible holder fails no condition.
        json_schema_extra={
            "if": {"properties": {"eligible": {"const": True}}},
            "then": {"properties": {"failed": {"maxItems": 0}}},
        }
    )

    id: int = Field(ge=1, description="The offer's id (give it to record a redemption).")
    name: str = Field(min_length=1, examples=["Parcels"])
    benefit: str = Field(min_length=1, examples=["-30% on national parcels"])
    eligible: bool = Field(description="Whether the holder may use the offer now.")
    failed: FailedLabels
    remaining: Remaining = Field(
        description="Redemptions left to this card in the current period of the offer's quota; null for an offer "
        "without a quota, or when the card is not valid.",
        examples=[19],
    )


class VerifyResult(Answer):
    """A verdict on the scanned text, whatever it is."""

    model_config = ConfigDict(
        # The card's details come with the verdicts about a genuine card, and only with them.
        json_schema_extra={
            "if": {"properties": {"verdict": {"enum": [verdict.value for verdict in VERDICTS_WITH_CARD]}}},
            "then": {"required": ["card"]},
            "else": {"not": {"required": ["card"]}},
        }
    )

    verdict: Verdict
    reason: str = Field(
        description="The verdict's message for a person, in the answer's language.",
        examples=["Valid card: this artisan is in the National Register of Handicraft."],
    )
    card: Card | None = Field(default=None, json_schema_extra=_optional_member)
    presentation: Literal["live", "printed"] | None = Field(
        default=None,
        description="With `card` (and only with it): how the card was shown, `live`, a live code signed by the "
        "holder's phone (docs/card-token.md section 13), or `printed`, a plain token (the printed card).",
        json_schema_extra=_optional_member,
    )
    replay: Literal["window", "device_replaced"] | None = Field(
        default=None,
        description="Only with the verdict `replayed`: `window`, a live code outside its 30-second window "
        "(or a holder-bound token without its live signature); `device_replaced`, a code of a phone the card "
        "has left.",
        json_schema_extra=_optional_member,
    )
    checked_at: CheckedAt
    offers: list[OfferStanding] | None = Field(
        default=None,
        description="Only for partner callers (an API key with the `verify` scope, or partner staff signed in): "
        "their own organisation's offers that apply today, oldest first. Anyone else never gets this member.",
        json_schema_extra=_optional_member,
    )


class MalformedRequest(Answer):
    """The body is not a JSON object with a string `qr`: the verdict is `malformed`."""

    verdict: Literal[Verdict.MALFORMED]
    reason: str
    error: Literal["invalid_json", "missing_qr", "bad_place"] = Field(
        description="`invalid_json`: the body is not a JSON object; `missing_qr`: it has no string `qr`; "
        "`bad_place`: `place` is not a string of at most 120 characters without control characters."
    )
    checked_at: CheckedAt


class Redemption(Answer):
    """A recorded redemption."""

    id: int = Field(ge=1)
    offer: int = Field(ge=1, description="The offer's id.")
    card: CardNumber
    made_at: str = Field(
        pattern=UTC_SECOND, description="When it was made, UTC.", json_schema_extra={"format": "date-time"}
    )
    made_at_local: str = Field(
        pattern=LOCAL_SECOND,
        description="`made_at` on Morocco's wall clock, with its offset: the time the partner's screens and "
        "exports show (the app's pinned time-zone data, which may be newer than the client's).",
        json_schema_extra={"format": "date-time"},
    )
    recorded_at: str = Field(
        pattern=UTC_SECOND, description="When the server recorded it, UTC.", json_schema_extra={"format": "date-time"}
    )
    fields: dict[str, float | str] = Field(
        description="The field values as stored (numbers as numbers, country codes in capitals).",
        examples=[{"weight_kg": 2.5, "destination": "FR"}],
        json_schema_extra={"additionalProperties": {"type": ["number", "string"]}},
    )
    offline: bool = Field(description="Made offline and sent later.")
    over_quota: bool = Field(
        description="An offline redemption that found the quota already spent (stored, never dropped)."
    )
    remaining: Remaining = Field(
        description="Redemptions left to this card in the period; null for an offer without a quota."
    )


class CardState(Answer):
    """What the register says of the card."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"valid": {"const": True}}},
            "then": {"properties": {"state": {"const": "active"}}},
            "else": {"properties": {"state": {"not": {"const": "active"}}}},
        }
    )

    number: CardNumber
    valid: bool = Field(description="Active and not expired.")
    state: Literal["active", "expired", "suspended", "revoked", "unknown"] = Field(
        description="What the register says; `unknown` for a well-formed number of no card."
    )


class EligibilityResult(Answer):
    """A card's state and the caller's offers."""

    card: CardState
    offers: list[OfferStanding] = Field(
        description="The caller's organisation's offers that apply today, oldest first."
    )
    holder: Card | None = Field(
        default=None,
        description="Only for partner staff signed in (the verifier app), for a card the register holds: what "
        "the card's face shows (the name in both scripts, trade, region, dates), from the register. A number "
        "proves nothing about the person presenting it: staff compare this with that person and their ID "
        "before recording a redemption. An API key never gets this member (a lender sees eligibility only).",
        json_schema_extra=_optional_member,
    )
    checked_at: CheckedAt


class WhoamiOrganisation(Answer):
    """The organisation the key belongs to."""

    id: int
    slug: str
    name: str
    kind: str = Field(
        description="A partner kind (transporter, market_organiser, lender, training_body, other; new agreements may "
        "add kinds)."
    )


class WhoamiKey(Answer):
    """The key that was sent."""

    prefix: str = Field(pattern="^[a-z2-7]{10}$", description="The key's public prefix, to tell your keys apart.")
    scopes: list[Literal[tuple(sorted(SCOPES))]] = Field(description="What the key may do.")  # type: ignore[valid-type]


class Whoami(Answer):
    """The organisation and key the API sees."""

    organisation: WhoamiOrganisation
    api_key: WhoamiKey


class Error(Answer):
    """A refusal. Each answer documents its reason codes and any further members."""

    error: str = Field(description="A stable reason code, for programs.")
    reason: str = Field(description="What went wrong, for a person, in the answer's language.")
    message: str = Field(description="The same text as `reason`.")


class AnyError(BaseModel):
    """A refusal that may come from any layer (a store that cannot be reached, the server itself):
    a reason code for programs, and usually `reason` and `message` for people."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="A stable reason code, for programs (e.g. `database_unavailable`).")
    reason: str | None = Field(default=None, json_schema_extra=_optional_member)
    message: str | None = Field(default=None, json_schema_extra=_optional_member)


def error_body(name: str, *codes: str, **details: Any) -> type[Error]:
    """An error body whose `error` is one of these codes, with these further members (required)."""
    return create_model(
        name,
        __base__=Error,
        __doc__=f"A refusal: {', '.join(f'`{code}`' for code in codes)}.",
        error=(Literal[codes], Field(description="A stable reason code, for programs.")),  # type: ignore[valid-type]
        **details,
    )


BadFieldValues = Annotated[
    dict[str, Annotated[str, Field(min_length=1)]],
    Field(
        min_length=1,
        description="What is wrong with each field, by name, in the answer's language.",
        examples=[{"weight_kg": "at most 30", "destination": "required"}],
    ),
]

# The error bodies, by name in the document. A new reason code is added here and answers with it.
ERRORS: dict[str, type[Error]] = {
    model.__name__: model
    for model in (
        Error,  # the generic shape, for answers that may carry any code
        error_body("NotSignedIn", "login_required", "invalid_api_key"),
        error_body("InvalidApiKey", "invalid_api_key"),
        error_body("NotAllowed", "forbidden", "insufficient_scope"),
        error_body("Forbidden", "forbidden"),
        error_body("InsufficientScope", "insufficient_scope"),
        error_body("PayloadTooLarge", "payload_too_large"),
        error_body("RateLimited", "rate_limited"),
        error_body("NotFound", "not_found"),
        error_body("NoSigningKey", "no_signing_key"),
        error_body("EligibilityListPending", "eligibility_list_pending"),
        error_body("BadEligibilityQuery", "bad_card_number", "bad_place"),
        error_body(
            "BadRedemptionRequest",
            *[code for code, _message in RedemptionRequestBody.REFUSALS.values()],
            "idempotency_key_required",
        ),
        error_body("UnknownOffer", "unknown_offer"),
        error_body("CardNotUsable", "card_not_valid", "quota_spent"),
        error_body("NotEligible", "not_eligible", failed=(FailedLabels, ...)),
        error_body("RedemptionUnprocessable", "bad_made_at", "idempotency_key_reused"),
        error_body("BadFields", "bad_fields", fields=(BadFieldValues, ...)),
    )
}


class _Documented(GenerateJsonSchema):
    """pydantic's JSON Schema without the titles it makes up from names (noise for a reader)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def generate(self, schema: Any, mode: JsonSchemaMode = "validation") -> dict[str, Any]:
        generated = super().generate(schema, mode)
        generated.pop("title", None)
        return generated


REQUESTS: tuple[type[Request], ...] = (VerifyRequest, RedemptionRequestBody, EligibilityQuery)
ANSWERS: tuple[type[BaseModel], ...] = (
    VerifyResult,
    MalformedRequest,
    Redemption,
    EligibilityResult,
    Whoami,
    AnyError,
)


@functools.cache
def json_schemas() -> dict[str, Any]:
    """Every model's JSON Schema (2020-12, OpenAPI 3.1's dialect), by name, refs to #/components/schemas
    (computed once: the document is served from a copy)."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(model, "validation") for model in REQUESTS]
    models += [(model, "serialization") for model in (*ANSWERS, *ERRORS.values())]
    _keys, top = models_json_schema(models, ref_template=COMPONENTS_REF, schema_generator=_Documented)
    schemas: dict[str, Any] = top["$defs"]
    for schema in schemas.values():
        schema.pop("title", None)
    return schemas


def request_members(model: type[Request]) -> dict[str, Any]:
    """A request model's members as JSON Schemas (for the query parameters of a GET)."""
    return json_schemas()[model.__name__]["properties"]
