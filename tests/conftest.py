"""The suite's fixtures live in tests/fixtures/ (app and database, factories, sign-in); this file
loads them and compiles the translation catalogs once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.support import TEST_ACTOR, TEST_DATABASE_URL, TEST_PASSWORD, VALIDITY_YEARS, csrf_token_from

pytest_plugins = [
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.auth",
    "tests.fixtures.audit",
    "tests.fixtures.jobs",
]

__all__ = ["TEST_ACTOR", "TEST_DATABASE_URL", "TEST_PASSWORD", "VALIDITY_YEARS", "csrf_token_from"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the translation catalogs, so a bare `pytest` on a fresh clone sees Arabic and French."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("webapp/translations/*/LC_MESSAGES/messages.po"):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with po_path.with_suffix(".mo").open("wb") as mo_file:
            write_mo(mo_file, catalog)
