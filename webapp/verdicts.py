"""What each verdict means, in the user's language (DESIGN decision 6)."""

from __future__ import annotations

from flask_babel import gettext as _

from webapp.services.verification import Verdict


def verdict_message(verdict: Verdict) -> str:
    messages = {
        Verdict.VALID: _("Valid card: this artisan is in the National Register of Handicraft."),
        Verdict.EXPIRED: _("This card has expired. The artisan should renew it at the chamber of handicraft."),
        Verdict.REVOKED: _("This card has been revoked and is no longer valid."),
        Verdict.SUSPENDED: _("This card is currently suspended and is not valid."),
        Verdict.UNKNOWN_KEY: _("This card was signed with a key that is not recognised. Do not accept it."),
        Verdict.BAD_SIGNATURE: _("The signature does not match: this card is forged or altered. Do not accept it."),
        Verdict.NOT_A_CARD: _("This code is not a Carte Artisan."),
        Verdict.MALFORMED: _("No card code could be read. Scan the code again."),
    }
    return messages[verdict]
