"""What each verdict means, in the user's language (DESIGN decision 6)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from webapp.services.verification import Verdict

# Lazy: only the one message a response needs is translated (the verify API's hot path).
_MESSAGES = {
    Verdict.VALID: _l("Valid card: this artisan is in the National Register of Handicraft."),
    Verdict.EXPIRED: _l("This card has expired. The artisan should renew it at the chamber of handicraft."),
    Verdict.REVOKED: _l("This card has been revoked and is no longer valid."),
    Verdict.SUSPENDED: _l("This card is currently suspended and is not valid."),
    Verdict.UNKNOWN_KEY: _l("This card was signed with a key that is not recognised. Do not accept it."),
    Verdict.BAD_SIGNATURE: _l("The signature does not match: this card is forged or altered. Do not accept it."),
    Verdict.NOT_A_CARD: _l("This code is not a Carte Artisan."),
    Verdict.MALFORMED: _l("No card code could be read. Scan the code again."),
}


def verdict_message(verdict: Verdict) -> str:
    return str(_MESSAGES[verdict])
