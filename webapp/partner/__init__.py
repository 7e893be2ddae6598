"""The partner portal (/partner): managers run their organisation's offers, staff, API keys and
redemptions; counter agents see their own recent redemptions. Partner staff only."""

from webapp.partner.views import blueprint

__all__ = ["blueprint"]
