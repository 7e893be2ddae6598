"""Eligibility rules of offers: JsonLogic conditions, checked when an offer is saved, evaluated by a library.

An offer's rule is a list of conditions that must all hold. Each condition is a JsonLogic expression
with a label in French, Arabic and English, so a refusal can say which conditions failed. The format,
the operators, the variables and their types are documented for partners and administrators in
docs/offers.md; this module is its implementation.

The library: datalogic-py (the Python binding of datalogic-rs), pinned in requirements.txt.
- It is well kept: released every few weeks, every binding passes one 2,128-case conformance suite,
  typed stubs, abi3 wheels for Linux, macOS and Windows (x86_64 and arm64), so a fresh `make run`
  needs no compiler.
- It compiles a rule once into a thread-safe tree (`Engine.compile`) that every later evaluation
  reuses: about 5 µs for the lender's whole rule (bench/rules.py), facts handed over included.
- It has every operator we allow, and takes our two date operators through its own extension
  mechanism (`Engine(custom_operators=...)`); `families=[]` switches its extensions off, so only the
  JsonLogic core and our operators exist for it.
The candidates it was weighed against:
- python-jsonlogic 0.2.0 (typed, operator registry, typecheck against a JSON Schema) ships only var,
  ==, !=, <, <=, >, >=, +, -, *, /, %, if and map: `and`, `or`, `!`, `!!` and `in` would have been
  evaluated by code of ours, the home-made interpreter we must not write; nor can its date type be
  moved by a number of days.
- panzi-json-logic 1.0.1 (2021) and json-logic-qubit 0.9.1 (2018) are complete but no longer kept,
  and re-read the rule's dictionaries at every evaluation.

What this module adds is a checker, not an interpreter: `parse_rule` walks the JSON once to keep
it to an allow-list of operators and variables, infer each operand's type (so a year compared with
a string, or `in` on a number, is refused when the offer is saved, with the place named), bound its
size, and give it one canonical form; the library evaluates it. Because every operand's type is
checked, JsonLogic's loose coercions ("1" == 1, truthiness of strings) never come into play.

Facts are the values of the variables for one card and its holder, keyed by variable name
(`{"card.status": "active", "artisan.activity_start_year": 2019, "today": date(...), ...}`).
A condition that reads a missing value (a variable absent from the facts, or None) fails, whatever
its logic: eligibility is never granted on unknown data, and evaluation never raises for it.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

import datalogic_py

from webapp.clock import MOROCCO
from webapp.models import CardStatus, CnssStatus, Gender, LegalStatus
from webapp.services.errors import N_, DomainError
from webapp.services.register.reference_data import REGION_CODES

# Bounds on what an offer's rule may hold: far above any real rule (a condition listing all 20
# trades has 23 nodes), low enough that checking and evaluating stay cheap and that no input can
# exhaust the stack.
MAX_CONDITIONS: Final = 20
MAX_NODES: Final = 200  # operators and values in one condition's logic
MAX_DEPTH: Final = 10  # operators nested in one condition's logic
MAX_ARRAY: Final = 100  # values in one literal array
MAX_STRING: Final = 200  # characters in one literal string
MAX_LABEL: Final = 200  # characters in one label text
MAX_NUMBER: Final = 1_000_000_000  # magnitude of a literal number
LANGUAGES: Final = ("fr", "ar", "en")

STRING, NUMBER, BOOLEAN, DATE, ARRAY = "string", "number", "boolean", "date", "array"
_ARTICLES = {STRING: "a string", NUMBER: "a number", BOOLEAN: "a boolean", DATE: "a date", ARRAY: "an array"}
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class InvalidRule(DomainError):
    """A rule refused when an offer is saved. `place` says where ("condition 2, logic › and[1] › var"),
    `problem` what is wrong, `reason` is a stable slug of the kind of problem (docs/offers.md)."""

    code = "invalid_rule"
    http_status = 422
    message = N_("This eligibility rule is not valid: %(place)s: %(problem)s.")

    def __init__(self, place: str, problem: str, reason: str) -> None:
        super().__init__(place=place, problem=problem)
        self.place = place
        self.problem = problem
        self.reason = reason


@dataclass(frozen=True)
class ValueType:
    """The type of a variable or of an operand: a kind, and for strings an optional domain
    (enumerated values, or a pattern described in words); an array has an element type."""

    kind: str
    values: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    shape: str | None = None  # the domain in words, for messages ("one of active, suspended...")
    element: ValueType | None = None  # an array's elements; None for an empty literal array

    def accepts(self, literal: str) -> bool:
        """Whether a literal string is in this type's domain (always, without a domain)."""
        if self.values is not None:
            return literal in self.values
        if self.pattern is not None:
            return self.pattern.fullmatch(literal) is not None
        return True


def _one_of(values: Sequence[str]) -> ValueType:
    return ValueType(STRING, values=frozenset(values), shape="one of " + ", ".join(values))


def _code(pattern: str, shape: str) -> ValueType:
    return ValueType(STRING, pattern=re.compile(pattern), shape=shape)


_PROGRAMME_CODE = _code(r"[A-Z][A-Z0-9_]{1,15}", "a programme code (capital letters, e.g. EXCELLENCE)")

VARIABLES: Final[Mapping[str, ValueType]] = MappingProxyType(
    {
        "card.status": _one_of([*(status.value for status in CardStatus), "expired"]),
        "card.trade": _code(r"[A-Z]{2,4}", "a trade code (2 to 4 capital letters, e.g. ZEL)"),
        "card.sector": _code(r"[A-Z]{2,8}", "a sector code (capital letters, e.g. ART)"),
        "card.region": _one_of(sorted(REGION_CODES)),
        "card.expires": ValueType(DATE),
        "card.issued": ValueType(DATE),
        "artisan.legal_status": _one_of([status.value for status in LegalStatus]),
        "artisan.cnss_status": _one_of([status.value for status in CnssStatus]),
        "artisan.gender": _one_of([gender.value for gender in Gender]),
        "artisan.programmes": ValueType(ARRAY, element=_PROGRAMME_CODE),
        "artisan.activity_start_year": ValueType(NUMBER),
        "artisan.cooperative_member": ValueType(BOOLEAN),
        "today": ValueType(DATE),
    }
)
"""Every variable a condition may read, with its type (docs/offers.md lists them for authors)."""


# The operators a condition may use and how many operands each takes (minimum, maximum or None).
OPERATORS: Final[Mapping[str, tuple[int, int | None]]] = MappingProxyType(
    {
        "var": (1, 1),
        "==": (2, 2),
        "!=": (2, 2),
        "<": (2, 3),  # the 3-operand form is JsonLogic's "between": {"<": [a, x, b]}
        "<=": (2, 3),
        ">": (2, 2),
        ">=": (2, 2),
        "and": (1, None),
        "or": (1, None),
        "!": (1, 1),
        "!!": (1, 1),
        "if": (3, None),
        "in": (2, 2),
        "+": (2, None),
        "-": (1, 2),
        "*": (2, None),
        "year": (1, 1),
        "days_between": (2, 2),
    }
)


# The two date operators, registered through the library's own extension mechanism. A date reaches
# the engine as its ISO text (YYYY-MM-DD, which also orders correctly with < and >), and each
# operator receives its evaluated operands as a JSON array text and answers JSON text.
def _year(operands_json: str) -> str:
    """{"year": [date]}: the calendar year of a date, a number."""
    (day,) = json.loads(operands_json)
    return str(date.fromisoformat(day).year)


def _days_between(operands_json: str) -> str:
    """{"days_between": [start, end]}: the days from start to end, negative when end comes first."""
    start, end = json.loads(operands_json)
    return str((date.fromisoformat(end) - date.fromisoformat(start)).days)


_ENGINE: Final = datalogic_py.Engine(
    families=[],  # the JsonLogic core only: none of the library's extension families
    custom_operators={"year": _year, "days_between": _days_between},
    strict_operator_names=True,
    # Missing values never reach the engine (their conditions fail first); were one to, it is an
    # error, not a null that flows on. The budget is a second bound after MAX_NODES.
    config={"missing_var": "error", "ops_budget": 10_000},
)


def moroccan_today(now: datetime | None = None) -> date:
    """Today's date in Morocco (Africa/Casablanca), the `today` of the facts."""
    return (now or datetime.now(MOROCCO)).astimezone(MOROCCO).date()


@dataclass(frozen=True)
class _Typed:
    """What the checker knows of an operand: its type, what it is (for messages), its literal value."""

    type: ValueType
    what: str
    literal: Any = None
    is_literal: bool = False

    def describe(self) -> str:
        return f"{_ARTICLES[self.type.kind]} ({self.what})"

    def is_date_text(self) -> bool:
        """A literal string that is a date written YYYY-MM-DD."""
        if not (self.is_literal and isinstance(self.literal, str) and _ISO_DATE.fullmatch(self.literal)):
            return False
        try:
            date.fromisoformat(self.literal)
        except ValueError:
            return False
        return True


class _Checker:
    """Walks one condition's logic: allow-lists, arity, types and bounds, naming the place of a fault;
    gives the canonical form and the variables read."""

    def __init__(self, condition_number: int) -> None:
        self.prefix = f"condition {condition_number}, logic"
        self.nodes = 0
        self.variables: set[str] = set()

    def fail(self, path: tuple[str, ...], problem: str, reason: str) -> InvalidRule:
        return InvalidRule(" › ".join((self.prefix, *path)), problem, reason)

    def check(self, node: object, path: tuple[str, ...], depth: int) -> tuple[Any, _Typed]:
        """The canonical form of a node and its type."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(path, f"more than {MAX_NODES} operators and values", "too_large")
        if isinstance(node, dict):
            return self.expression(node, path, depth + 1)
        if isinstance(node, list):
            return self.array(node, path)
        return node, self.literal(node, path)

    def literal(self, node: object, path: tuple[str, ...]) -> _Typed:
        if isinstance(node, bool):
            return _Typed(ValueType(BOOLEAN), json.dumps(node), node, True)
        if isinstance(node, int | float):
            if isinstance(node, float) and not math.isfinite(node):
                raise self.fail(path, f"{node} is not a JSON value", "not_json")
            if abs(node) > MAX_NUMBER:
                raise self.fail(path, f"{node} is larger than {MAX_NUMBER:,} in magnitude", "bad_value")
            return _Typed(ValueType(NUMBER), repr(node), node, True)
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                raise self.fail(path, f"a string longer than {MAX_STRING} characters", "too_large")
            return _Typed(ValueType(STRING), repr(node), node, True)
        if node is None:
            raise self.fail(path, "null is not allowed (a missing value already makes its condition fail)", "bad_value")
        raise self.fail(path, f"a Python {type(node).__name__} is not a JSON value", "not_json")

    def array(self, node: list[Any], path: tuple[str, ...]) -> tuple[list[Any], _Typed]:
        """A literal array: plain values of one kind (strings, numbers or booleans)."""
        if len(node) > MAX_ARRAY:
            raise self.fail(path, f"an array of more than {MAX_ARRAY} values", "too_large")
        elements: list[_Typed] = []
        for index, element in enumerate(node):
            self.nodes += 1
            if isinstance(element, dict | list):
                raise self.fail((*path, f"[{index}]"), "an array holds plain values, not expressions", "malformed")
            elements.append(self.literal(element, (*path, f"[{index}]")))
        kinds = {element.type.kind for element in elements}
        if len(kinds) > 1:
            raise self.fail(path, "an array mixes " + " and ".join(sorted(kinds)), "type_mismatch")
        element_type = elements[0].type if elements else None
        shown = json.dumps(node, ensure_ascii=False)
        return list(node), _Typed(ValueType(ARRAY, element=element_type), shown, tuple(node), True)

    def expression(self, node: dict[Any, Any], path: tuple[str, ...], depth: int) -> tuple[Any, _Typed]:
        if len(node) != 1:
            raise self.fail(path, f"an expression has exactly one operator, not {len(node)}", "malformed")
        operator, operands = next(iter(node.items()))
        if not isinstance(operator, str):
            raise self.fail(path, f"an operator is a string, not {operator!r}", "not_json")
        here = (*path, operator)
        if operator not in OPERATORS:
            raise self.fail(here, f"unknown operator {operator!r}", "unknown_operator")
        if depth > MAX_DEPTH:
            raise self.fail(here, f"expressions nested more than {MAX_DEPTH} deep", "too_deep")
        if operator == "var":
            return self.variable(operands, here)
        if not isinstance(operands, list):
            operands = [operands]  # JsonLogic's shorthand for one operand: {"!": x}
        least, most = OPERATORS[operator]
        if len(operands) < least or (most is not None and len(operands) > most):
            expected = str(least) if least == most else f"{least} to {most}" if most else f"at least {least}"
            noun = "operand" if expected == "1" else "operands"
            raise self.fail(here, f"{operator} takes {expected} {noun}, not {len(operands)}", "arity")
        if operator == "if" and len(operands) % 2 == 0:
            raise self.fail(here, "if takes condition, value pairs and a last value: an odd count", "arity")
        canonical, typed = [], []
        for index, operand in enumerate(operands):
            operand_canonical, operand_typed = self.check(operand, (*path, f"{operator}[{index}]"), depth)
            canonical.append(operand_canonical)
            typed.append(operand_typed)
        return {operator: canonical}, self.typed(operator, typed, path, here)

    def variable(self, operands: object, here: tuple[str, ...]) -> tuple[Any, _Typed]:
        """{"var": "card.status"} (or ["card.status"]); no default value: missing values have their own rule."""
        if isinstance(operands, list) and len(operands) == 1:
            operands = operands[0]
        if not isinstance(operands, str):
            raise self.fail(here, "var takes one variable name (and no default value)", "malformed")
        if operands not in VARIABLES:
            raise self.fail(here, f"unknown variable {operands!r}", "unknown_variable")
        self.variables.add(operands)
        return {"var": operands}, _Typed(VARIABLES[operands], operands)

    def typed(self, operator: str, operands: list[_Typed], path: tuple[str, ...], here: tuple[str, ...]) -> _Typed:
        """The type of an operator's result, once its operands' types are checked."""
        result = f"the result of {operator}"
        if operator in ("==", "!="):
            self.common_type(operands[0], operands[1], here, f"{operator} compares {{}} with {{}}")
            return _Typed(ValueType(BOOLEAN), result)
        if operator in ("<", "<=", ">", ">="):
            for left, right in itertools.pairwise(operands):
                common = self.common_type(left, right, here, f"{operator} compares {{}} with {{}}")
                if common.kind not in (NUMBER, DATE):
                    raise self.fail(here, f"{operator} orders numbers or dates, not {left.describe()}", "type_mismatch")
            return _Typed(ValueType(BOOLEAN), result)
        if operator in ("and", "or"):
            for index, operand in enumerate(operands):
                if operand.type.kind != BOOLEAN:
                    problem = f"{operator} combines true/false values, not {operand.describe()}"
                    raise self.fail((*path, f"{operator}[{index}]"), problem, "type_mismatch")
            return _Typed(ValueType(BOOLEAN), result)
        if operator in ("!", "!!"):
            if operands[0].type.kind not in (BOOLEAN, ARRAY):
                problem = f"{operator} applies to a boolean or an array (empty is false), not {operands[0].describe()}"
                raise self.fail(here, problem, "type_mismatch")
            return _Typed(ValueType(BOOLEAN), result)
        if operator == "if":
            return self.if_type(operands, path, here)
        if operator == "in":
            self.in_types(operands[0], operands[1], here)
            return _Typed(ValueType(BOOLEAN), result)
        if operator in ("+", "-", "*"):
            for operand in operands:
                if operand.type.kind != NUMBER:
                    raise self.fail(here, f"{operator} takes numbers, not {operand.describe()}", "type_mismatch")
            return _Typed(ValueType(NUMBER), result)
        # The date operators: year and days_between take dates (a variable, or a literal YYYY-MM-DD).
        for operand in operands:
            if operand.type.kind != DATE and not operand.is_date_text():
                raise self.fail(here, f"{operator} takes dates (YYYY-MM-DD), not {operand.describe()}", "type_mismatch")
        return _Typed(ValueType(NUMBER), result)

    def if_type(self, operands: list[_Typed], path: tuple[str, ...], here: tuple[str, ...]) -> _Typed:
        """{"if": [condition, value, condition, value, ..., otherwise]}: true/false conditions, values of one type."""
        for index in range(0, len(operands) - 1, 2):
            if operands[index].type.kind != BOOLEAN:
                problem = f"an if condition is true or false, not {operands[index].describe()}"
                raise self.fail((*path, f"if[{index}]"), problem, "type_mismatch")
        values = [*operands[1::2], operands[-1]]
        if all(value.type.kind == DATE or value.is_date_text() for value in values):
            return _Typed(ValueType(DATE), "the result of if")  # literal dates stay dates
        common = values[0]
        for value in values[1:]:
            common = _Typed(self.common_type(common, value, here, "if chooses between {} and {}"), "the result of if")
        return common

    def common_type(self, left: _Typed, right: _Typed, here: tuple[str, ...], doing: str) -> ValueType:
        """The type two operands share (compared, or chosen between by if), or InvalidRule.
        `doing` says what is done with them, with two {} for their descriptions."""
        for one, other in ((left, right), (right, left)):
            if one.type.kind == DATE and other.is_literal and isinstance(other.literal, str):
                if other.is_date_text():
                    return one.type
                problem = f"{other.literal!r} is not a date written YYYY-MM-DD ({one.what} is a date)"
                raise self.fail(here, problem, "type_mismatch")
        mismatch = doing.format(left.describe(), right.describe())
        if left.type.kind != right.type.kind:
            raise self.fail(here, mismatch, "type_mismatch")
        if left.type.kind == ARRAY:
            if not doing.startswith("if"):
                raise self.fail(
                    here, "arrays are not compared: use in to look for a value in an array", "type_mismatch"
                )
            elements = {side.type.element.kind for side in (left, right) if side.type.element is not None}
            if len(elements) > 1:
                raise self.fail(here, mismatch, "type_mismatch")
        for one, other in ((left, right), (right, left)):
            if other.is_literal and isinstance(other.literal, str) and not one.type.accepts(other.literal):
                raise self.fail(here, f"{other.literal!r} is not {one.type.shape} ({one.what})", "bad_value")
        return left.type if left.type.shape or not right.type.shape else right.type

    def in_types(self, needle: _Typed, haystack: _Typed, here: tuple[str, ...]) -> None:
        """{"in": [value, array]} is membership, {"in": [string, string]} a substring test."""
        if haystack.type.kind == STRING:
            if needle.type.kind != STRING:
                raise self.fail(here, f"in looks for a string in a string, not {needle.describe()}", "type_mismatch")
            return
        if haystack.type.kind != ARRAY:
            raise self.fail(here, f"in looks in an array or a string, not in {haystack.describe()}", "type_mismatch")
        if needle.type.kind == ARRAY:
            raise self.fail(here, f"in looks for one value, not {needle.describe()}", "type_mismatch")
        element = haystack.type.element
        if element is None:
            return  # an empty literal array: nothing is in it, whatever the needle's type
        elements = [
            _Typed(element, f"{value!r} in {haystack.what}", value, True) for value in (haystack.literal or ())
        ] or [_Typed(element, f"an element of {haystack.what}")]
        for value in elements:
            self.common_type(needle, value, here, "in compares {} with {}")


@dataclass(frozen=True, eq=False)
class Condition:
    """One checked condition: its label in fr/ar/en, its canonical JsonLogic, the variables it reads."""

    label: Mapping[str, str]
    logic: Any
    variables: frozenset[str]
    _compiled: datalogic_py.Rule

    def label_in(self, language: str) -> str:
        """The label in a language of the product, French for any other."""
        return self.label.get(language) or self.label["fr"]

    def to_json(self) -> dict[str, Any]:
        """The canonical stored form: {"label": {"fr", "ar", "en"}, "logic": ...} (a fresh copy)."""
        return {"label": dict(self.label), "logic": copy.deepcopy(self.logic)}

    def _holds(self, data: dict[str, Any], missing: set[str]) -> bool:
        if missing and not self.variables.isdisjoint(missing):
            return False
        try:
            return self._compiled.evaluate(data) is True
        except datalogic_py.DataLogicError:
            # Operands are typed and literals bounded, so only a fact the engine cannot hold (an
            # integer beyond 64 bits) gets here: it refuses the condition, never the whole request.
            return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_json(), sort_keys=True))


# How each variable's fact reaches the engine. A value of the wrong Python type is a bug of the
# caller (the facts builder): TypeError, never a silent refusal. A bool is not a number, and a
# datetime is not a date (the card's expiry is a day in Morocco, not an instant).
def _wrong_type(name: str, value: object, expected: str) -> TypeError:
    return TypeError(f"the fact {name!r} must be {expected}, not {type(value).__name__}")


def _read_string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise _wrong_type(name, value, "a str")
    return str(value)  # a StrEnum member (CnssStatus.REGISTERED) becomes its plain value


def _read_number(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _wrong_type(name, value, "an int")
    return int(value)


def _read_boolean(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _wrong_type(name, value, "a bool")
    return value


def _read_date(name: str, value: object) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _wrong_type(name, value, "a date")
    return value.isoformat()  # YYYY-MM-DD: compares as the dates do


def _read_codes(name: str, value: object) -> list[str]:
    if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(code, str) for code in value):
        raise _wrong_type(name, value, "a collection of str")
    return [str(code) for code in value]


_READERS: Final[Mapping[str, Callable[[str, object], Any]]] = MappingProxyType(
    {STRING: _read_string, NUMBER: _read_number, BOOLEAN: _read_boolean, DATE: _read_date, ARRAY: _read_codes}
)


class Rule:
    """An offer's checked rule: conditions that must all hold (none: every holder of a valid card)."""

    __slots__ = ("_plan", "conditions", "variables")

    def __init__(self, conditions: Sequence[Condition]) -> None:
        self.conditions: tuple[Condition, ...] = tuple(conditions)
        # Exactly the variables the outcome depends on: their values, and whether each is missing.
        self.variables: frozenset[str] = frozenset().union(*(condition.variables for condition in self.conditions))
        # Where each variable goes in the engine's nested data ("card.status" -> data["card"]["status"]).
        self._plan = tuple(
            (name, *name.partition(".")[::2], _READERS[VARIABLES[name].kind]) for name in sorted(self.variables)
        )

    def failed(self, facts: Mapping[str, object]) -> list[Condition]:
        """The conditions that do not hold for these facts, in the rule's order; empty means eligible."""
        data, missing = self._engine_data(facts)
        return [condition for condition in self.conditions if not condition._holds(data, missing)]

    def holds(self, facts: Mapping[str, object]) -> bool:
        """Whether every condition holds (stops at the first that fails)."""
        data, missing = self._engine_data(facts)
        return all(condition._holds(data, missing) for condition in self.conditions)

    def to_json(self) -> list[dict[str, Any]]:
        """The canonical stored form; parse_rule(rule.to_json()) gives an equal rule."""
        return [condition.to_json() for condition in self.conditions]

    def _engine_data(self, facts: Mapping[str, object]) -> tuple[dict[str, Any], set[str]]:
        """The facts the rule reads as the engine's nested JSON data, and the names of those missing
        (absent or None). `today` absent from the facts is today in Morocco."""
        data: dict[str, Any] = {}
        missing: set[str] = set()
        for name, head, tail, read in self._plan:
            value = facts.get(name)
            if value is None:
                if name != "today" or name in facts:
                    missing.add(name)
                    continue
                value = moroccan_today()
            if tail:
                group = data.get(head)
                if group is None:
                    group = data[head] = {}
                group[tail] = read(name, value)
            else:
                data[head] = read(name, value)
        return data, missing

    def __len__(self) -> int:
        return len(self.conditions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and self.conditions == other.conditions

    def __hash__(self) -> int:
        return hash(self.conditions)

    def __repr__(self) -> str:
        return f"Rule({self.to_json()!r})"


def parse_rule(raw: object) -> Rule:
    """The checked, compiled rule of an offer from its JSON form, or InvalidRule naming the place."""
    if not isinstance(raw, list):
        raise InvalidRule("rule", f"a rule is a list of conditions, not {_json_kind(raw)}", "malformed")
    if len(raw) > MAX_CONDITIONS:
        raise InvalidRule("rule", f"more than {MAX_CONDITIONS} conditions", "too_large")
    return Rule([_parse_condition(number, condition) for number, condition in enumerate(raw, start=1)])


def _parse_condition(number: int, raw: object) -> Condition:
    place = f"condition {number}"
    if not isinstance(raw, dict):
        raise InvalidRule(
            place, f"a condition is an object with a label and a logic, not {_json_kind(raw)}", "malformed"
        )
    for key in raw:
        if key not in ("label", "logic"):
            raise InvalidRule(place, f"unknown key {key!r} (a condition has a label and a logic)", "malformed")
    for key in ("label", "logic"):
        if key not in raw:
            raise InvalidRule(place, f"the condition has no {key}", "malformed")
    label = _parse_label(f"{place}, label", raw["label"])
    checker = _Checker(number)
    logic, typed = checker.check(raw["logic"], (), 0)
    if typed.type.kind != BOOLEAN:
        raise InvalidRule(
            f"{place}, logic", f"the logic must give true or false, not {typed.describe()}", "type_mismatch"
        )
    try:
        compiled = _ENGINE.compile_checked(logic)
    except datalogic_py.CompileError as error:  # the checker lets nothing through that the engine refuses
        raise InvalidRule(f"{place}, logic", str(error), "malformed") from error
    return Condition(MappingProxyType(label), logic, frozenset(checker.variables), compiled)


def _json_kind(value: object) -> str:
    """What a value is called in JSON, for messages."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else f"a Python {type(value).__name__}"


def _parse_label(place: str, raw: object) -> dict[str, str]:
    """{"fr": ..., "ar": ..., "en": ...}: each text present and not blank; kept stripped."""
    if not isinstance(raw, dict):
        raise InvalidRule(place, f"a label is an object with fr, ar and en texts, not {_json_kind(raw)}", "bad_label")
    for language in raw:
        if language not in LANGUAGES:
            raise InvalidRule(place, f"unknown language {language!r} (fr, ar and en)", "bad_label")
    label = {}
    for language in LANGUAGES:
        text = raw.get(language)
        if not isinstance(text, str) or not text.strip():
            raise InvalidRule(place, f"the {language} text is missing or blank", "bad_label")
        if len(text.strip()) > MAX_LABEL:
            raise InvalidRule(place, f"the {language} text is longer than {MAX_LABEL} characters", "bad_label")
        label[language] = text.strip()
    return label
