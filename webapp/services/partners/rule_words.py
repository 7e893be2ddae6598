"""An offer's eligibility rule in plain words, and the vocabulary of the portal's condition editor.

Partner managers build rules with the condition editor (static/js/partner/condition-editor.js):
rows of (variable, operator, value) in and/or groups. The editor writes the JsonLogic of
docs/offers.md, and a label for each condition made from the same sentences as
`describe_conditions`, in French, Arabic and English: both read them from `editor_vocabulary`.

`describe_conditions` reads any rule the checker accepts (rules.py), not only the editor's: what
it has no sentence for (`if`, arithmetic of its own) is shown as its JsonLogic, so a rule is never
hidden behind a friendlier label than its logic.

Services import no Flask: the sentences are marked with N_ and translated with the app's compiled
catalogs through Babel, in the language asked for (not the request's).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from webapp.models import CardStatus, CnssStatus, Gender, LegalStatus
from webapp.services.errors import N_
from webapp.services.register.reference_data import REGIONS, SECTORS, SUPPORT_PROGRAMMES, TRADES

LANGUAGES: Final = ("fr", "ar", "en")
_TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "translations"


@functools.lru_cache(maxsize=len(LANGUAGES) + 1)
def _catalog(language: str) -> NullTranslations:
    """The compiled catalog of a language (English is the msgids themselves)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(_TRANSLATIONS_DIR), [language])


def _translator(language: str) -> Callable[..., str]:
    catalog = _catalog(language)

    def translate(message: str, **params: Any) -> str:
        text = catalog.gettext(message)
        return text % params if params else text

    return translate


# Subjects: what a comparison is about. A plain variable, or one of three computed amounts the
# editor offers (docs/offers.md writes them with `year` and `days_between`).
def canonical(node: Any) -> Any:
    """A logic in the stored form of rules.py: every operator's operands in a list (`{"year": x}`
    is `{"year": [x]}`), a variable's name a plain string; so two spellings compare equal."""
    if isinstance(node, dict) and len(node) == 1:
        ((operator, operands),) = node.items()
        if operator == "var":
            return {"var": operands[0] if isinstance(operands, list) and len(operands) == 1 else operands}
        operands = operands if isinstance(operands, list) else [operands]
        return {operator: [canonical(operand) for operand in operands]}
    if isinstance(node, list):
        return [canonical(item) for item in node]
    return node


_YEARS_OF_ACTIVITY: Final = canonical({"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]})
_DAYS_TO_EXPIRY: Final = {"days_between": [{"var": "today"}, {"var": "card.expires"}]}
_DAYS_SINCE_ISSUE: Final = {"days_between": [{"var": "card.issued"}, {"var": "today"}]}
COMPUTED_SUBJECTS: Final[Mapping[str, Any]] = {
    "years_of_activity": _YEARS_OF_ACTIVITY,
    "days_to_expiry": _DAYS_TO_EXPIRY,
    "days_since_issue": _DAYS_SINCE_ISSUE,
}

SUBJECT_WORDS: Final[Mapping[str, str]] = {
    "card.trade": N_("Trade"),
    "card.sector": N_("Sector"),
    "card.region": N_("Region"),
    "artisan.programmes": N_("Support programmes"),
    "artisan.cnss_status": N_("CNSS-AMO status"),
    "years_of_activity": N_("Years of activity"),
    "artisan.activity_start_year": N_("Year the activity started"),
    "artisan.legal_status": N_("Legal status"),
    "artisan.gender": N_("Gender"),
    "artisan.cooperative_member": N_("Works in a cooperative"),
    "card.status": N_("Card status"),
    "days_to_expiry": N_("Days until the card expires"),
    "days_since_issue": N_("Days since the card was issued"),
    "card.expires": N_("Card expiry date"),
    "card.issued": N_("Card issue date"),
    "today": N_("Today's date"),
}

# The values of the enumerated subjects, in words. Reference tables carry their own three names.
_ENUM_WORDS: Final[Mapping[str, Mapping[str, str]]] = {
    "artisan.cnss_status": {
        CnssStatus.NOT_REGISTERED.value: N_("Not registered with the CNSS"),
        CnssStatus.PRE_REGISTERED.value: N_("Pre-registered with the CNSS"),
        CnssStatus.REGISTERED.value: N_("Registered with the CNSS"),
    },
    "artisan.legal_status": {
        LegalStatus.INDEPENDENT.value: N_("Independent artisan"),
        LegalStatus.MASTER_ARTISAN.value: N_("Master artisan"),
        LegalStatus.COOPERATIVE_MEMBER.value: N_("Member of a cooperative"),
        LegalStatus.COMPANY.value: N_("Company"),
    },
    "artisan.gender": {Gender.FEMALE.value: N_("Female"), Gender.MALE.value: N_("Male")},
    "card.status": {
        CardStatus.ACTIVE.value: N_("active"),
        CardStatus.SUSPENDED.value: N_("suspended"),
        CardStatus.REVOKED.value: N_("revoked"),
        "expired": N_("expired"),
    },
}
_TABLE_WORDS: Final[Mapping[str, Mapping[str, Mapping[str, str]]]] = {
    "card.region": {code: {"fr": fr, "ar": ar, "en": en} for code, fr, ar, en in REGIONS},
    "card.sector": {code: {"fr": fr, "ar": ar, "en": en} for code, fr, ar, en in SECTORS},
    "card.trade": {code: {"fr": fr, "ar": ar, "en": en} for code, _sector, fr, ar, en in TRADES},
    "artisan.programmes": {code: {"fr": fr, "ar": ar, "en": en} for code, fr, ar, en in SUPPORT_PROGRAMMES},
}

# The editor's operators per kind of subject, and the sentence of each (%(subject)s, %(value)s).
CHOICE_OPERATORS: Final = ("==", "!=", "in", "not_in")
LIST_OPERATORS: Final = ("has", "has_not")
NUMBER_OPERATORS: Final = (">=", ">", "<=", "<", "==", "!=")
BOOLEAN_OPERATORS: Final = ("==",)
SENTENCES: Final[Mapping[str, str]] = {
    "==": N_("%(subject)s is %(value)s"),
    "!=": N_("%(subject)s is not %(value)s"),
    "in": N_("%(subject)s is one of: %(value)s"),
    "not_in": N_("%(subject)s is none of: %(value)s"),
    "has": N_("%(subject)s include %(value)s"),
    "has_not": N_("%(subject)s do not include %(value)s"),
    ">=": N_("%(subject)s is at least %(value)s"),
    ">": N_("%(subject)s is more than %(value)s"),
    "<=": N_("%(subject)s is at most %(value)s"),
    "<": N_("%(subject)s is less than %(value)s"),
}
OPERATOR_WORDS: Final[Mapping[str, str]] = {
    "==": N_("is"),
    "!=": N_("is not"),
    "in": N_("is one of"),
    "not_in": N_("is none of"),
    "has": N_("include"),
    "has_not": N_("do not include"),
    ">=": N_("at least"),
    ">": N_("more than"),
    "<=": N_("at most"),
    "<": N_("less than"),
}
_BETWEEN = {"<=": N_("%(subject)s is from %(low)s to %(high)s"), "<": N_("%(subject)s is between %(low)s and %(high)s")}
_FLIPPED = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
_AND, _OR = N_("and"), N_("or")
_NOT = N_("not (%(condition)s)")
_YES, _NO = N_("yes"), N_("no")

# The order subjects are offered in the editor: what partners ask about most first.
_SUBJECT_KINDS: Final[Sequence[tuple[str, str]]] = (
    ("card.region", "choice"),
    ("card.trade", "choice"),
    ("card.sector", "choice"),
    ("artisan.programmes", "list"),
    ("artisan.cnss_status", "choice"),
    ("years_of_activity", "number"),
    ("artisan.activity_start_year", "number"),
    ("artisan.legal_status", "choice"),
    ("artisan.gender", "choice"),
    ("artisan.cooperative_member", "boolean"),
    ("card.status", "choice"),
    ("days_to_expiry", "number"),
    ("days_since_issue", "number"),
    ("today", "date"),
)
_OPERATORS_OF_KIND = {
    "choice": CHOICE_OPERATORS,
    "list": LIST_OPERATORS,
    "number": NUMBER_OPERATORS,
    "boolean": BOOLEAN_OPERATORS,
    "date": (">=", ">", "<=", "<"),
}


def _value_words(subject: str, value: Any, language: str, translate: Callable[..., str]) -> str:
    """A literal as a person reads it: a region's name, "yes", a date in the language's format."""
    if isinstance(value, bool):
        return translate(_YES if value else _NO)
    if isinstance(value, str):
        if subject in _TABLE_WORDS and value in _TABLE_WORDS[subject]:
            return _TABLE_WORDS[subject][value][language]
        if subject in _ENUM_WORDS and value in _ENUM_WORDS[subject]:
            return translate(_ENUM_WORDS[subject][value])
        if subject in ("today", "card.expires", "card.issued"):
            try:
                return format_date(date.fromisoformat(value), "long", locale=language)
            except ValueError:
                return value
        return value
    if isinstance(value, list):
        return ", ".join(_value_words(subject, item, language, translate) for item in value)
    return str(value)


def _subject_of(node: Any) -> str | None:
    """The subject an operand is about (a variable or a computed amount), None for anything else."""
    if isinstance(node, dict) and list(node) == ["var"]:
        name = node["var"]
        return name if isinstance(name, str) and name in SUBJECT_WORDS else None
    node = canonical(node)
    for name, expression in COMPUTED_SUBJECTS.items():
        if node == expression:
            return name
    return None


def _is_literal(node: Any) -> bool:
    return not isinstance(node, dict) and (not isinstance(node, list) or all(not isinstance(v, dict) for v in node))


class _Describer:
    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "fr"
        self.translate = _translator(self.language)

    def sentence(self, operator: str, subject: str, value: Any) -> str:
        return self.translate(
            SENTENCES[operator],
            subject=self.translate(SUBJECT_WORDS[subject]),
            value=_value_words(subject, value, self.language, self.translate),
        )

    def words(self, node: Any, nested: bool = False) -> str:
        if isinstance(node, dict) and len(node) == 1:
            ((operator, operands),) = node.items()
            operands = operands if isinstance(operands, list) else [operands]
            described = self._operator(operator, operands, nested)
            if described is not None:
                return described
        return json.dumps(node, ensure_ascii=False)  # no sentence for it: the logic itself

    def _operator(self, operator: str, operands: list[Any], nested: bool) -> str | None:
        if operator in ("and", "or"):
            if len(operands) == 1:
                return self.words(operands[0], nested)
            joiner = f" {self.translate(_AND if operator == 'and' else _OR)} "
            text = joiner.join(self.words(operand, nested=True) for operand in operands)
            return f"({text})" if nested else text
        if operator == "!" and len(operands) == 1:
            inner = operands[0]
            if isinstance(inner, dict) and list(inner) == ["in"]:
                membership = self._membership(inner["in"], negated=True)
                if membership is not None:
                    return membership
            return self.translate(_NOT, condition=self.words(inner))
        if operator == "in" and len(operands) == 2:
            return self._membership(operands, negated=False)
        if operator in _FLIPPED and len(operands) == 2:
            return self._comparison(operator, *operands)
        if operator in _BETWEEN and len(operands) == 3:
            low, middle, high = operands
            subject = _subject_of(middle)
            if subject is not None and _is_literal(low) and _is_literal(high):
                return self.translate(
                    _BETWEEN[operator],
                    subject=self.translate(SUBJECT_WORDS[subject]),
                    low=_value_words(subject, low, self.language, self.translate),
                    high=_value_words(subject, high, self.language, self.translate),
                )
        return None

    def _comparison(self, operator: str, left: Any, right: Any) -> str | None:
        subject = _subject_of(left)
        if subject is not None and _is_literal(right):
            return self.sentence(operator, subject, right)
        subject = _subject_of(right)
        if subject is not None and _is_literal(left):
            return self.sentence(_FLIPPED[operator], subject, left)
        return None

    def _membership(self, operands: list[Any], negated: bool) -> str | None:
        needle, haystack = operands
        subject = _subject_of(needle)
        if subject is not None and isinstance(haystack, list) and _is_literal(haystack):
            return self.sentence("not_in" if negated else "in", subject, haystack)
        subject = _subject_of(haystack)
        if subject == "artisan.programmes" and isinstance(needle, str):
            return self.sentence("has_not" if negated else "has", subject, needle)
        return None


def describe_logic(logic: Any, language: str) -> str:
    """One condition's JsonLogic as a sentence in `language` (fr, ar or en)."""
    return _Describer(language).words(logic)


def describe_conditions(conditions: Any, language: str) -> list[str]:
    """A rule (the stored list of conditions) in plain words, one sentence per condition, in
    `language`; every sentence must hold. An empty list: every holder of a valid card."""
    if not isinstance(conditions, list):
        return []
    describer = _Describer(language)
    return [
        describer.words(condition.get("logic")) if isinstance(condition, dict) else json.dumps(condition)
        for condition in conditions
    ]


def editor_vocabulary(language: str) -> dict[str, Any]:
    """What the condition editor offers, as JSON for the page: the subjects (with their kind,
    operators and values) and operators in `language`, the JsonLogic of the computed subjects,
    and the words of every product language, from which it writes each condition's label."""
    translate = _translator(language if language in LANGUAGES else "fr")
    subjects = []
    for key, kind in _SUBJECT_KINDS:
        subject: dict[str, Any] = {
            "key": key,
            "kind": kind,
            "label": translate(SUBJECT_WORDS[key]),
            "operators": list(_OPERATORS_OF_KIND[kind]),
        }
        if key in _TABLE_WORDS or key in _ENUM_WORDS:
            codes = list(_TABLE_WORDS.get(key) or _ENUM_WORDS[key])
            subject["values"] = [
                {"value": code, "label": _value_words(key, code, language, translate)} for code in codes
            ]
        if kind == "boolean":
            subject["values"] = [{"value": True, "label": translate(_YES)}, {"value": False, "label": translate(_NO)}]
        subjects.append(subject)
    return {
        "subjects": subjects,
        "operators": {operator: translate(words) for operator, words in OPERATOR_WORDS.items()},
        "computed": dict(COMPUTED_SUBJECTS),
        "words": {code: _words_in(code) for code in LANGUAGES},
    }


def _words_in(language: str) -> dict[str, Any]:
    """The sentences, subjects and values of one language, for the labels the editor writes."""
    translate = _translator(language)
    values = {key: {code: names[language] for code, names in table.items()} for key, table in _TABLE_WORDS.items()}
    values |= {key: {code: translate(words) for code, words in table.items()} for key, table in _ENUM_WORDS.items()}
    return {
        "sentences": {operator: translate(sentence) for operator, sentence in SENTENCES.items()},
        "subjects": {key: translate(words) for key, words in SUBJECT_WORDS.items()},
        "values": values,
        "and": translate(_AND),
        "or": translate(_OR),
        "yes": translate(_YES),
        "no": translate(_NO),
    }
