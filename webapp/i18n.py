"""Languages: French (default), Arabic (right to left) and English.

The language comes from ?lang= (remembered in a cookie), then the cookie, then Accept-Language.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlencode

from babel import Locale
from flask import Flask, Response, request
from flask_babel import Babel, get_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from webapp.clock import MOROCCO

LANGUAGES = ("fr", "ar", "en")
DEFAULT_LANGUAGE = "fr"
RTL_LANGUAGES = {"ar"}
LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}
COOKIE = "lang"

babel = Babel()
# Parsed once: Flask-Babel would otherwise parse the locale identifier on every request.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def select_language() -> Locale:
    requested = request.args.get("lang")
    if requested in LANGUAGES:
        return _LOCALES[requested]
    remembered = request.cookies.get(COOKIE)
    if remembered in LANGUAGES:
        return _LOCALES[remembered]
    return _language_accepted(request.headers.get("Accept-Language", ""))


# Parsing Accept-Language and matching it cost more than anything else in choosing the language,
# on every API call; phones send few distinct headers, so each one is matched once per worker.
@lru_cache(maxsize=512)
def _language_accepted(accept_language: str) -> Locale:
    """Werkzeug's best match among our languages for an Accept-Language header (French otherwise)."""
    best = parse_accept_header(accept_language, LanguageAccept).best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
    return _LOCALES.get(best or DEFAULT_LANGUAGE, _LOCALES[DEFAULT_LANGUAGE])


def current_language() -> str:
    return str(get_locale() or DEFAULT_LANGUAGE)


def text_direction() -> str:
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def remember_language(response: Response) -> Response:
    requested = request.args.get("lang")
    if requested in LANGUAGES and request.cookies.get(COOKIE) != requested:
        response.set_cookie(COOKIE, requested, max_age=365 * 86400, samesite="Lax", httponly=True)
    return response


def language_url(code: str) -> str:
    """This page in another language: the same path and query (a search, a card number), `lang` set."""
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    return f"{request.path}?{urlencode([*query, ('lang', code)])}"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    # Times are shown as the clock on the wall in Morocco, whatever the server's zone: the zoneinfo
    # zone of the pinned tzdata (webapp/clock.py), never the pytz one BABEL_DEFAULT_TIMEZONE makes.
    babel.init_app(app, locale_selector=select_language, timezone_selector=lambda: MOROCCO)
    app.after_request(remember_language)
    app.context_processor(
        lambda: {
            "current_language": current_language(),
            "text_direction": text_direction(),
            "languages": LANGUAGE_NAMES,
            "language_url": language_url,
        }
    )
