"""Flask glue for recording who checked a card (webapp/services/cards/checks.py): which partner the
current principal stands for. The views that verify a card call these after their verdict."""

from __future__ import annotations

from datetime import datetime

from flask_login import current_user

from webapp.access import PARTNER_SYSTEM
from webapp.db import get_session
from webapp.models import PARTNER_ROLES, CheckKind
from webapp.services.cards.checks import Checker, note_check_in

_KINDS = {
    ("scan", True): CheckKind.SYSTEM_SCAN,
    ("scan", False): CheckKind.STAFF_SCAN,
    ("number", True): CheckKind.SYSTEM_NUMBER,
    ("number", False): CheckKind.STAFF_NUMBER,
}


def current_checker(how: str, place: str | None = None) -> Checker | None:
    """The partner checking a card in this request ("scan": a QR code, "number": a typed number), or
    None for anyone else (the public, whose checks are only counted)."""
    if not current_user.is_authenticated:
        return None
    if current_user.role == PARTNER_SYSTEM:
        return Checker(current_user.organisation_id, _KINDS[how, True], place, api_key_id=current_user.api_key_id)
    if current_user.role in PARTNER_ROLES:
        return Checker(current_user.organisation_id, _KINDS[how, False], place, user_id=current_user.id)
    return None


def note_partner_check(number: str, how: str, place: str | None, now: datetime) -> None:
    """Record the current partner's check of a card in the request's transaction (committed with
    it; a failure is logged and never fails the view). Anyone else's check is not recorded here."""
    checker = current_checker(how, place)
    if checker is not None:
        note_check_in(get_session(), number, checker, now)
