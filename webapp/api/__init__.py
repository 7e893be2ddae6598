"""Partner API: JSON, versioned under /api/v1."""

from webapp.api.views import blueprint

__all__ = ["blueprint"]
