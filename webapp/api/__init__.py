"""Partner API: JSON, versioned under /api/v1, and each offer's signed eligibility list."""

from webapp.api import eligibility_lists
from webapp.api.views import blueprint

__all__ = ["blueprint", "eligibility_lists"]
