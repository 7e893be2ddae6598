"""Staff sign in and submit a form over HTTPS, with the app served as production serves it:
gunicorn (config/gunicorn.conf.py, wsgi:app) with a self-signed certificate, CARTE_ENV=production,
secure cookies, Redis for the limits. Under HTTPS, Flask-WTF also checks each form post's Referer
(same origin): with `Referrer-Policy: no-referrer` the browser sent none and every form answered 400."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.fixtures.production import (
    Gunicorn,
    free_port,
    production_environment,
    self_signed_certificate,
    shared_redis,
)
from tests.fixtures.support import TEST_PASSWORD
from webapp.models import Role


@pytest.fixture
def https_server(app: Any, app_config: dict[str, Any], signer: Any, tmp_path: Path) -> Iterator[str]:
    """The test database (prepared by the fixtures: schema, reference data, a signing key in a tmp
    KEYS_DIR) served by gunicorn over HTTPS in production mode; yields its base URL."""
    redis = shared_redis()
    if redis is None:
        message = "no Redis at TEST_REDIS_URL or 127.0.0.1:6379: production mode needs one"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    port = free_port()
    base_url = f"https://127.0.0.1:{port}"
    cert, key = self_signed_certificate(tmp_path / "tls")
    environment = production_environment(
        database_url=app_config["DATABASE_URL"],
        keys_dir=Path(app_config["KEYS_DIR"]),
        public_base_url=base_url,
        redis=redis,
        work_dir=tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_ACCESSLOG="",
    )
    server = Gunicorn(
        "gunicorn",
        environment,
        tmp_path / "gunicorn.log",
        "--certfile",
        str(cert),
        "--keyfile",
        str(key),
        "--control-socket",
        str(tmp_path / "gunicorn.ctl"),
    )
    try:
        server.wait_until_ready(f"{base_url}/healthz")
        yield base_url
    finally:
        server.stop()
        redis.forget()


def test_an_officer_signs_in_and_corrects_an_artisan_over_https(
    https_server: str, https_page: Any, make_user: Any, make_artisan: Any, session: Any
) -> None:
    """Sign in (POST /login) then save a corrected phone number (POST .../edit): both succeed."""
    officer = make_user(Role.OFFICER, region="03")
    artisan = make_artisan(region_code="03")
    session.commit()
    page = https_page

    page.goto(f"{https_server}/login?next=/office/artisans/{artisan.id}/edit")
    page.fill("#email", officer.email)
    page.fill("#password", TEST_PASSWORD)
    assert submit(page) == 302, "the sign-in form was refused"
    expect(page).to_have_url(f"{https_server}/office/artisans/{artisan.id}/edit")

    page.fill("#phone", "06 61 22 33 44")
    assert submit(page) == 302, "the artisan form was refused"
    expect(page).to_have_url(f"{https_server}/office/artisans/{artisan.id}")
    expect(page.locator(".flash-success")).to_be_visible()
    session.expire_all()
    assert session.get(type(artisan), artisan.id).phone == "+212661223344"


def submit(page: Any) -> int:
    """Click the page's submit button; the status of the form post it sends."""
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("main button[type=submit]")
    return answer.value.status
