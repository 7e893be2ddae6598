"""What each verdict is called and what it means, in the user's language: the one place for these
texts (DESIGN decision 6). The verify API sends the message; pages show the title and message;
offline verifiers fetch them all at once from /verdict-texts.json and cache them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l

from webapp.clock import format_day
from webapp.i18n import LANGUAGES, current_language
from webapp.services.cards.holders import CardVerdict
from webapp.services.cards.numbers import format_card_number
from webapp.services.register.reference_data import region_name, trade_name
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
    # Our code, but cut short or damaged (a bad scan, a link cut in a message): never "forged".
    Verdict.MALFORMED: VerdictText(
        _l("Incomplete code"), _l("The code is incomplete or damaged. Scan it again, or type the card number.")
    ),
    # A live code copied (a screenshot, a photo of the screen) or shown by a phone the card has left.
    Verdict.REPLAYED: VerdictText(
        _l("Copied screen"), _l("This is a copy of an earlier screen: ask the holder to open the card app.")
    ),
}
# How the card was shown (docs/card-token.md section 13): a live code from the holder's phone, or the
# printed card. Pages show it beside a card's verdict.
PRESENTATION_TEXTS: dict[str, VerdictText] = {
    "shown_live": VerdictText(_l("Live code"), _l("Shown live from the holder's phone")),
    "shown_printed": VerdictText(_l("Printed card"), _l("Printed card")),
}
# States a page shows while it has no verdict yet (they are not verdicts of the API).
PAGE_STATES: dict[str, VerdictText] = {
    "pending": VerdictText(_l("Checking the card…"), _l("Checking the card…")),
    "network_error": VerdictText(
        _l("Could not check"), _l("Could not reach the register. Check your connection and try again.")
    ),
    # The verdict page opened with no network and no usable data kept on the phone from a visit.
    "offline": VerdictText(
        _l("No network"),
        _l("Offline, and no data on this phone to check the card. Connect to the internet and open the code again."),
    ),
    # A genuine card whose status an offline verifier cannot check: its data is past the maximum age
    # (or has no usable status list). Never "valid" then (docs/card-token.md rule S5).
    "cannot_confirm": VerdictText(
        _l("Cannot confirm"), _l("Cannot confirm: the data on this phone is too old. Connect to refresh it.")
    ),
}


def presentation_text(presentation: str | None) -> VerdictText | None:
    """The words for "live" or "printed" (None: the token did not verify)."""
    return PRESENTATION_TEXTS.get(f"shown_{presentation}") if presentation else None


def verdict_message(verdict: Verdict) -> str:
    """The verdict's message in the current language."""
    return str(VERDICT_TEXTS[verdict].message)


def texts_in_current_language() -> dict[str, dict[str, str]]:
    """Every verdict and page state: {"valid": {"title": ..., "message": ...}, ...}."""
    return {
        name: {"title": str(text.title), "message": str(text.message)}
        for name, text in (VERDICT_TEXTS | PAGE_STATES | PRESENTATION_TEXTS).items()
    }


def texts_in_every_language() -> dict[str, dict[str, dict[str, str]]]:
    """The same, for each language the product speaks (for verifiers that work offline)."""
    texts = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = texts_in_current_language()
    return texts


# What the date beside a verdict means (the same rule as static/js/lib/verdict-look.js, dateLine):
# a revoked or suspended card is not "valid until" anything, it shows the day of that change.
_EXPIRY_LABELS = {Verdict.VALID: _l("Valid until"), Verdict.EXPIRED: _l("Expired on")}
_CHANGE_LABELS = {Verdict.REVOKED: _l("Revoked on"), Verdict.SUSPENDED: _l("Suspended on")}


def card_face(found: CardVerdict, *, with_photo: bool) -> dict[str, Any]:
    """What the card's face shows, in the reader's language, with its date line; the holder's photo
    for partner staff and a valid card."""
    language = current_language()
    card, artisan = found.card, found.card.artisan
    if found.status_since is not None:
        shown_date, label = found.status_since, _CHANGE_LABELS[found.verdict]
    else:
        shown_date, label = found.expiry_date, _EXPIRY_LABELS.get(found.verdict, _l("Expiry date"))
    values = {
        "name": artisan.name_latin,
        "name_ar": artisan.name_ar,
        "number": format_card_number(card.number),
        "trade": trade_name(artisan.trade_code, language),
        "region": region_name(artisan.region_code, language),
        "date": format_day(shown_date, language),
    }
    photo_url = None
    if with_photo and found.verdict == Verdict.VALID:
        photo_url = url_for("partner.card_holder_photo", number=card.number)
    return {"card_face": values, "date_label": label, "photo_url": photo_url}
