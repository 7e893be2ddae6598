"""How templates write dates, times and card numbers: one filter each, the same on every screen.

    {{ moment | day }}        7 décembre 2026 · 7 دجنبر 2026 (the day in Morocco)
    {{ moment | moment }}     7 décembre 2026, 11:29 · 7 دجنبر 2026، 11:29 (Morocco's wall clock)
    {{ day | month }}         décembre 2026
    {{ number | card_number }} or card_number(number): K7M2Q 9XH4T (a no-break space)

Flask-Babel's own `dateformat` and `datetimeformat` filters are replaced by `day` and `moment` (their
format argument is accepted and not used: one date format everywhere), so no screen formats a date
with `ar`'s month names or with pytz's Morocco. The formatting itself is in webapp/clock.py.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask

from webapp import clock
from webapp.i18n import current_language
from webapp.services.cards.numbers import format_card_number


def day(value: date | datetime) -> str:
    return clock.format_day(value, current_language())


def moment(value: datetime) -> str:
    return clock.format_moment(value, current_language())


def month(value: date | datetime) -> str:
    return clock.format_month(value, current_language())


def isolate(text: str) -> str:
    """A name, number or address inside a sentence, isolated (FSI ... PDI) so that a Latin value in
    an Arabic sentence, or an Arabic one in a French sentence, keeps the sentence's order and its
    parentheses where they belong ("حساب Amina (amina@example.ma) جاهز")."""
    return f"\u2068{text}\u2069"


def init_app(app: Flask) -> None:
    filters = app.jinja_env.filters
    filters["day"] = day
    filters["moment"] = moment
    filters["month"] = month
    filters["dateformat"] = lambda value, _format=None: day(value)
    filters["datetimeformat"] = lambda value, _format=None: moment(value)
    filters["card_number"] = format_card_number
    filters["isolate"] = isolate
    app.jinja_env.globals["card_number"] = format_card_number
