"""Public audience: the verdict page anyone's camera opens, and the trust material (JWKS, status list)."""

from webapp.public.views import blueprint

__all__ = ["blueprint"]
