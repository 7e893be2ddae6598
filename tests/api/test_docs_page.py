"""/api/docs: a public page that renders the OpenAPI document with the vendored Swagger UI, under the
same strict CSP as every page (Swagger UI needs no widening), in the reader's language."""

import re

import pytest

from webapp.security import CONTENT_SECURITY_POLICY

SCRIPT_TAGS = re.compile(r"<script\b[^>]*>")


@pytest.mark.parametrize(
    ("language", "title", "direction"),
    [
        ("fr", "Documentation de l'API", "ltr"),
        ("ar", "توثيق واجهة البرمجة (API)", "rtl"),
        ("en", "API documentation", "ltr"),
    ],
)
def test_the_docs_page_is_public_and_translated(client, language, title, direction):
    """Anyone can open it, in French, Arabic (right to left) or English."""
    response = client.get(f"/api/docs?lang={language}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert f"<h1>{title}</h1>" in page
    assert f'<html lang="{language}" dir="{direction}">' in page


def test_the_docs_page_loads_the_vendored_viewer_and_our_document(client):
    """The viewer and its stylesheet come from static/vendor/, the document from /api/v1/openapi.json."""
    page = client.get("/api/docs").get_data(as_text=True)
    assert '<script src="/static/vendor/swagger-ui-dist/swagger-ui-bundle.js" defer></script>' in page
    assert '<script type="module" src="/static/js/api-docs.js"></script>' in page
    assert 'href="/static/vendor/swagger-ui-dist/swagger-ui.css"' in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page


def test_the_docs_page_keeps_the_strict_csp_and_has_no_inline_script(client):
    """No widening of the CSP on this page, and every script tag loads a file from our server."""
    response = client.get("/api/docs")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    scripts = SCRIPT_TAGS.findall(response.get_data(as_text=True))
    assert len(scripts) == 2 and all('src="/static/' in tag for tag in scripts)


@pytest.mark.parametrize("path", ["/static/vendor/swagger-ui-dist/swagger-ui-bundle.js", "/static/js/api-docs.js"])
def test_the_docs_page_scripts_are_served(client, path):
    """What the page loads exists (a missing `make vendor` copy would leave a blank page)."""
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    response.close()
