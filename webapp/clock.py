"""The one clock: Morocco's time zone, read from the pinned `tzdata` package, and how dates read.

Morocco changes its clock by decree (Ramadan, and since 2026 no longer UTC+1 all year): the
system's /usr/share/zoneinfo of an older Debian and the `tzdata` pinned in requirements.txt can
disagree by an hour. Every date and time the app shows, exports or signs comes from MOROCCO below,
built from the pinned package whatever the machine has; `use_pinned_tzdata()` (create_app, so also
the CLI and the job workers) makes any other ZoneInfo read the same package. Babel and Flask-Babel
get these zoneinfo objects, never pytz's (webapp/formats.py).

No Flask here: services import MOROCCO and the formatting functions.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_time

MOROCCO_KEY = "Africa/Casablanca"

# Dates in Morocco's usage. Arabic: ar_MA's month names, as the Moroccan administration writes them
# (يناير... ماي، يونيو، يوليوز، غشت، شتنبر، أكتوبر، نونبر، دجنبر), not ar's (ديسمبر), and Latin digits;
# French and English of Morocco and Britain (day month year, 24-hour clock). The browser uses the same
# locales (static/js/lib/formats.js).
DATE_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}
# One date format on every screen: the day with the month in words; a moment adds hours and minutes.
DAY_PATTERN = "long"
TIME_PATTERN = "HH:mm"


def pinned_zone(key: str) -> zoneinfo.ZoneInfo:
    """The zone `key` from the pinned `tzdata` package, never from the system's files."""
    with resources.files("tzdata.zoneinfo").joinpath(*key.split("/")).open("rb") as data:
        return zoneinfo.ZoneInfo.from_file(data, key=key)


MOROCCO = pinned_zone(MOROCCO_KEY)


def use_pinned_tzdata() -> None:
    """Make every ZoneInfo(key) read the pinned `tzdata` package only (the system's files are
    skipped), and forget zones already read from them."""
    zoneinfo.reset_tzpath([])
    zoneinfo.ZoneInfo.clear_cache()


def in_morocco(moment: datetime) -> datetime:
    """An aware moment on Morocco's wall clock."""
    return moment.astimezone(MOROCCO)


def morocco_day(value: date | datetime) -> date:
    """The day in Morocco of a moment (a date is already one)."""
    return in_morocco(value).date() if isinstance(value, datetime) else value


def _locale(language: str) -> Locale:
    return Locale.parse(DATE_LOCALES.get(language, language))


def format_day(value: date | datetime, language: str) -> str:
    """'7 décembre 2026', '7 دجنبر 2026', '7 December 2026': a day (a moment's day in Morocco)."""
    return format_date(morocco_day(value), DAY_PATTERN, locale=_locale(language))


def format_moment(moment: datetime, language: str) -> str:
    """'7 décembre 2026, 11:29', '7 دجنبر 2026، 11:29': a moment on Morocco's wall clock."""
    locale = _locale(language)
    local = in_morocco(moment)
    day = format_date(local.date(), DAY_PATTERN, locale=locale)
    clock = format_time(local.time(), TIME_PATTERN, locale=locale)
    return str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)


def format_month(value: date | datetime, language: str) -> str:
    """'décembre 2026', 'دجنبر 2026': a month (chart labels, monthly lists)."""
    return format_date(morocco_day(value), "MMMM y", locale=_locale(language))


def export_moment(moment: datetime) -> str:
    """A moment in an export (CSV, XLSX): Morocco's wall clock, ISO 8601 to the minute, sortable."""
    return in_morocco(moment).strftime("%Y-%m-%d %H:%M")


def export_day(value: date | datetime) -> str:
    """A day in an export: ISO 8601."""
    return morocco_day(value).isoformat()
