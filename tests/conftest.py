"""Fixtures: an app on a fresh database per test (SQLite, or PostgreSQL when TEST_DATABASE_URL
is set), a signing key in a temporary keys folder, and factories for artisans and cards."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from webapp import create_app
from webapp.models import Artisan, Base, Card, CnssStatus, Gender, LegalStatus
from webapp.services.audit import Actor
from webapp.services.cards import lifecycle as card_service
from webapp.services.register.reference_data import prepare_reference_data
from webapp.services.trust import signing_keys
from webapp.services.trust.signing_keys import Signer

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_ACTOR = Actor("test:officer")
VALIDITY_YEARS = 5


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str | None]:
    """On PostgreSQL, build the schema once per run; each test then empties the tables."""
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = create_engine(TEST_DATABASE_URL)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    Base.metadata.create_all(engine)
    engine.dispose()
    yield TEST_DATABASE_URL


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path, postgres_schema: str | None) -> str:
    if postgres_schema:
        _empty_postgres(postgres_schema)
        return postgres_schema
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app_config(tmp_path: Path, database_url: str) -> dict[str, Any]:
    """Settings of the test app; tests may change them before `app` is built."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "DATABASE_URL": database_url,
        "KEYS_DIR": str(tmp_path / "keys"),
        "PUBLIC_BASE_URL": "https://carte.test",
        "RATELIMIT_ENABLED": False,
        "KEYRING_REFRESH_SECONDS": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    database = app.extensions["database"]
    if not TEST_DATABASE_URL:
        database.create_all()
    with database.session_scope() as session:
        prepare_reference_data(session)
    yield app
    database.engine.dispose()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session for arranging and inspecting data; tests commit what the app must see.

    No app context stays pushed: each test request must get its own, as in production.
    """
    session = app.extensions["database"].session_factory()
    yield session
    session.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def signer(app: Flask, session: Session) -> Signer:
    """An active ES256 key, written to the test keys folder and committed."""
    signing_keys.generate_key(session, app.config["KEYS_DIR"], TEST_ACTOR)
    session.commit()
    return signing_keys.load_keyring(session, app.config["KEYS_DIR"]).require_signer()


_serials = itertools.count(1)


@pytest.fixture
def make_artisan(session: Session):
    """Factory: an artisan with plausible defaults; keyword arguments override any column."""

    def make(**overrides: Any) -> Artisan:
        serial = next(_serials)
        values: dict[str, Any] = {
            "rna_number": f"RNA-T-{serial:07d}",
            "cin": f"TT{serial:06d}",
            "first_name_latin": "Khadija",
            "last_name_latin": "Bennani",
            "first_name_ar": "خديجة",
            "last_name_ar": "بناني",
            "birth_date": date(1980, 5, 17),
            "gender": Gender.FEMALE,
            "region_code": "03",
            "province": "Fès",
            "trade_code": "ZEL",
            "legal_status": LegalStatus.INDEPENDENT,
            "cnss_status": CnssStatus.REGISTERED,
            "activity_start_year": 2001,
        }
        values.update(overrides)
        artisan = Artisan(**values)
        session.add(artisan)
        session.flush()
        return artisan

    return make


@pytest.fixture
def make_card(session: Session, signer: Signer, make_artisan):
    """Factory: a committed, freshly issued card (for a new artisan unless one is given)."""

    def make(artisan: Artisan | None = None, **issue_options: Any) -> Card:
        card = card_service.issue_card(
            session, artisan or make_artisan(), signer, TEST_ACTOR, validity_years=VALIDITY_YEARS, **issue_options
        )
        session.commit()
        return card

    return make


CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the translation catalogs, so a bare `pytest` on a fresh clone sees Arabic and French."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("webapp/translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)
