"""The fields a redemption of an offer records (parcel weight, destination country, amount...).

An offer declares its fields as data (docs/offers.md, "Redemption fields"):
    {"name": "weight_kg", "type": "number", "label": {"fr": ..., "ar": ..., "en": ...},
     "min": 0.1, "max": 30, "required": true}
Types: `number` (decimal, min/max), `integer` (min/max), `country` (ISO 3166-1 alpha-2 code),
`text` (max_length), `choice` (options, each {"value", "label"}). A spec is checked when the offer is
saved; values are checked when a redemption is recorded, every field at once, so one answer lists
every mistake.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from webapp.services.errors import N_, DomainError

LANGUAGES = ("fr", "ar", "en")
FIELD_TYPES = ("number", "integer", "country", "text", "choice")
MAX_FIELDS = 12
MAX_TEXT_LENGTH = 500
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
# Babel's territories include groupings and private-use codes that are no country.
_NOT_COUNTRIES = {"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"}
COUNTRY_CODES = frozenset(
    code for code in Locale("en").territories if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


class InvalidFieldSpec(DomainError):
    """An offer's redemption fields are not well formed; `place` says where."""

    code = "invalid_fields"
    http_status = 422
    message = N_("Redemption fields: %(place)s: %(problem)s")

    def __init__(self, place: str, problem: str) -> None:
        super().__init__(place=place, problem=problem)


class BadFields(DomainError):
    """The values sent with a redemption do not fit the offer's fields; `problems` per field."""

    code = "bad_fields"
    http_status = 422
    message = N_("Some redemption fields are missing or wrong: %(fields)s.")

    def __init__(self, problems: dict[str, FieldProblem]) -> None:
        super().__init__(fields=", ".join(sorted(problems)))
        self.problems = problems

    def details(self, language: str, translate: Callable[..., str]) -> dict[str, Any]:
        return {"fields": {name: translate(p.message, **p.params) for name, p in sorted(self.problems.items())}}


class FieldProblem(DomainError):
    """What is wrong with one value (a message marked for translation and its parameters); the
    problems of all fields are gathered into one BadFields."""

    code = "bad_field"
    http_status = 422

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message  # type: ignore[misc]  # each problem has its own sentence
        super().__init__(**params)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: dict[str, str]
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    max_length: int = 200
    options: tuple[tuple[str, dict[str, str]], ...] = ()

    def to_json(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label, "required": self.required}
        if self.type in ("number", "integer"):
            spec |= {"min": self.minimum, "max": self.maximum}
        if self.type == "text":
            spec["max_length"] = self.max_length
        if self.type == "choice":
            spec["options"] = [{"value": value, "label": label} for value, label in self.options]
        return spec


def _label(raw: Any, place: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise InvalidFieldSpec(place, "a label in fr, ar and en is required")
    label = {}
    for language in LANGUAGES:
        text = raw.get(language)
        if not isinstance(text, str) or not text.strip() or len(text) > 120:
            raise InvalidFieldSpec(place, f"the {language} label is missing, blank or longer than 120 characters")
        label[language] = text.strip()
    return label


def _bound(raw: Mapping[str, Any], key: str, place: str, integer: bool) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidFieldSpec(place, f"{key} must be a number")
    if integer and not float(value).is_integer():
        raise InvalidFieldSpec(place, f"{key} must be a whole number")
    return value


def parse_field_specs(raw: Any) -> list[FieldSpec]:
    """The redemption fields of an offer, or InvalidFieldSpec naming the place."""
    if not isinstance(raw, list):
        raise InvalidFieldSpec("fields", "a list of fields is expected")
    if len(raw) > MAX_FIELDS:
        raise InvalidFieldSpec("fields", f"at most {MAX_FIELDS} fields")
    specs: list[FieldSpec] = []
    for position, item in enumerate(raw, start=1):
        place = f"field {position}"
        if not isinstance(item, Mapping):
            raise InvalidFieldSpec(place, "an object is expected")
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidFieldSpec(place, "name: lower-case letters, digits and _, starting with a letter")
        place = f"field {position} ({name})"
        if any(spec.name == name for spec in specs):
            raise InvalidFieldSpec(place, "the name is used twice")
        kind = item.get("type")
        if kind not in FIELD_TYPES:
            raise InvalidFieldSpec(place, f"type must be one of {', '.join(FIELD_TYPES)}")
        required = item.get("required", True)
        if not isinstance(required, bool):
            raise InvalidFieldSpec(place, "required must be true or false")
        spec = FieldSpec(name=name, type=kind, label=_label(item.get("label"), place), required=required)
        if kind in ("number", "integer"):
            minimum = _bound(item, "min", place, kind == "integer")
            maximum = _bound(item, "max", place, kind == "integer")
            if minimum is not None and maximum is not None and minimum > maximum:
                raise InvalidFieldSpec(place, "min is greater than max")
            spec = replace(spec, minimum=minimum, maximum=maximum)
        elif kind == "text":
            max_length = item.get("max_length", 200)
            if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= 500:
                raise InvalidFieldSpec(place, f"max_length must be a whole number from 1 to {MAX_TEXT_LENGTH}")
            spec = replace(spec, max_length=max_length)
        elif kind == "choice":
            spec = replace(spec, options=_options(item.get("options"), place))
        specs.append(spec)
    return specs


def _options(raw: Any, place: str) -> tuple[tuple[str, dict[str, str]], ...]:
    if not isinstance(raw, list) or not raw:
        raise InvalidFieldSpec(place, "a choice needs a list of options")
    options: list[tuple[str, dict[str, str]]] = []
    for position, option in enumerate(raw, start=1):
        if not isinstance(option, Mapping) or not isinstance(option.get("value"), str) or not option["value"]:
            raise InvalidFieldSpec(f"{place}, option {position}", "each option needs a value")
        if any(value == option["value"] for value, _label_ in options):
            raise InvalidFieldSpec(f"{place}, option {position}", "the value is used twice")
        options.append((option["value"], _label(option.get("label"), f"{place}, option {position}")))
    return tuple(options)


def clean_field_values(specs: list[FieldSpec], raw: Any) -> dict[str, Any]:
    """The values of a redemption, typed and checked against the offer's fields, or BadFields."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise BadFields({"fields": FieldProblem(N_("an object is expected"))})
    problems: dict[str, FieldProblem] = {}
    cleaned: dict[str, Any] = {}
    known = {spec.name for spec in specs}
    for name in raw:
        if name not in known:
            problems[str(name)[:40]] = FieldProblem(N_("unknown field"))
    for spec in specs:
        value = raw.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):  # blank is no answer
            if spec.required:
                problems[spec.name] = FieldProblem(N_("required"))
            continue
        try:
            cleaned[spec.name] = _clean_value(spec, value)
        except FieldProblem as problem:
            problems[spec.name] = problem
    if problems:
        raise BadFields(problems)
    return cleaned


def _clean_value(spec: FieldSpec, value: Any) -> Any:
    if spec.type in ("number", "integer"):
        number = _number(value)
        if spec.type == "integer":
            if number != number.to_integral_value():
                raise FieldProblem(N_("a whole number is expected"))
            result: int | float = int(number)
        else:
            result = float(number)
        if spec.minimum is not None and result < spec.minimum:
            raise FieldProblem(N_("at least %(minimum)s"), minimum=spec.minimum)
        if spec.maximum is not None and result > spec.maximum:
            raise FieldProblem(N_("at most %(maximum)s"), maximum=spec.maximum)
        return result
    if not isinstance(value, str):
        raise FieldProblem(N_("text is expected"))
    text = value.strip()
    if spec.type == "country":
        if text.upper() not in COUNTRY_CODES:
            raise FieldProblem(N_("a country code is expected (MA, FR, ES...)"))
        return text.upper()
    if spec.type == "choice":
        if text not in {option for option, _label_ in spec.options}:
            raise FieldProblem(N_("not one of the options"))
        return text
    if len(text) > spec.max_length:
        raise FieldProblem(N_("at most %(count)s characters"), count=spec.max_length)
    return text


def _number(value: Any) -> Decimal:
    """A JSON number or a decimal string ("2.5", "2,5" as typed on a French keyboard)."""
    if isinstance(value, bool):
        raise FieldProblem(N_("a number is expected"))
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldProblem(N_("a number is expected"))
        return Decimal(str(value))
    if isinstance(value, str) and len(value) <= 32:
        try:
            number = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise FieldProblem(N_("a number is expected")) from None
        if number.is_finite():
            return number
    raise FieldProblem(N_("a number is expected"))


def readable_values(raw_specs: Any, values: Mapping[str, Any], language: str) -> list[tuple[str, str]]:
    """A redemption's values as a person reads them, in the offer's field order: (the field's label in
    `language`, the value in the locale's number format with the field's unit if it declares one, a
    country's or an option's name). A value whose field is gone keeps its name (nothing is hidden)."""
    specs: dict[str, Mapping[str, Any]] = {}
    for item in raw_specs if isinstance(raw_specs, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            specs[item["name"]] = item
    ordered = [name for name in specs if name in values] + sorted(name for name in values if name not in specs)
    return [
        (
            _label_in(specs.get(name, {}).get("label"), language) or name,
            _value_text(specs.get(name, {}), values[name], language),
        )
        for name in ordered
    ]


def _label_in(label: Any, language: str) -> str | None:
    if isinstance(label, Mapping):
        text = label.get(language) or label.get("fr")
        return text if isinstance(text, str) else None
    return label if isinstance(label, str) else None


def _value_text(spec: Mapping[str, Any], value: Any, language: str) -> str:
    kind = spec.get("type")
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = format_decimal(value, locale=language)
        unit = _label_in(spec.get("unit"), language)
        return f"{text}\u00a0{unit}" if unit else text
    if kind == "country" and isinstance(value, str):
        return Locale.parse(language).territories.get(value, value)
    if kind == "choice":
        for option in spec.get("options") or []:
            if isinstance(option, Mapping) and option.get("value") == value:
                return _label_in(option.get("label"), language) or str(value)
    return str(value)
