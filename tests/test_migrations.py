"""Alembic: `upgrade head` builds exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.conftest import TEST_DATABASE_URL
from webapp.migrations import upgrade_database
from webapp.models import Base


@pytest.fixture
def empty_database_url(tmp_path):
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    # A separate schema, so the shared test schema stays as it is.
    engine = create_engine(TEST_DATABASE_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    engine.dispose()
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3Dmigration_check"


def test_upgrade_head_matches_the_models(empty_database_url):
    """No difference between the migrated database and the models (tables, columns, types, indexes)."""
    upgrade_database(empty_database_url)
    engine = create_engine(empty_database_url)
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"artisan", "card", "signing_key", "status_list", "audit_event", "user_account", "region"} <= tables


def test_upgrade_is_repeatable(empty_database_url):
    """Running the migrations twice changes nothing and does not fail."""
    upgrade_database(empty_database_url)
    upgrade_database(empty_database_url)
