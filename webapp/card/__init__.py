"""The artisan's card app (/card): activation on a phone, and an installable PWA that shows the card
and its live QR, also offline (issue 15, parts 1 to 3)."""

from webapp.card.views import blueprint

__all__ = ["blueprint"]
