"""An offer's rule in plain words (describe_conditions), in French and Arabic, for each operator the
condition editor writes and for and/or nesting; and the editor's vocabulary."""

from __future__ import annotations

import pytest

from webapp.services.partners.rule_words import (
    COMPUTED_SUBJECTS,
    SENTENCES,
    describe_conditions,
    describe_logic,
    editor_vocabulary,
)
from webapp.services.partners.rules import VARIABLES, parse_rule

NB = "\u00a0"
REGION = {"var": "card.region"}
TRADE = {"var": "card.trade"}
PROGRAMMES = {"var": "artisan.programmes"}
YEARS = COMPUTED_SUBJECTS["years_of_activity"]
FES = {"==": [REGION, "03"]}
TWO_YEARS = {">=": [YEARS, 2]}


def condition(logic: object) -> dict[str, object]:
    return {"label": {"fr": "x", "ar": "x", "en": "x"}, "logic": logic}


@pytest.mark.parametrize(
    ("logic", "french", "arabic"),
    [
        (FES, f"Région{NB}: Fès-Meknès", "الجهة: فاس مكناس"),
        ({"!=": [REGION, "03"]}, f"Région{NB}: autre que Fès-Meknès", "الجهة: غير فاس مكناس"),
        ({"in": [TRADE, ["ZEL", "TAP"]]}, f"Métier{NB}: l’un de Zellige, Tapis", "الحرفة: من بين الزليج, الزرابي"),
        (
            {"!": [{"in": [TRADE, ["POT"]]}]},
            f"Métier{NB}: aucun de Poterie et céramique",
            "الحرفة: ليس من بين الفخار والخزف",
        ),
        (
            {"in": ["WOMEN", PROGRAMMES]},
            "Programmes d’appui comprennent Femmes artisanes",
            "برامج الدعم تشمل الصانعات التقليديات",
        ),
        (
            {"!": [{"in": ["EXPORT", PROGRAMMES]}]},
            "Programmes d’appui ne comprennent pas Accompagnement à l'export",
            "برامج الدعم لا تشمل مواكبة التصدير",
        ),
        (TWO_YEARS, f"Années d’activité{NB}: au moins 2", "سنوات النشاط: 2 على الأقل"),
        ({">": [YEARS, 5]}, f"Années d’activité{NB}: plus de 5", "سنوات النشاط: أكثر من 5"),
        # The spelling of docs/offers.md and the stored (canonical) one read alike.
        (
            {">=": [{"-": [{"year": {"var": "today"}}, {"var": ["artisan.activity_start_year"]}]}, 2]},
            f"Années d’activité{NB}: au moins 2",
            "سنوات النشاط: 2 على الأقل",
        ),
        (
            {"<=": [{"var": "artisan.activity_start_year"}, 2020]},
            f"Année de début d’activité{NB}: au plus 2020",
            "سنة بداية النشاط: 2020 على الأكثر",
        ),
        ({"<": [YEARS, 10]}, f"Années d’activité{NB}: moins de 10", "سنوات النشاط: أقل من 10"),
        (
            {"==": [{"var": "artisan.cnss_status"}, "registered"]},
            f"Situation CNSS-AMO{NB}: Immatriculé à la CNSS",
            "الوضعية في الضمان الاجتماعي والتأمين الصحي: مسجل في الضمان الاجتماعي",
        ),
        (
            {"==": [{"var": "artisan.cooperative_member"}, True]},
            f"Travaille en coopérative{NB}: oui",
            "يعمل في تعاونية: نعم",
        ),
        ({"==": [{"var": "card.status"}, "active"]}, f"État de la carte{NB}: active", "حالة البطاقة: نشطة"),
        # A literal on the left is read the other way round: 2 <= years is "at least 2".
        ({"<=": [2, YEARS]}, f"Années d’activité{NB}: au moins 2", "سنوات النشاط: 2 على الأقل"),
        (
            {"<=": [2015, {"var": "artisan.activity_start_year"}, 2020]},
            f"Année de début d’activité{NB}: de 2015 à 2020",
            "سنة بداية النشاط: من 2015 إلى 2020",
        ),
        ({"!": [FES]}, f"non (Région{NB}: Fès-Meknès)", "ليس (الجهة: فاس مكناس)"),
    ],
)
def test_each_operator_in_french_and_arabic(app, logic, french, arabic):
    """Each comparison, membership and negation reads as a sentence with the values' names."""
    parse_rule([condition(logic)])  # only rules the server accepts are described
    assert describe_conditions([condition(logic)], "fr") == [french]
    assert describe_conditions([condition(logic)], "ar") == [arabic]


def test_and_or_nesting_in_french_and_arabic(app):
    """Groups join their parts with and/or; a group inside a group is in parentheses."""
    logic = {"or": [{"and": [FES, TWO_YEARS]}, {"in": ["WOMEN", PROGRAMMES]}]}
    parse_rule([condition(logic)])
    assert describe_logic(logic, "fr") == (
        f"(Région{NB}: Fès-Meknès et Années d’activité{NB}: au moins 2)"
        " ou Programmes d’appui comprennent Femmes artisanes"
    )
    assert describe_logic(logic, "ar") == (
        "(الجهة: فاس مكناس و سنوات النشاط: 2 على الأقل) أو برامج الدعم تشمل الصانعات التقليديات"
    )
    assert describe_logic({"and": [FES, TWO_YEARS]}, "en") == "Region is Fez-Meknes and Years of activity is at least 2"


def test_one_sentence_per_condition(app):
    """A rule of two conditions gives two sentences, in the rule's order; no condition gives none."""
    assert describe_conditions([condition(FES), condition(TWO_YEARS)], "en") == [
        "Region is Fez-Meknes",
        "Years of activity is at least 2",
    ]
    assert describe_conditions([], "fr") == []


def test_what_has_no_sentence_is_shown_as_its_logic(app):
    """JsonLogic the editor does not write (an if) is shown as it is, never hidden behind a label."""
    logic = {"if": [FES, True, False]}
    parse_rule([condition(logic)])
    assert describe_conditions([condition(logic)], "fr") == [
        '{"if": [{"==": [{"var": "card.region"}, "03"]}, true, false]}'
    ]


def test_dates_read_in_the_language(app):
    """A date literal is written as people read dates in that language."""
    logic = {"<=": [{"var": "today"}, "2026-11-15"]}
    assert describe_logic(logic, "fr") == f"Date du jour{NB}: au plus 15 novembre 2026"
    assert describe_logic(logic, "en") == "Today's date is at most November 15, 2026"


def test_the_vocabulary_offers_only_what_rules_accept(app):
    """Every subject is a variable or a computed amount, every operator has a sentence, every listed
    value is accepted by the rule checker, and the words exist in the three languages."""
    vocabulary = editor_vocabulary("ar")
    for subject in vocabulary["subjects"]:
        assert subject["key"] in VARIABLES or subject["key"] in COMPUTED_SUBJECTS
        assert set(subject["operators"]) <= set(SENTENCES)
        for choice in subject.get("values", []):
            variable = {"var": subject["key"]}
            if subject["kind"] == "list":
                parse_rule([condition({"in": [choice["value"], variable]})])
            elif subject["key"] in VARIABLES:
                parse_rule([condition({"==": [variable, choice["value"]]})])
    assert vocabulary["subjects"][0]["label"] == "الجهة"
    assert set(vocabulary["words"]) == {"fr", "ar", "en"}
    assert vocabulary["words"]["fr"]["values"]["card.region"]["03"] == "Fès-Meknès"
