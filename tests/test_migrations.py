"""Alembic: `upgrade head` builds exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.conftest import TEST_DATABASE_URL
from webapp.migrations import upgrade_database
from webapp.models import Base
from webapp.models.search_index import include_name


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
        # include_name leaves out the search index's own objects and nothing else: SQLite's FTS5
        # table and its shadow tables, PostgreSQL's GIN index over an expression. Neither can be a
        # declarative model (webapp/models/search_index.py); test_0006_... below checks them.
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        differences = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert differences == []
    assert {"artisan", "card", "signing_key", "status_list", "audit_event", "user_account", "region"} <= tables


def test_upgrade_is_repeatable(empty_database_url):
    """Running the migrations twice changes nothing and does not fail."""
    upgrade_database(empty_database_url)
    upgrade_database(empty_database_url)


def test_0003_reads_revocation_reasons_and_published_keys_from_existing_data(empty_database_url):
    """Revision 0003 fills revocation_reason from the text reason, and marks never-rotated keys published."""
    upgrade_database(empty_database_url, "0002")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO region VALUES ('03', 'Fès-Meknès', 'فاس مكناس', 'Fez-Meknes')"))
        connection.execute(text("INSERT INTO sector VALUES ('ART', 'Art', 'فن', 'Art')"))
        connection.execute(text("INSERT INTO trade VALUES ('ZEL', 'ART', 'Zellige', 'زليج', 'Zellige')"))
        for kid, state in [("rotout", "verify_only"), ("signer", "active"), ("waited", "verify_only")]:
            connection.execute(
                text(
                    "INSERT INTO signing_key (kid, thumbprint, public_jwk, state, created_at) "
                    "VALUES (:kid, :kid, '{}', :state, CURRENT_TIMESTAMP)"
                ),
                {"kid": kid, "state": state},
            )
        connection.execute(
            text(
                "INSERT INTO audit_event (occurred_at, actor, action, signing_key_id) "
                "VALUES (CURRENT_TIMESTAMP, 'cli:root', 'key.deactivate', 'rotout')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO artisan (id, rna_number, cin, first_name_latin, last_name_latin, first_name_ar, "
                "last_name_ar, birth_date, gender, region_code, province, trade_code, legal_status, cnss_status, "
                "activity_start_year, registered_at) VALUES (1, 'RNA-03-1', 'X1', 'A', 'B', 'ا', 'ب', '1980-01-01', "
                "'male', '03', 'Fès', 'ZEL', 'independent', 'registered', 2000, CURRENT_TIMESTAMP)"
            )
        )
        cards = [("fraud: forged diploma", "revoked"), ("left_trade", "revoked"), ("inquiry", "suspended")]
        for index, (reason, status) in enumerate(cards):
            connection.execute(
                text(
                    "INSERT INTO card (id, number, artisan_id, status, status_reason, issued_at, expires_at, "
                    "status_index, key_id, token) VALUES (:index, :number, 1, :status, :reason, '2026-01-01', "
                    "'2031-01-01', :index, 'signer', 't')"
                ),
                {"index": index, "number": f"N{index}", "status": status, "reason": reason},
            )
    upgrade_database(empty_database_url)
    with engine.connect() as connection:
        reasons = connection.execute(text("SELECT revocation_reason FROM card ORDER BY id")).scalars().all()
        states = dict(connection.execute(text("SELECT kid, state FROM signing_key")).all())
    engine.dispose()
    assert reasons == ["fraud", "left_trade", None]
    assert states == {"rotout": "verify_only", "signer": "active", "waited": "published"}


def test_0004_moves_partners_to_kinds_slugs_managers_and_scoped_keys(empty_database_url):
    """Revision 0004 keeps existing partners working: kind to kind_code, a slug from the name,
    partner users become managers, existing API keys keep every scope."""
    upgrade_database(empty_database_url, "0003")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO organisation (id, name, kind) VALUES (7, 'Crédit Agricole (Fès)', 'lender')")
        )
        connection.execute(
            text(
                "INSERT INTO user_account (email, display_name, password_hash, role, organisation_id, is_enabled, "
                "created_at) VALUES ('p@x.ma', 'P', 'h', 'partner', 7, true, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO api_key (organisation_id, prefix, secret_sha256, label, created_at) "
                "VALUES (7, 'abcdefghij', 'digest', 'core banking', CURRENT_TIMESTAMP)"
            )
        )
    upgrade_database(empty_database_url)
    with engine.connect() as connection:
        organisation = connection.execute(text("SELECT slug, kind_code, is_enabled FROM organisation")).one()
        role = connection.execute(text("SELECT role FROM user_account")).scalar_one()
        scopes = connection.execute(text("SELECT scopes FROM api_key")).scalar_one()
        kinds = connection.execute(text("SELECT code FROM partner_kind ORDER BY code")).scalars().all()
    engine.dispose()
    assert tuple(organisation) == ("credit-agricole-fes-7", "lender", True)
    assert role == "partner_manager"
    assert scopes == "eligibility redeem verify"
    assert kinds == ["lender", "market_organiser", "other", "training_body", "transporter"]


def test_0005_keeps_existing_accounts_as_they_were(empty_database_url):
    """Revision 0005: existing accounts keep their password, are not locked and need no forced change;
    existing audit events concern no account."""
    upgrade_database(empty_database_url, "0004")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO region VALUES ('03', 'Fès-Meknès', 'فاس مكناس', 'Fez-Meknes')"))
        connection.execute(
            text(
                "INSERT INTO user_account (email, display_name, password_hash, role, region_code, is_enabled, "
                "created_at) VALUES ('o@x.ma', 'O', 'kept-hash', 'officer', '03', true, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text("INSERT INTO audit_event (occurred_at, actor, action) VALUES (CURRENT_TIMESTAMP, 'cli:root', 'x')")
        )
    upgrade_database(empty_database_url)
    with engine.connect() as connection:
        account = connection.execute(
            text(
                "SELECT password_hash, must_change_password, failed_sign_ins, locked_until, last_signed_in_at "
                "FROM user_account"
            )
        ).one()
        event_account = connection.execute(text("SELECT account_id FROM audit_event")).scalar_one()
    engine.dispose()
    assert tuple(account) == ("kept-hash", False, 0, None, None)
    assert event_account is None


def test_0006_indexes_existing_artisans_and_keeps_new_ones_in_step(empty_database_url):
    """Revision 0006 keys the artisans already registered, and the migrated index follows later
    writes made in plain SQL (SQLite's triggers; PostgreSQL's own index): both are searchable."""
    from sqlalchemy.orm import Session

    from webapp.services.register.search import ArtisanQuery, search_artisans
    from webapp.services.scope import NATIONAL

    upgrade_database(empty_database_url, "0004")
    engine = create_engine(empty_database_url)
    insert_artisan = text(
        "INSERT INTO artisan (id, rna_number, cin, first_name_latin, last_name_latin, first_name_ar, last_name_ar, "
        "birth_date, gender, phone, region_code, province, trade_code, legal_status, cnss_status, "
        "activity_start_year, registered_at) VALUES (:id, :rna, :cin, :first, 'Bennani', :first_ar, 'بناني', "
        "'1980-01-01', 'male', '0612345678', '03', 'Fès', 'ZEL', 'independent', 'registered', 2000, "
        "CURRENT_TIMESTAMP)"
    )
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO region VALUES ('03', 'Fès-Meknès', 'فاس مكناس', 'Fez-Meknes')"))
        connection.execute(text("INSERT INTO sector VALUES ('ART', 'Art', 'فن', 'Art')"))
        connection.execute(text("INSERT INTO trade VALUES ('ZEL', 'ART', 'Zellige', 'زليج', 'Zellige')"))
        connection.execute(insert_artisan, {"id": 1, "rna": "R1", "cin": "X1", "first": "Mohammed", "first_ar": "مُحَمَّد"})
    upgrade_database(empty_database_url)
    with engine.begin() as connection:
        keys = connection.execute(text("SELECT search_keys, phone_key FROM artisan")).one()
        connection.execute(text("UPDATE artisan SET search_keys = '0ysf youssef', phone_key = NULL WHERE id = 1"))
        connection.execute(
            insert_artisan, {"id": 2, "rna": "R2", "cin": "X2", "first": "Brahim", "first_ar": "ابراهيم"}
        )
        connection.execute(text("UPDATE artisan SET search_keys = '0brhm brahim' WHERE id = 2"))
    with Session(engine) as session:
        found = {
            text_: [row.id for row in search_artisans(session, NATIONAL, ArtisanQuery(text=text_)).rows]
            for text_ in ("Mohamed", "Youssouf", "Brahim")
        }
    engine.dispose()
    assert "0mhmd" in keys.search_keys.split() and "محمد" in keys.search_keys.split()
    assert keys.phone_key == "612345678"
    assert found == {"Mohamed": [], "Youssouf": [1], "Brahim": [2]}


def test_0009_chains_the_events_already_recorded_and_guards_them(empty_database_url):
    """Revision 0009 chains existing events in id order (the head follows the last), new events
    chain on from there, and the database then refuses UPDATE and DELETE on the trail."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

    from webapp.services.audit import Actor, record_event
    from webapp.services.audit.verify import verify_trail

    upgrade_database(empty_database_url, "0008")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        for reason, before in [(None, None), ("enquête — تحقيق", '{"status": "active", "b": [1, 2]}'), ("x", "null")]:
            connection.execute(
                text(
                    "INSERT INTO audit_event (occurred_at, actor, action, reason, before) "
                    "VALUES (CURRENT_TIMESTAMP, 'cli:root', 'card.suspend', :reason, :before)"
                ),
                {"reason": reason, "before": before},
            )
    upgrade_database(empty_database_url)
    with engine.connect() as connection:
        migrated = verify_trail(connection, {})
        head = tuple(connection.execute(text("SELECT seq, chain_hash FROM audit_chain_head")).one())
    with Session(engine) as session:
        record_event(session, Actor("cli:root"), "card.reinstate")
        session.commit()
    with engine.connect() as connection:
        after_new_event = verify_trail(connection, {})
    refusals = []
    for statement in ("UPDATE audit_event SET reason = 'y'", "DELETE FROM audit_event"):
        try:
            with engine.begin() as connection:
                connection.execute(text(statement))
        except DBAPIError as refused:
            refusals.append("append-only" in str(refused))
    engine.dispose()
    assert migrated.intact and migrated.events == 3 and head == (3, migrated.last_hash)
    assert after_new_event.intact and after_new_event.events == 4
    assert refusals == [True, True]


def test_0014_moves_photos_out_of_the_artisan_row_and_keeps_the_search_index(empty_database_url):
    """Revision 0014 moves each stored photo to artisan_photo (bytes kept, digest and size computed),
    drops the column without recreating the artisan table (SQLite: the search triggers stay), and
    its downgrade brings the photos back into the rows."""
    import hashlib
    import io

    from alembic import command
    from PIL import Image

    from webapp.migrations import alembic_config

    upgrade_database(empty_database_url, "0010")
    output = io.BytesIO()
    Image.new("RGB", (240, 300), (10, 120, 200)).save(output, format="JPEG")
    photo = output.getvalue()
    engine = create_engine(empty_database_url)
    insert_artisan = text(
        "INSERT INTO artisan (id, rna_number, cin, first_name_latin, last_name_latin, first_name_ar, last_name_ar, "
        "birth_date, gender, region_code, province, trade_code, legal_status, cnss_status, activity_start_year, "
        "registered_at, photo_jpeg, search_keys) VALUES (:id, :rna, :cin, 'Khadija', 'Bennani', 'خديجة', 'بناني', "
        "'1980-01-01', 'female', '03', 'Fès', 'ZEL', 'independent', 'registered', 2000, CURRENT_TIMESTAMP, :photo, "
        ":keys)"
    )
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO region VALUES ('03', 'Fès-Meknès', 'فاس مكناس', 'Fez-Meknes')"))
        connection.execute(text("INSERT INTO sector VALUES ('ART', 'Art', 'فن', 'Art')"))
        connection.execute(text("INSERT INTO trade VALUES ('ZEL', 'ART', 'Zellige', 'زليج', 'Zellige')"))
        connection.execute(
            text(
                "INSERT INTO signing_key (kid, thumbprint, public_jwk, state, created_at) "
                "VALUES ('k', 'k', '{}', 'active', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(insert_artisan, {"id": 1, "rna": "R1", "cin": "X1", "photo": photo, "keys": "khadija"})
        connection.execute(insert_artisan, {"id": 2, "rna": "R2", "cin": "X2", "photo": None, "keys": "khadija"})
        connection.execute(
            text(
                "INSERT INTO card (id, number, artisan_id, status, issued_at, expires_at, "
                "status_index, key_id, token) VALUES (1, 'N1', 1, 'active', '2026-01-01', "
                "'2031-01-01', 1, 'k', 't')"
            )
        )
    upgrade_database(empty_database_url)
    with engine.begin() as connection:
        moved = connection.execute(text("SELECT artisan_id, jpeg, sha256, width, height FROM artisan_photo")).all()
        columns = {column["name"] for column in inspect(connection).get_columns("artisan")}
        connection.execute(
            text(
                "INSERT INTO artisan (id, rna_number, cin, first_name_latin, last_name_latin, first_name_ar, "
                "last_name_ar, birth_date, gender, region_code, province, trade_code, legal_status, cnss_status, "
                "activity_start_year, registered_at, search_keys) VALUES (3, 'R3', 'X3', 'Brahim', 'Alaoui', "
                "'ابراهيم', 'علوي', '1980-01-01', 'male', '03', 'Fès', 'ZEL', 'independent', 'registered', 2000, "
                "CURRENT_TIMESTAMP, 'brahim')"
            )
        )
        if connection.dialect.name == "sqlite":
            found = connection.execute(text("SELECT rowid FROM artisan_search WHERE artisan_search MATCH 'brahim'"))
            assert found.scalars().all() == [3]
    assert [(row.artisan_id, bytes(row.jpeg), row.sha256, row.width, row.height) for row in moved] == [
        (1, photo, hashlib.sha256(photo).hexdigest(), 240, 300)
    ]
    assert "photo_jpeg" not in columns

    command.downgrade(alembic_config(empty_database_url), "0010")
    with engine.connect() as connection:
        restored = connection.execute(text("SELECT id, photo_jpeg FROM artisan ORDER BY id")).all()
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert [(row.id, bytes(row.photo_jpeg) if row.photo_jpeg else None) for row in restored] == [
        (1, photo),
        (2, None),
        (3, None),
    ]
    assert "artisan_photo" not in tables


def test_0017_adds_the_redemption_report_and_its_downgrade_removes_it(empty_database_url):
    """Revision 0017 adds the report columns to redemption (keeping its existing check, on SQLite
    too, where the table is copied) and its downgrade takes them away again."""
    from alembic import command

    from webapp.migrations import alembic_config

    def redemption_schema() -> tuple[set[str], set[str]]:
        engine = create_engine(empty_database_url)
        with engine.connect() as connection:
            inspector = inspect(connection)
            columns = {column["name"] for column in inspector.get_columns("redemption")}
            checks = {check["name"] for check in inspector.get_check_constraints("redemption")}
        engine.dispose()
        return columns, checks

    upgrade_database(empty_database_url)
    columns, checks = redemption_schema()
    assert {"reported_at", "reported_by_user_id"} <= columns
    assert {"ck_redemption_recorded_by_someone", "ck_redemption_report_complete"} <= checks
    command.downgrade(alembic_config(empty_database_url), "0016")
    columns, checks = redemption_schema()
    assert not {"reported_at", "reported_by_user_id"} & columns
    assert "ck_redemption_recorded_by_someone" in checks and "ck_redemption_report_complete" not in checks
    upgrade_database(empty_database_url)
    assert {"reported_at", "reported_by_user_id"} <= redemption_schema()[0]


def test_0023_starts_each_regions_rna_counter_after_its_highest_number(empty_database_url):
    """Revision 0023 creates one counter per region, at the highest well-formed number of the region."""
    upgrade_database(empty_database_url, "0021")
    engine = create_engine(empty_database_url)
    with engine.begin() as connection:
        for code in ("03", "07"):
            connection.execute(
                text("INSERT INTO region (code, name_fr, name_ar, name_en) VALUES (:c, 'R', 'ج', 'R')"), {"c": code}
            )
        connection.execute(
            text("INSERT INTO sector (code, name_fr, name_ar, name_en) VALUES ('ART', 'Art', 'فن', 'Art')")
        )
        connection.execute(
            text(
                "INSERT INTO trade (code, sector_code, name_fr, name_ar, name_en) VALUES ('ZEL', 'ART', 'Z', 'ز', 'Z')"
            )
        )
        for index, number in enumerate(["RNA-03-0000041", "RNA-03-0000007", "RNA-03-XX", "RNA-T-9999999"], start=1):
            connection.execute(
                text(
                    "INSERT INTO artisan (id, rna_number, cin, first_name_latin, last_name_latin, first_name_ar, "
                    "last_name_ar, birth_date, gender, region_code, province, trade_code, legal_status, cnss_status, "
                    "activity_start_year, registered_at) VALUES (:id, :number, :cin, 'A', 'B', 'ا', 'ب', '1980-01-01', "
                    "'male', '03', 'Fès', 'ZEL', 'independent', 'registered', 2000, CURRENT_TIMESTAMP)"
                ),
                {"id": index, "number": number, "cin": f"X{index}"},
            )
    upgrade_database(empty_database_url, "0023")
    with engine.connect() as connection:
        counters = dict(connection.execute(text("SELECT region_code, last_serial FROM rna_counter")).all())
    engine.dispose()
    assert counters == {"03": 41, "07": 0}
