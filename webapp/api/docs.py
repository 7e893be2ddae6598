"""The partner API's description: the OpenAPI document and a page that renders it for people.

Its own blueprint under /api (the API blueprint is under /api/v1), both views public: a partner's
developer reads them before having a key.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from webapp.access import public
from webapp.api.openapi import openapi_document
from webapp.settings import current_settings

blueprint = Blueprint("api_docs", __name__, url_prefix="/api")

# The document changes only with a deployment: an hour in caches, revalidated by ETag after that.
OPENAPI_MAX_AGE_SECONDS = 3600


@blueprint.get("/v1/openapi.json")
@public
def openapi_json() -> Response:
    """The OpenAPI 3.1 document, cacheable by anyone and readable from any origin (API tools)."""
    body = json.dumps(openapi_document(current_settings()), ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response = response.make_conditional(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.cache_control.public = True
    response.cache_control.max_age = OPENAPI_MAX_AGE_SECONDS
    return response


@blueprint.get("/docs")
@public
def docs_page() -> str:
    """The API reference for people: the vendored Swagger UI renders the document of openapi_json.
    Served under the strict CSP as it is: Swagger UI needs no inline script or style."""
    return render_template("api/docs.html")
