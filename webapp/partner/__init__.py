"""The partner portal (/partner): managers run their organisation's offers, staff, API keys and
redemptions; counter agents see their own recent redemptions; both check a card by its number.
Partner staff only."""

from webapp.partner import card_check
from webapp.partner.views import blueprint

__all__ = ["blueprint", "card_check"]
