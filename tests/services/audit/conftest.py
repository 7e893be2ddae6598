"""Audit trail fixtures: what an attacker with the database owner's rights can do (drop the
append-only triggers, then write), and a check of the whole trail."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from webapp.models.audit import APPEND_ONLY_TABLES
from webapp.services.audit.checkpoints import checkpoint_keys
from webapp.services.audit.verify import TrailReport, verify_trail


def drop_append_only_triggers(session: Session) -> None:
    """As the database's owner may: the triggers go, UPDATE and DELETE pass (the chain must tell)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY_TABLES:
        if postgresql:
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))
        else:
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            session.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


@pytest.fixture
def tamper(session):
    """Run SQL on the trail as an attacker with owner rights: triggers dropped, then the statement, committed."""

    def run(statement: str, **params) -> None:
        drop_append_only_triggers(session)
        session.execute(text(statement), params)
        session.commit()

    return run


@pytest.fixture
def check_trail(app, session):
    """Verify the whole trail as `audit verify` does; the report."""

    def check() -> TrailReport:
        session.commit()
        keys = checkpoint_keys(session, app.config["KEYS_DIR"])
        with session.bind.connect() as connection:
            return verify_trail(connection, keys, batch=2)  # small batches: several partitions in tests

    return check
