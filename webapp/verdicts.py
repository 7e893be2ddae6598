"""What each verdict is called and what it means, in the user's language: the one place for these
texts (DESIGN decision 6). The verify API sends the message; pages show the title and message;
offline verifiers fetch them all at once from /verdict-texts.json and cache them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l

from webapp.i18n import LANGUAGES
from webapp.services.verification import Verdict


@dataclass(frozen=True)
class VerdictText:
    title: LazyString
    message: LazyString


# Lazy: only the one message a response needs is translated (the verify API's hot path).
VERDICT_TEXTS: dict[str, VerdictText] = {
    Verdict.VALID: VerdictText(_l("Valid"), _l("Valid card: this artisan is in the National Register of Handicraft.")),
    Verdict.EXPIRED: VerdictText(
        _l("Expired"), _l("This card has expired. The artisan should renew it at the chamber of handicraft.")
    ),
    Verdict.REVOKED: VerdictText(_l("Revoked"), _l("This card has been revoked and is no longer valid.")),
    Verdict.SUSPENDED: VerdictText(_l("Suspended"), _l("This card is currently suspended and is not valid.")),
    Verdict.UNKNOWN_KEY: VerdictText(
        _l("Unknown signing key"), _l("This card was signed with a key that is not recognised. Do not accept it.")
    ),
    Verdict.BAD_SIGNATURE: VerdictText(
        _l("Bad signature"), _l("The signature does not match: this card is forged or altered. Do not accept it.")
    ),
    Verdict.NOT_A_CARD: VerdictText(_l("Not an artisan card"), _l("This code is not a Carte Artisan.")),
    Verdict.MALFORMED: VerdictText(_l("No code read"), _l("No card code could be read. Scan the code again.")),
}
# States a page shows while it has no verdict yet (they are not verdicts of the API).
PAGE_STATES: dict[str, VerdictText] = {
    "pending": VerdictText(_l("Checking the card…"), _l("Checking the card…")),
    "network_error": VerdictText(
        _l("Could not check"), _l("Could not reach the register. Check your connection and try again.")
    ),
    # A genuine card whose status an offline verifier cannot check: its data is past the maximum age
    # (or has no usable status list). Never "valid" then (docs/card-token.md rule S5).
    "cannot_confirm": VerdictText(
        _l("Cannot confirm"), _l("Cannot confirm: the data on this phone is too old. Connect to refresh it.")
    ),
}


def verdict_message(verdict: Verdict) -> str:
    """The verdict's message in the current language."""
    return str(VERDICT_TEXTS[verdict].message)


def texts_in_current_language() -> dict[str, dict[str, str]]:
    """Every verdict and page state: {"valid": {"title": ..., "message": ...}, ...}."""
    return {
        name: {"title": str(text.title), "message": str(text.message)}
        for name, text in (VERDICT_TEXTS | PAGE_STATES).items()
    }


def texts_in_every_language() -> dict[str, dict[str, dict[str, str]]]:
    """The same, for each language the product speaks (for verifiers that work offline)."""
    texts = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = texts_in_current_language()
    return texts
