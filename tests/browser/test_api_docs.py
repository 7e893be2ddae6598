"""The API docs page in a real browser, on a 360 px phone: Swagger UI (vendored) renders our OpenAPI
document under the strict CSP, in French and in Arabic, with nothing fetched from another origin.
Screenshots go to tests/artifacts/ (git-ignored; CI keeps them)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageProblems
from webapp.security import CONTENT_SECURITY_POLICY
from webapp.settings import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
PHONE_WIDTH = 360


@pytest.mark.parametrize(("language", "title"), [("fr", "Documentation de l'API"), ("ar", "توثيق واجهة البرمجة (API)")])
def test_the_docs_page_renders_the_reference_at_phone_width(
    live_server: str, page: Any, page_problems: PageProblems, foreign_requests: list[str], language: str, title: str
) -> None:
    """Every documented operation shows and opens; no CSP violation, error, foreign request or sideways scroll."""
    response = page.goto(f"{live_server}/api/docs?lang={language}")
    assert response is not None and response.ok
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY

    expect(page.locator("main > h1")).to_have_text(title)
    verify = page.locator("#operations-Verification-verify")
    expect(verify).to_be_visible()
    paths = page.request.get(f"{live_server}/api/v1/openapi.json").json()["paths"]
    for operations in paths.values():
        for operation in operations.values():
            tag = operation["tags"][0].replace(" ", "_")
            expect(page.locator(f"#operations-{tag}-{operation['operationId']}")).to_be_visible()
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Carte Artisan API")
    verify.locator(".opblock-summary-control").click()
    for status in ("200", "400", "413", "429"):
        expect(verify.locator(f'tr.response[data-code="{status}"]')).to_be_visible()

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"api-docs-{language}.png"), full_page=True)
    assert foreign_requests == []
    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.page_errors == [] and page_problems.console_errors == []
