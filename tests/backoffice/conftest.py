"""Back-office fixtures: an officer of Fès-Meknès (03) and an administrator, a client signed in as
each, and a helper that posts a form with the CSRF token of the page it is on."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.fixtures.auth import AuthActions
from tests.fixtures.support import csrf_token_from
from webapp.models import Role, User

OFFICER_REGION = "03"


@pytest.fixture
def officer(make_user) -> User:
    return make_user(Role.OFFICER, region=OFFICER_REGION, display_name="Samira Officer")


@pytest.fixture
def admin(make_user) -> User:
    return make_user(Role.ADMIN, display_name="Nadia Admin")


class Staff:
    """A test client signed in as a member of staff, posting forms as a browser does."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def get(self, url: str, language: str = "fr") -> TestResponse:
        separator = "&" if "?" in url else "?"
        return self.client.get(f"{url}{separator}lang={language}")

    def post(self, page: str, data: dict[str, Any], action: str | None = None, language: str = "fr") -> TestResponse:
        """Post `data` to `action` (the page itself unless given) with the session's CSRF token, as
        the page's form would (a page that refuses the action has no form of its own)."""
        token = csrf_token_from(self.client.get("/account").get_data(as_text=True))
        return self.client.post(f"{action or page}?lang={language}", data={**data, "csrf_token": token})


@pytest.fixture
def as_officer(app, officer) -> Staff:
    client = app.test_client()
    assert AuthActions(client).login(officer).status_code == 302
    return Staff(client)


@pytest.fixture
def as_admin(app, admin) -> Staff:
    client = app.test_client()
    assert AuthActions(client).login(admin).status_code == 302
    return Staff(client)
