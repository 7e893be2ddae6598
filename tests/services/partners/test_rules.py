"""Offer eligibility rules: checked when saved (the place of a fault named), evaluated by the library,
a missing value failing its condition; driven by the vectors of rule_vectors.json."""

import json
import math
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from webapp.models import CnssStatus
from webapp.services.errors import DomainError
from webapp.services.partners import rules
from webapp.services.partners.rules import DATE, OPERATORS, VARIABLES, InvalidRule, parse_rule

DOCUMENT = json.loads(Path(__file__).with_name("rule_vectors.json").read_text(encoding="utf-8"))
EVALUATED = [vector for vector in DOCUMENT["vectors"] if "failed" in vector]
REFUSED = [vector for vector in DOCUMENT["vectors"] if "error" in vector]
LABEL = DOCUMENT["label"]
REASONS = {
    "malformed",
    "not_json",
    "too_large",
    "too_deep",
    "unknown_operator",
    "unknown_variable",
    "arity",
    "type_mismatch",
    "bad_value",
    "bad_label",
}
LENDER = [
    {"label": LABEL, "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]}},
    {
        "label": LABEL,
        "logic": {">=": [{"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}, 2]},
    },
]


def rule_of(vector: dict) -> object:
    """The vector's rule as stored: its "rule", or its "logic" as one labelled condition."""
    return vector["rule"] if "rule" in vector else [{"label": LABEL, "logic": vector["logic"]}]


def facts_of(vector: dict) -> dict[str, object]:
    """The base facts overridden by the vector's, less its absent names; dates as date objects."""
    facts = {**DOCUMENT["base_facts"], **vector.get("facts", {})}
    for name in vector.get("absent", []):
        del facts[name]
    return {
        name: date.fromisoformat(value) if VARIABLES[name].kind == DATE and isinstance(value, str) else value
        for name, value in facts.items()
    }


def operators_in(logic: object) -> set[str]:
    if isinstance(logic, dict):
        return set(logic) | {name for operands in logic.values() for name in operators_in(operands)}
    if isinstance(logic, list):
        return {name for operand in logic for name in operators_in(operand)}
    return set()


@pytest.mark.parametrize("vector", EVALUATED, ids=[vector["name"] for vector in EVALUATED])
def test_evaluation_vectors(vector):
    """The conditions that fail for the facts are the vector's, in order; holds() agrees."""
    rule = parse_rule(rule_of(vector))
    facts = facts_of(vector)
    failed = rule.failed(facts)
    indexes = [index for index, condition in enumerate(rule.conditions) if any(condition is one for one in failed)]
    assert indexes == vector["failed"] and len(failed) == len(indexes)
    assert rule.holds(facts) is (vector["failed"] == [])


@pytest.mark.parametrize("vector", REFUSED, ids=[vector["name"] for vector in REFUSED])
def test_validation_vectors(vector):
    """A refused rule answers invalid_rule (422) with the vector's reason and place."""
    with pytest.raises(InvalidRule) as refused:
        parse_rule(rule_of(vector))
    assert (refused.value.code, refused.value.http_status) == ("invalid_rule", 422)
    assert (refused.value.reason, refused.value.place) == (vector["error"]["reason"], vector["error"]["place"])
    assert str(refused.value) == f"This eligibility rule is not valid: {refused.value.place}: {refused.value.problem}."


def test_the_vectors_cover_every_operator_variable_and_reason():
    """At least 60 vectors; each allowed operator and variable is evaluated, each reason of refusal met
    (not_json has no JSON form: it is tested below)."""
    assert len(DOCUMENT["vectors"]) >= 60
    assert len({vector["name"] for vector in DOCUMENT["vectors"]}) == len(DOCUMENT["vectors"])
    evaluated_operators, evaluated_variables = set(), set()
    for vector in EVALUATED:
        rule = parse_rule(rule_of(vector))
        evaluated_operators |= operators_in([condition["logic"] for condition in rule.to_json()])
        evaluated_variables |= rule.variables
    assert evaluated_operators == set(OPERATORS)
    assert evaluated_variables == set(VARIABLES)
    assert {vector["error"]["reason"] for vector in REFUSED} == REASONS - {"not_json"}


def test_the_message_names_the_place_and_the_problem():
    """The example of docs/offers.md, word for word; InvalidRule is a DomainError."""
    raw = [LENDER[0], {"label": LABEL, "logic": {"and": [True, {"var": "artisan.salary"}]}}]
    with pytest.raises(InvalidRule) as refused:
        parse_rule(raw)
    assert isinstance(refused.value, DomainError)
    assert str(refused.value) == (
        "This eligibility rule is not valid: condition 2, logic › and[1] › var: unknown variable 'artisan.salary'."
    )
    assert refused.value.params == {"place": "condition 2, logic › and[1] › var", "problem": refused.value.problem}


@pytest.mark.parametrize(
    "value",
    [date(2026, 1, 1), (2019,), {2019}, math.nan, math.inf, b"2019", {1: "x"}],
    ids=["date", "tuple", "set", "nan", "infinity", "bytes", "non-string key"],
)
def test_values_that_are_not_json_are_refused(value):
    """A Python value with no JSON form is refused where it stands, never stored."""
    with pytest.raises(InvalidRule) as refused:
        parse_rule([{"label": LABEL, "logic": {"==": [{"var": "artisan.activity_start_year"}, value]}}])
    assert (refused.value.reason, refused.value.place) == ("not_json", "condition 1, logic › ==[1]")


def test_variables_are_exactly_those_the_rule_reads():
    """Rule.variables is the union of the conditions' variables, each read in some condition."""
    rule = parse_rule(LENDER)
    assert rule.variables == {"artisan.cnss_status", "artisan.activity_start_year", "today"}
    assert [condition.variables for condition in rule.conditions] == [
        {"artisan.cnss_status"},
        {"artisan.activity_start_year", "today"},
    ]
    assert parse_rule([]).variables == frozenset()


def test_the_outcome_depends_only_on_the_variables():
    """Facts outside Rule.variables change nothing, so the lists can be built per distinct combination."""
    rule = parse_rule(LENDER)
    facts = facts_of({"name": "base"})
    others = {name: None for name in VARIABLES if name not in rule.variables}
    assert rule.failed(facts) == rule.failed({**facts, **others}) == []
    assert rule.failed({name: facts[name] for name in rule.variables}) == []


def test_to_json_is_canonical_and_round_trips():
    """Shorthands are written out, labels stripped; parsing the canonical form gives an equal rule."""
    raw = [{"logic": {"!": {"var": ["artisan.cooperative_member"]}}, "label": {**LABEL, "fr": "  Hors coopérative  "}}]
    rule = parse_rule(raw)
    canonical = [
        {"label": {**LABEL, "fr": "Hors coopérative"}, "logic": {"!": [{"var": "artisan.cooperative_member"}]}}
    ]
    assert rule.to_json() == canonical
    assert parse_rule(rule.to_json()) == rule and hash(parse_rule(canonical)) == hash(rule)
    assert json.loads(json.dumps(rule.to_json(), ensure_ascii=False)) == canonical


@pytest.mark.parametrize("vector", EVALUATED, ids=[vector["name"] for vector in EVALUATED])
def test_every_valid_vector_round_trips(vector):
    """to_json is a fixed point of parse_rule, and the reparsed rule decides alike."""
    rule = parse_rule(rule_of(vector))
    again = parse_rule(rule.to_json())
    assert again == rule and again.to_json() == rule.to_json() and again.variables == rule.variables
    assert again.holds(facts_of(vector)) is rule.holds(facts_of(vector))


def test_to_json_is_a_copy():
    """Changing what to_json returned does not change the rule."""
    rule = parse_rule(LENDER)
    stored = rule.to_json()
    stored[0]["logic"]["=="][1] = "not_registered"
    stored[0]["label"]["fr"] = "changed"
    assert rule.to_json() == parse_rule(LENDER).to_json()


def test_a_label_in_each_language():
    """A failed condition's label in the caller's language, French for another language."""
    label = {"fr": "Inscrit", "ar": "مسجل", "en": "Registered"}
    (condition,) = parse_rule([{"label": label, "logic": True}]).conditions
    assert [condition.label_in(language) for language in ("fr", "ar", "en", "es")] == [
        "Inscrit",
        "مسجل",
        "Registered",
        "Inscrit",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("artisan.activity_start_year", "2019"),
        ("artisan.activity_start_year", True),
        ("artisan.cooperative_member", "false"),
        ("artisan.cnss_status", 1),
        ("artisan.programmes", "EXCELLENCE"),
        ("artisan.programmes", [1]),
        ("card.expires", datetime(2027, 6, 30, 22, 59, 59, tzinfo=UTC)),
        ("card.expires", "2027-06-30"),
    ],
)
def test_a_fact_of_the_wrong_type_is_a_bug_of_the_caller(name, value):
    """A fact of the wrong Python type raises TypeError rather than failing quietly."""
    rule = parse_rule([{"label": LABEL, "logic": {"!!": [True]}}, *vector_reading(name)])
    with pytest.raises(TypeError, match=name):
        rule.failed({**facts_of({"name": "base"}), name: value})


def vector_reading(name: str) -> list[dict]:
    """A condition that reads one variable (whatever its type)."""
    logic = {
        "artisan.activity_start_year": {">": [{"var": name}, 0]},
        "artisan.cooperative_member": {"var": name},
        "artisan.cnss_status": {"==": [{"var": name}, "registered"]},
        "artisan.programmes": {"!!": [{"var": name}]},
        "card.expires": {">": [{"var": name}, "2026-01-01"]},
    }[name]
    return [{"label": LABEL, "logic": logic}]


def test_enum_members_and_any_collection_of_codes_are_facts():
    """A StrEnum member stands for its value; programmes may be any collection of codes."""
    rule = parse_rule(
        [
            {"label": LABEL, "logic": {"==": [{"var": "artisan.cnss_status"}, "registered"]}},
            {"label": LABEL, "logic": {"in": ["WOMEN", {"var": "artisan.programmes"}]}},
        ]
    )
    facts = {"artisan.cnss_status": CnssStatus.REGISTERED}
    assert [rule.holds({**facts, "artisan.programmes": codes}) for codes in (("WOMEN",), {"WOMEN"}, frozenset())] == [
        True,
        True,
        False,
    ]


def test_today_defaults_to_today_in_morocco(monkeypatch):
    """Without a `today` fact, the rule reads today's date in Morocco; None is a missing value."""
    monkeypatch.setattr(rules, "moroccan_today", lambda: date(2026, 6, 16))
    rule = parse_rule([{"label": LABEL, "logic": {"==": [{"var": "today"}, "2026-06-16"]}}])
    assert rule.holds({}) and not rule.holds({"today": None}) and not rule.holds({"today": date(2026, 6, 17)})


def test_moroccan_today_is_the_date_in_casablanca():
    """23:30 UTC on 15 June is already the 16th in Morocco (UTC+1 outside Ramadan)."""
    assert rules.moroccan_today(datetime(2026, 6, 15, 23, 30, tzinfo=UTC)) == date(2026, 6, 16)
    assert rules.moroccan_today(datetime(2026, 6, 15, 22, 30, tzinfo=UTC)) == date(2026, 6, 15)


def is_other_json(block: object) -> bool:
    """The docs' json blocks that are no rule: redemption fields (checked in test_offer_fields.py)
    and the payload of an eligibility list."""
    if isinstance(block, dict):
        return "status_list" in block
    return isinstance(block, list) and bool(block) and all(isinstance(item, dict) and "type" in item for item in block)


def docs_examples() -> list[tuple[str, object]]:
    """The rules of docs/offers.md: its json blocks, and its one-line date conditions as labelled rules."""
    text = (Path(__file__).parents[3] / "docs" / "offers.md").read_text(encoding="utf-8")
    examples = [
        (f"block {number}", json.loads(block))
        for number, block in enumerate(re.findall(r"```json\n(.*?)```", text, re.S))
        if not is_other_json(json.loads(block))
    ]
    for sentence, logic in re.findall(r"^- \*(.+?)\*: `(\{.*\})`$", text, re.M):
        examples.append((sentence, [{"label": LABEL, "logic": json.loads(logic)}]))
    return examples


@pytest.mark.parametrize(("where", "raw"), docs_examples(), ids=[where for where, _raw in docs_examples()])
def test_the_examples_of_the_docs_are_valid_rules(where, raw):
    """Every rule shown in docs/offers.md is accepted as written, and the base artisan is eligible."""
    rule = parse_rule(raw)
    assert len(rule) == len(raw)
    assert rule.failed(facts_of({"name": "base"})) == []
