"""Partner API: JSON, versioned under /api/v1 (verify, redemptions, eligibility, the trust bundle);
each offer's signed eligibility list; the OpenAPI document and its docs page (webapp/api/docs.py)."""

from webapp.api import bundle
from webapp.api.docs import blueprint as docs_blueprint
from webapp.api.eligibility_lists import blueprint as eligibility_lists_blueprint
from webapp.api.views import blueprint

__all__ = ["blueprint", "bundle", "docs_blueprint", "eligibility_lists_blueprint"]
