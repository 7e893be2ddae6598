"""One way to write card numbers and days (issue 17, item 13): the Python functions and the Jinja
filters give docs/display-formats.json, as static/js/lib/formats.js does (tests/js/formats.test.mjs)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from flask import render_template_string

from webapp.clock import format_day, format_moment
from webapp.services.cards.numbers import format_card_number, new_card_number, normalize_card_number
from webapp.settings import PROJECT_ROOT

VECTORS = json.loads((PROJECT_ROOT / "docs" / "display-formats.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", VECTORS["card_numbers"], ids=lambda case: case["number"])
def test_card_numbers_are_grouped_alike_in_python_and_jinja(app, case):
    """format_card_number, the card_number filter and the card_number global give the documented grouping."""
    assert format_card_number(case["number"]) == case["shown"]
    with app.test_request_context("/"):
        assert render_template_string("{{ n | card_number }}|{{ card_number(n) }}", n=case["number"]) == (
            f"{case['shown']}|{case['shown']}"
        )


def test_a_grouped_number_copied_from_a_page_is_read_back():
    """The no-break space of the grouping does not stop a pasted number from being read."""
    number = new_card_number()
    assert normalize_card_number(format_card_number(number)) == number


@pytest.mark.parametrize("case", VECTORS["days"], ids=lambda case: f"{case['language']}-{case['day']}")
def test_days_read_alike_in_python_and_jinja(app, case):
    """format_day and the day filter (and Flask-Babel's dateformat, replaced) give Morocco's month names."""
    day = date.fromisoformat(case["day"])
    assert format_day(day, case["language"]) == case["shown"]
    with app.test_request_context(f"/?lang={case['language']}"):
        assert render_template_string("{{ d | day }}|{{ d | dateformat('short') }}", d=day) == (
            f"{case['shown']}|{case['shown']}"
        )


@pytest.mark.parametrize("case", VECTORS["moments"], ids=lambda case: case["language"])
def test_moments_read_alike_in_python_and_jinja(app, case):
    """format_moment and the moment filter give Morocco's wall clock, 24-hour, after the day."""
    moment = datetime.fromisoformat(case["utc"]).astimezone(UTC)
    assert format_moment(moment, case["language"]) == case["shown"]
    with app.test_request_context(f"/?lang={case['language']}"):
        assert render_template_string("{{ m | moment }}", m=moment) == case["shown"]


def test_arabic_months_are_morocco_s_everywhere():
    """دجنبر (ar_MA), never ديسمبر (ar), in every documented Arabic day."""
    shown = [case["shown"] for case in VECTORS["days"] if case["language"] == "ar"]
    assert "7 دجنبر 2026" in shown and not any("ديسمبر" in text for text in shown)
