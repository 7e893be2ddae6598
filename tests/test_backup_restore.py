"""The backup drill of docs/operations.md ("Backup and restore"), on PostgreSQL: a `pg_dump -Fc`
restored into a fresh database serves the same cards, the same audit trail (it verifies) and the
same signed status list (the same bits)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.cli.conftest import run
from tests.conftest import TEST_ACTOR, TEST_DATABASE_URL
from webapp import create_app
from webapp.models import RevocationReason, utcnow
from webapp.services.cards import lifecycle as card_service
from webapp.services.trust.signing_keys import load_keyring
from webapp.services.trust.status_list import read_status_list_token

_TOOLS = shutil.which("pg_dump") is not None and shutil.which("pg_restore") is not None
if TEST_DATABASE_URL and not _TOOLS and os.environ.get("REQUIRE_PG_TOOLS"):
    raise RuntimeError("REQUIRE_PG_TOOLS is set (CI) but pg_dump or pg_restore is missing")
pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL or not _TOOLS, reason="PostgreSQL and its client tools (pg_dump, pg_restore) only"
)


def _libpq(url) -> str:
    """The URL as pg_dump and pg_restore take it (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _major(version: str) -> int:
    return int(re.search(r"(\d+)", version).group(1))


def _status_bits(app, client) -> bytes:
    """The statuses of the signed list the app serves, read as a verifier reads them."""
    token = client.get("/statuslists/1").get_data(as_text=True)
    database = app.extensions["database"]
    with database.session_scope() as session:
        keys = load_keyring(session, app.config["KEYS_DIR"]).verifying_keys
    subject = f"{app.config['PUBLIC_BASE_URL']}/statuslists/1"
    return read_status_list_token(token, keys, subject=subject, now=utcnow()).packed


def _verdicts(client, tokens) -> list[str]:
    return [client.post("/api/v1/verify", json={"qr": token}).get_json()["verdict"] for token in tokens]


def test_a_restored_dump_serves_the_same_cards_trail_and_status_list(
    app, app_config, session, client, runner, make_card, tmp_path
):
    """pg_dump, pg_restore into a new database, then: the cards verify with the same verdicts,
    `audit verify` passes with the same events and checkpoint, the status list has the same bits."""
    source = make_url(app_config["DATABASE_URL"])
    engine = create_engine(source, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        server_major = connection.execute(text("SHOW server_version_num")).scalar_one()
    dump_version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, check=True).stdout
    if _major(dump_version) < int(server_major) // 10000:
        pytest.skip(f"{dump_version.strip()} cannot dump a PostgreSQL {int(server_major) // 10000} server")

    cards = [make_card() for _ in range(4)]
    card_service.revoke_card(session, cards[1], RevocationReason.FRAUD, TEST_ACTOR)
    card_service.suspend_card(session, cards[2], "inquiry", TEST_ACTOR)
    session.commit()
    tokens = [card.token for card in cards]
    assert run(runner, "audit", "checkpoint")[0] == 0
    verdicts, bits = _verdicts(client, tokens), _status_bits(app, client)
    code, trail = run(runner, "audit", "verify")
    assert code == 0, trail

    dump = tmp_path / "carte.dump"
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(source)], check=True)
    name = f"carte_restore_{uuid.uuid4().hex[:12]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    restored_url = source.set(database=name)
    restored = None
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(restored_url)}", str(dump)], check=True
        )
        restored = create_app({**app_config, "DATABASE_URL": restored_url.render_as_string(hide_password=False)})
        restored_client = restored.test_client()
        code, restored_trail = run(restored.test_cli_runner(), "audit", "verify")
        assert code == 0, restored_trail
        assert restored_trail.split(";")[0] == trail.split(";")[0]  # same events, same checkpoints
        assert _verdicts(restored_client, tokens) == verdicts == ["valid", "revoked", "suspended", "valid"]
        assert _status_bits(restored, restored_client) == bits
    finally:
        if restored is not None:
            restored.extensions["database"].engine.dispose()
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
