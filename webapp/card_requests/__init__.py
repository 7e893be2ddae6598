"""The artisan's requests about their card (/card/requests, issue 15 part 6): report it lost,
ask for its renewal or a correction of their details, and follow each request's state."""

from webapp.card_requests.views import blueprint

__all__ = ["blueprint"]
