"""The fields a redemption records: specs checked when an offer is saved, values when a redemption is."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from webapp.services.partners.offer_fields import (
    MAX_FIELDS,
    BadFields,
    InvalidFieldSpec,
    clean_field_values,
    parse_field_specs,
)

LABEL = {"fr": "Poids", "ar": "الوزن", "en": "Weight"}


def spec(name: str = "weight_kg", type_: str = "number", **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": LABEL} | extra


SPECS = parse_field_specs(
    [
        spec("weight_kg", "number", min=0.1, max=30),
        spec("parcels", "integer", min=1, max=10),
        spec("destination", "country"),
        spec("note", "text", max_length=10, required=False),
        spec(
            "service",
            "choice",
            options=[{"value": "express", "label": LABEL}, {"value": "standard", "label": LABEL}],
        ),
    ]
)
GOOD = {"weight_kg": 2.5, "parcels": 1, "destination": "FR", "service": "express"}


def test_specs_are_read_and_written_back_in_one_form():
    """Each type keeps what it needs (bounds, length, options); required defaults to true."""
    assert [field.to_json() for field in SPECS] == [
        {"name": "weight_kg", "type": "number", "label": LABEL, "required": True, "min": 0.1, "max": 30},
        {"name": "parcels", "type": "integer", "label": LABEL, "required": True, "min": 1, "max": 10},
        {"name": "destination", "type": "country", "label": LABEL, "required": True},
        {"name": "note", "type": "text", "label": LABEL, "required": False, "max_length": 10},
        {
            "name": "service",
            "type": "choice",
            "label": LABEL,
            "required": True,
            "options": [{"value": "express", "label": LABEL}, {"value": "standard", "label": LABEL}],
        },
    ]
    assert parse_field_specs([field.to_json() for field in SPECS]) == SPECS
    assert parse_field_specs([]) == []


@pytest.mark.parametrize(
    ("raw", "place", "problem"),
    [
        ({"name": "x"}, "fields", "a list of fields is expected"),
        ([spec(f"f{n}") for n in range(MAX_FIELDS + 1)], "fields", f"at most {MAX_FIELDS} fields"),
        (["weight"], "field 1", "an object is expected"),
        ([spec("Weight")], "field 1", "name: lower-case"),
        ([spec("2kg")], "field 1", "name: lower-case"),
        ([spec("a" * 33)], "field 1", "name: lower-case"),
        ([spec(None)], "field 1", "name: lower-case"),
        ([spec("w"), spec("w")], "field 2 (w)", "the name is used twice"),
        ([spec(type_="date")], "field 1 (weight_kg)", "type must be one of"),
        ([spec(required="yes")], "field 1 (weight_kg)", "required must be true or false"),
        ([spec(label=None)], "field 1 (weight_kg)", "a label in fr, ar and en is required"),
        ([spec(label={"fr": "Poids", "ar": "الوزن"})], "field 1 (weight_kg)", "the en label is missing"),
        ([spec(label={"fr": " ", "ar": "ا", "en": "W"})], "field 1 (weight_kg)", "the fr label is missing"),
        ([spec(label={"fr": "P" * 121, "ar": "ا", "en": "W"})], "field 1 (weight_kg)", "longer than 120"),
        ([spec(min="1")], "field 1 (weight_kg)", "min must be a number"),
        ([spec(max=True)], "field 1 (weight_kg)", "max must be a number"),
        ([spec(max=float("inf"))], "field 1 (weight_kg)", "max must be a number"),
        ([spec(min=5, max=1)], "field 1 (weight_kg)", "min is greater than max"),
        ([spec(type_="integer", min=0.5)], "field 1 (weight_kg)", "min must be a whole number"),
        ([spec(type_="text", max_length=0)], "field 1 (weight_kg)", "max_length must be a whole number"),
        ([spec(type_="text", max_length=501)], "field 1 (weight_kg)", "max_length must be a whole number"),
        ([spec(type_="text", max_length="20")], "field 1 (weight_kg)", "max_length must be a whole number"),
        ([spec(type_="choice")], "field 1 (weight_kg)", "a choice needs a list of options"),
        ([spec(type_="choice", options=[])], "field 1 (weight_kg)", "a choice needs a list of options"),
        ([spec(type_="choice", options=[{"label": LABEL}])], "field 1 (weight_kg), option 1", "needs a value"),
        (
            [spec(type_="choice", options=[{"value": "a", "label": LABEL}, {"value": "a", "label": LABEL}])],
            "field 1 (weight_kg), option 2",
            "the value is used twice",
        ),
        ([spec(type_="choice", options=[{"value": "a"}])], "field 1 (weight_kg), option 1", "a label in fr"),
    ],
)
def test_a_bad_spec_is_refused_naming_its_place(raw, place, problem):
    """A malformed field spec is InvalidFieldSpec with the field (and option) named."""
    with pytest.raises(InvalidFieldSpec) as refused:
        parse_field_specs(raw)
    assert refused.value.params["place"] == place
    assert problem in refused.value.params["problem"]


@pytest.mark.parametrize(
    ("name", "raw", "clean"),
    [
        ("weight_kg", 2.5, 2.5),
        ("weight_kg", 2, 2.0),
        ("weight_kg", "2,5", 2.5),  # typed on a French keyboard
        ("weight_kg", " 2.5 ", 2.5),
        ("weight_kg", "0.1", 0.1),  # the lower bound is included
        ("weight_kg", "30", 30.0),  # and the upper
        ("parcels", 3, 3),
        ("parcels", "3", 3),
        ("parcels", 3.0, 3),
        ("parcels", "3,0", 3),
        ("destination", "fr", "FR"),
        ("destination", " ma ", "MA"),
        ("service", "standard", "standard"),
        ("note", "  fragile  ", "fragile"),
    ],
)
def test_good_values_are_typed(name, raw, clean):
    """Numbers accept comma decimals and strings, integers whole values, country codes any case."""
    assert clean_field_values(SPECS, GOOD | {name: raw})[name] == clean


def test_an_optional_field_may_be_left_out():
    """Leaving out (or sending null or "" for) an optional field is fine; it is not stored."""
    assert clean_field_values(SPECS, GOOD) == GOOD
    assert clean_field_values(SPECS, GOOD | {"note": None}) == GOOD
    assert clean_field_values(SPECS, GOOD | {"note": ""}) == GOOD
    assert clean_field_values(SPECS, GOOD | {"note": "  "}) == GOOD
    assert clean_field_values([], None) == {}


@pytest.mark.parametrize(
    ("name", "raw", "problem"),
    [
        ("weight_kg", "heavy", "a number is expected"),
        ("weight_kg", "2.5.1", "a number is expected"),
        ("weight_kg", "1,000.5", "a number is expected"),
        ("weight_kg", "NaN", "a number is expected"),
        ("weight_kg", "Infinity", "a number is expected"),
        ("weight_kg", float("nan"), "a number is expected"),
        ("weight_kg", True, "a number is expected"),
        ("weight_kg", [2], "a number is expected"),
        ("weight_kg", "1" * 33, "a number is expected"),
        ("weight_kg", 0.09, "at least %(minimum)s"),
        ("weight_kg", "30,01", "at most %(maximum)s"),
        ("parcels", 2.5, "a whole number is expected"),
        ("parcels", 0, "at least %(minimum)s"),
        ("parcels", 11, "at most %(maximum)s"),
        ("destination", "France", "a country code is expected (MA, FR, ES...)"),
        ("destination", "EU", "a country code is expected (MA, FR, ES...)"),
        ("destination", "ZZ", "a country code is expected (MA, FR, ES...)"),
        ("destination", 212, "text is expected"),
        ("service", "Express", "not one of the options"),
        ("note", "x" * 11, "at most %(count)s characters"),
        ("weight_kg", None, "required"),
        ("weight_kg", "", "required"),
        ("service", "   ", "required"),
    ],
)
def test_a_bad_value_is_named_with_its_problem(name, raw, problem):
    """Each wrong value is refused as BadFields, the problem keyed by the field's name."""
    with pytest.raises(BadFields) as refused:
        clean_field_values(SPECS, GOOD | {name: raw})
    assert {field: p.message for field, p in refused.value.problems.items()} == {name: problem}
    assert refused.value.code == "bad_fields" and refused.value.http_status == 422


def test_bounds_are_given_to_the_message():
    """The bound a value broke is in the problem's parameters, for the translated sentence."""
    with pytest.raises(BadFields) as refused:
        clean_field_values(SPECS, GOOD | {"weight_kg": 31, "note": "x" * 11})
    assert refused.value.problems["weight_kg"].params == {"maximum": 30}
    assert refused.value.problems["note"].params == {"count": 10}


def test_every_problem_is_reported_at_once():
    """Missing, unknown and wrong fields all come back in one refusal, listed in the message."""
    with pytest.raises(BadFields) as refused:
        clean_field_values(SPECS, {"weight_kg": "40", "destination": "XX", "colour": "red", "parcels": "a"})
    problems = {name: problem.message for name, problem in refused.value.problems.items()}
    assert problems == {
        "weight_kg": "at most %(maximum)s",
        "parcels": "a number is expected",
        "destination": "a country code is expected (MA, FR, ES...)",
        "service": "required",
        "colour": "unknown field",
    }
    assert refused.value.params == {"fields": "colour, destination, parcels, service, weight_kg"}


@pytest.mark.parametrize("raw", [[], "weight=2", 3])
def test_values_must_be_an_object(raw):
    """Anything but an object (or nothing) for the fields is one problem named "fields"."""
    with pytest.raises(BadFields) as refused:
        clean_field_values(SPECS, raw)
    assert {name: problem.message for name, problem in refused.value.problems.items()} == {
        "fields": "an object is expected"
    }


def test_an_unknown_field_name_is_cut_in_the_answer():
    """A very long unknown name is echoed cut to 40 characters, never whole."""
    with pytest.raises(BadFields) as refused:
        clean_field_values([], {"x" * 500: 1})
    assert list(refused.value.problems) == ["x" * 40]


def test_the_fields_of_the_docs_are_valid_specs():
    """The redemption fields shown in docs/offers.md are accepted as written."""
    text = (Path(__file__).parents[3] / "docs" / "offers.md").read_text(encoding="utf-8")
    blocks = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S)]
    specs = [block for block in blocks if isinstance(block, list) and block and "type" in block[0]]
    assert specs, "docs/offers.md shows no redemption fields"
    for raw in specs:
        assert [field.name for field in parse_field_specs(raw)] == [item["name"] for item in raw]
