"""Browser fixtures: the test app on a live local server, Debian's Chromium through Playwright,
and a phone-sized page (360 x 740, touch) per test. Every test here is marked `browser`."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# When the browser drops a connection (a page left, the network cut by a test) while Werkzeug's test
# server streams a static file, the server leaves that file to the garbage collector. That is the
# test server's business, not the app's: only these warnings, about files under static/, are ignored.
DROPPED_STATIC_FILE = (
    "ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning",
    "ignore:Exception ignored in. <_io.FileIO name='[^']*/static/:pytest.PytestUnraisableExceptionWarning",
)
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)
            for spec in DROPPED_STATIC_FILE:
                item.add_marker(pytest.mark.filterwarnings(spec))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_port() -> int:
    return _free_port()


@pytest.fixture
def app_config(app_config: dict[str, Any], live_port: int) -> dict[str, Any]:
    """The shared settings, with PUBLIC_BASE_URL set to the live server, so QR texts point at it."""
    app_config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{live_port}"
    return app_config


@pytest.fixture
def live_server(app: Flask, live_port: int) -> Iterator[str]:
    """The test app served on 127.0.0.1 in a background thread; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", live_port, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{live_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the whole run (never a downloaded Playwright build)."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(str(CHROMIUM)):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium); browser tests need it"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def locale() -> str:
    """The browser's language (Accept-Language and navigator.language); override per test."""
    return "fr-MA"


# Runs before any page script (injected by the browser, so the page's CSP does not apply to it).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`);
});
"""


class PageProblems:
    """What went wrong in a page: console errors, uncaught exceptions, failed requests."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if url.endswith("/favicon.ico"):
            return  # the browser's own favicon probe; not the page's doing
        self.console_errors.append(f"{message.text} ({url})" if url else message.text)

    def on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, locale: str, page_problems: PageProblems) -> Iterator[Any]:
    """A fresh phone-sized context and page; console errors, page errors and CSP violations are
    collected (see `assert_no_page_problems` in the tests)."""
    context = browser.new_context(locale=locale, **PHONE)
    context.set_default_timeout(10_000)
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.on("console", page_problems.on_console)
    page.on("pageerror", page_problems.on_page_error)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def foreign_requests(page: Any, live_server: str) -> list[str]:
    """Every request the page makes outside the live server's origin is aborted and listed here: a
    test asserts the list is empty (nothing may come from a CDN, DESIGN decision 10)."""
    origin = f"{live_server}/"
    blocked: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(origin):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.context.route("**/*", guard)
    return blocked


@pytest.fixture
def https_page(browser: Any) -> Iterator[Any]:
    """A desktop page that accepts our self-signed certificate (the production-mode tests over HTTPS)."""
    context = browser.new_context(ignore_https_errors=True, locale="fr-MA")
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
