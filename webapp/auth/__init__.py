"""Sign in and out; the signed-in user's account page."""

from webapp.auth.views import blueprint

__all__ = ["blueprint"]
