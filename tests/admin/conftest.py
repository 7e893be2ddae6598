"""An administrator signed in on the test client, and a helper to post an admin form with its token."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fixtures.support import csrf_token_from, version_fields_from
from webapp.models import AuditEvent, Role, User


@pytest.fixture
def admin(make_user) -> User:
    return make_user(Role.ADMIN, display_name="Nadia Admin")


@pytest.fixture
def admin_client(client, auth, admin):
    """The test client, signed in as a national administrator."""
    assert auth.login(admin).status_code == 302
    return client


class AdminForms:
    """Posts a form the way a browser does: the CSRF token taken from the page the form is on."""

    def __init__(self, client) -> None:
        self.client = client

    def post(self, page: str, action: str, data: dict[str, Any], language: str = "fr"):
        html = self.client.get(page).get_data(as_text=True)
        sent = {**version_fields_from(html), **data, "csrf_token": csrf_token_from(html)}
        return self.client.post(f"{action}?lang={language}", data=sent)


@pytest.fixture
def forms(admin_client) -> AdminForms:
    return AdminForms(admin_client)


def audit_count(session, action: str | None = None) -> int:
    """Audit events of one action, or of every change (sign-ins and sign-outs, "auth.*", are not changes)."""
    session.expire_all()
    statement = select(func.count()).select_from(AuditEvent)
    if action:
        statement = statement.where(AuditEvent.action == action)
    else:
        statement = statement.where(AuditEvent.action.not_like("auth.%"))
    return session.scalar(statement) or 0
