"""Partner API: JSON, versioned under /api/v1; its OpenAPI document and docs page (webapp/api/docs.py)."""

from webapp.api.docs import blueprint as docs_blueprint
from webapp.api.views import blueprint

__all__ = ["blueprint", "docs_blueprint"]
