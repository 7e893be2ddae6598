"""The signed-in artisan's pages about their card, rendered on the server: what it unlocks
(/card/offers) and who checked it (/card/checks). For the artisan role only."""

from webapp.card_account.views import blueprint

__all__ = ["blueprint"]
