"""The portal's preview of a rule being written: how many valid cards it admits today, counted by
groups in the database and evaluated like the eligibility lists (count_admitted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import VALIDITY_YEARS
from tests.services.partners.test_eligibility import SEVERAL_VARIABLES, TWO_YEARS, label
from webapp.models import Card, utcnow
from webapp.services import demo
from webapp.services.cards import lifecycle as card_service
from webapp.services.partners import eligibility
from webapp.services.partners.eligibility import card_facts, count_admitted, eligible_indices
from webapp.services.partners.rules import InvalidRule, parse_rule

FES = {"label": label("Fès-Meknès"), "logic": {"==": [{"var": "card.region"}, "03"]}}
WOMEN = {"label": label("Women artisans"), "logic": {"in": ["WOMEN", {"var": "artisan.programmes"}]}}
NO_PROGRAMME = {"label": label("No programme"), "logic": {"!": [{"var": "artisan.programmes"}]}}
YEARS = {"-": [{"year": {"var": "today"}}, {"var": "artisan.activity_start_year"}]}


def rule(logic: object) -> list[dict[str, object]]:
    return [{"label": label("x"), "logic": logic}]


# What the condition editor writes: counted by one SQL query.
EDITOR_RULES = {
    "region and years": [FES, TWO_YEARS],
    "programme": [WOMEN],
    "not region": rule({"!=": [{"var": "card.region"}, "03"]}),
    "trades": rule({"in": [{"var": "card.trade"}, ["ZEL", "TAP", "POT"]]}),
    "not sectors": rule({"!": [{"in": [{"var": "card.sector"}, ["ART"]]}]}),
    "not a programme": rule({"!": [{"in": ["EXCELLENCE", {"var": "artisan.programmes"}]}]}),
    "cnss": rule({"in": [{"var": "artisan.cnss_status"}, ["registered", "pre_registered"]]}),
    "legal status": rule({"!=": [{"var": "artisan.legal_status"}, "company"]}),
    "years below": rule({"<": [YEARS, 10]}),
    "started": rule({"<=": [2015, {"var": "artisan.activity_start_year"}]}),
    "or of and": rule(
        {
            "or": [
                {"and": [{"==": [{"var": "artisan.gender"}, "female"]}, {">": [YEARS, 3]}]},
                {"in": ["WOMEN", {"var": "artisan.programmes"}]},
            ]
        }
    ),
}
RULES = {
    **EDITOR_RULES,
    "empty": [],
    "no programme": [NO_PROGRAMME],
    "several variables": SEVERAL_VARIABLES,
    "today": [{"label": label("Before 2100"), "logic": {"<=": [{"var": "today"}, "2100-01-01"]}}],
}


@pytest.fixture
def register(session, signer):
    """The demo seed (240 artisans, one card revoked, one suspended, one expired), a few cards near
    their expiry so that conditions on dates vary too."""
    demo.seed(session, signer, artisan_count=240, validity_years=VALIDITY_YEARS)
    cards = session.scalars(select(Card).order_by(Card.status_index)).all()
    for card in cards[::9]:
        if card_service.card_state(card) == "active":
            card.expires_at = utcnow() + timedelta(days=10)
    session.commit()
    return cards


@pytest.mark.parametrize("name", RULES)
def test_the_count_is_the_cards_whose_facts_pass_the_rule(session, register, make_offer, monkeypatch, name):
    """The count equals, card by card, the valid cards whose facts the rule holds for; an applying
    offer with the rule (no withdrawal) has exactly as many cards in its eligibility list; and what
    the condition editor writes is counted by one SQL query, never by the slower grouped evaluation."""
    conditions, now = RULES[name], utcnow()
    rule = parse_rule(conditions)
    valid = [card for card in register if card_service.card_state(card, now) == "active"]
    expected = sum(rule.holds(card_facts(session, card, now)) for card in valid)
    if name in EDITOR_RULES:

        def refuse(*_arguments):
            raise AssertionError("counted by groups")

        monkeypatch.setattr(eligibility, "_count_by_groups", refuse)
    counted = count_admitted(session, conditions, now)
    assert counted.admitted == expected
    assert counted.valid_cards == len(valid) == len(register) - 3  # revoked, suspended, expired
    assert counted.admitted == len(eligible_indices(session, make_offer(conditions=conditions), now))


def test_the_demo_register_makes_the_counts_differ(session, register):
    """The rules under test admit different, non-trivial numbers of cards (the check means something)."""
    counts = {name: count_admitted(session, conditions).admitted for name, conditions in RULES.items()}
    assert 0 < counts["region and years"] < counts["empty"]
    assert 0 < counts["programme"] < counts["empty"]
    assert counts["programme"] + counts["no programme"] <= counts["empty"]


@pytest.mark.parametrize(
    ("conditions", "reason"),
    [
        ({"==": [1, 1]}, "malformed"),
        ([{"label": label("x"), "logic": {"==": [{"var": "artisan.salary"}, 1]}}], "unknown_variable"),
        ([{"label": label("x"), "logic": {"==": [{"var": "card.region"}, "3"]}}], "bad_value"),
        ([{"label": label("x"), "logic": {"map": [[1], True]}}], "unknown_operator"),
        ([{"label": {"fr": "x"}, "logic": True}], "bad_label"),
    ],
)
def test_a_rule_that_cannot_be_saved_is_refused_with_its_reason(session, conditions, reason):
    """The preview checks the rule as saving would, and says why it is refused."""
    with pytest.raises(InvalidRule) as refused:
        count_admitted(session, conditions)
    assert refused.value.reason == reason
