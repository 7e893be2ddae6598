"""The verifier app (/scan): an installable PWA with which partner staff and anyone else scan a card
with the phone camera and get a verdict, also offline (issue 8, DESIGN decision 5)."""

from webapp.scan.views import blueprint

__all__ = ["blueprint"]
