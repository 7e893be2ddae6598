"""Optimistic concurrency (webapp/services/concurrency.py): a save names the version it showed,
one conditional UPDATE checks and moves it on, and of two saves of one version only one passes, on
SQLite and on PostgreSQL (set TEST_DATABASE_URL), even when they run at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text

from tests.fixtures.app import TEST_DATABASE_URL
from tests.fixtures.support import TEST_ACTOR
from tests.services.register.test_artisans import record_of
from webapp.models import Artisan, AuditEvent, Role
from webapp.services.audit import Actor
from webapp.services.concurrency import (
    EditConflict,
    claim_version,
    field_conflicts,
    last_change,
    parse_version,
)
from webapp.services.register.artisans import update_artisan
from webapp.services.scope import NATIONAL


@pytest.fixture
def artisan(session, make_artisan) -> Artisan:
    """A committed artisan at version 1, with the keys record_of uses."""
    found = make_artisan(rna_number="RNA-03-0001234", cin="AB123456")
    session.commit()
    return found


def updates(session, artisan_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "artisan.update", AuditEvent.artisan_id == artisan_id)
    )


def test_a_new_artisan_starts_at_version_one(artisan):
    """Every record starts at version 1 (the migration backfills existing rows the same way)."""
    assert artisan.version == 1


def test_claiming_the_shown_version_moves_it_on(session, artisan):
    """The version shown is claimed: the row and the object are at the next one."""
    assert claim_version(session, artisan, 1) == 2
    session.commit()
    session.expire_all()
    assert artisan.version == 2


@pytest.mark.parametrize("stale", [0, 2, 99, None])
def test_claiming_another_version_is_refused_with_the_current_one(session, artisan, stale):
    """A version that is not the stored one is an EditConflict naming the stored version."""
    with pytest.raises(EditConflict) as refused:
        claim_version(session, artisan, stale)
    assert refused.value.current_version == 1 and refused.value.code == "edit_conflict"


@pytest.mark.parametrize("raw", ["", None, "abc", "-1", "1.5", "１", "9999999999", " "])
def test_a_garbled_version_is_none(raw):
    """A form's version that is not plain digits is no version (and then meets a conflict)."""
    assert parse_version(raw) is None


def test_update_with_a_stale_version_writes_nothing(session, artisan):
    """An update naming a version saved over meanwhile is refused before anything is written."""
    update_artisan(session, artisan.id, record_of(session, province="Meknès"), NATIONAL, TEST_ACTOR, expected_version=1)
    session.commit()
    with pytest.raises(EditConflict):
        update_artisan(
            session, artisan.id, record_of(session, province="Sefrou"), NATIONAL, TEST_ACTOR, expected_version=1
        )
    session.rollback()
    session.expire_all()
    assert (artisan.province, artisan.version, updates(session, artisan.id)) == ("Meknès", 2, 1)


def test_two_sessions_that_read_one_version_cannot_both_save(app, artisan):
    """Two sessions (two connections) read version 1; the first saves; the second is refused even
    though its object still says version 1 (the check is the UPDATE, not what was read)."""
    factory = app.extensions["database"].session_factory
    first, second = factory(), factory()
    try:
        for session in (first, second):
            assert session.get(Artisan, artisan.id).version == 1
        update_artisan(first, artisan.id, record_of(first, province="Meknès"), NATIONAL, TEST_ACTOR, expected_version=1)
        first.commit()
        with pytest.raises(EditConflict):
            update_artisan(
                second, artisan.id, record_of(second, province="Sefrou"), NATIONAL, TEST_ACTOR, expected_version=1
            )
        second.rollback()
        first.expire_all()
        assert first.get(Artisan, artisan.id).province == "Meknès" and updates(first, artisan.id) == 1
    finally:
        first.close()
        second.close()


def test_saves_sent_at_once_leave_exactly_one_winner(app, artisan):
    """Four saves of version 1 released together (a session each): one saves, three conflict, and
    the record and its trail hold the winner's change only."""
    factory = app.extensions["database"].session_factory
    provinces = ["Meknès", "Sefrou", "Taza", "Ifrane"]
    barrier = threading.Barrier(len(provinces), timeout=60)

    def save(province: str) -> str:
        session = factory()
        try:
            record = record_of(session, province=province)
            barrier.wait()
            update_artisan(session, artisan.id, record, NATIONAL, TEST_ACTOR, expected_version=1)
            session.commit()
            return "saved"
        except EditConflict:
            session.rollback()
            return "conflict"
        finally:
            session.close()

    with ThreadPoolExecutor(max_workers=len(provinces)) as pool:
        outcomes = list(pool.map(save, provinces))
    assert sorted(outcomes) == ["conflict"] * 3 + ["saved"]
    winner = provinces[outcomes.index("saved")]
    check = factory()
    try:
        stored = check.get(Artisan, artisan.id)
        assert (stored.province, stored.version, updates(check, artisan.id)) == (winner, 2, 1)
    finally:
        check.close()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="a PostgreSQL row lock: runs with TEST_DATABASE_URL")
def test_on_postgresql_a_save_waiting_on_the_row_lock_meets_the_new_version(app, artisan):
    """On PostgreSQL the second save's UPDATE waits for the first's row lock, then re-reads the row,
    finds version 2 and is refused: nothing slips in between the check and the write."""
    factory = app.extensions["database"].session_factory
    first, second = factory(), factory()
    try:
        update_artisan(first, artisan.id, record_of(first, province="Meknès"), NATIONAL, TEST_ACTOR, expected_version=1)
        second_pid = second.scalar(text("SELECT pg_backend_pid()"))
        record = record_of(second, province="Sefrou")
        second.commit()
        outcome: list[object] = []

        def save_second() -> None:
            try:
                update_artisan(second, artisan.id, record, NATIONAL, TEST_ACTOR, expected_version=1)
                outcome.append("saved")
            except EditConflict as error:
                outcome.append(error)
            finally:
                second.rollback()

        waiting = threading.Thread(target=save_second)
        waiting.start()
        # Wait (by watching, not by a clock) until the second save is blocked by the first's lock.
        first_pid = first.scalar(text("SELECT pg_backend_pid()"))
        with app.extensions["database"].engine.connect() as watcher:
            while first_pid not in (
                watcher.execute(text("SELECT pg_blocking_pids(:pid)"), {"pid": second_pid}).scalar() or []
            ):
                assert waiting.is_alive(), outcome
        first.commit()
        waiting.join()
        assert isinstance(outcome[0], EditConflict) and outcome[0].current_version == 2
    finally:
        first.close()
        second.close()


def test_the_last_change_comes_from_the_audit_trail(session, artisan, make_user):
    """Who saved last and when: the latest matching audit event, by the person's name."""
    admin = make_user(Role.ADMIN, display_name="Salma Idrissi")
    update_artisan(
        session,
        artisan.id,
        record_of(session, province="Meknès"),
        NATIONAL,
        Actor(f"user:{admin.id}", admin.id),
        expected_version=1,
    )
    session.commit()
    found = last_change(session, AuditEvent.artisan_id == artisan.id, actions=["artisan.update"])
    assert found is not None and found.by == "Salma Idrissi"
    assert last_change(session, AuditEvent.artisan_id == artisan.id, actions=["artisan.photo_set"]) is None


SHOWN = {"province": "Fès", "phone": "0612345678", "city": "Fès"}


@pytest.mark.parametrize(
    ("mine", "theirs", "expected"),
    [
        # Only the person changed the phone: no conflict, theirs is what was shown.
        ({"province": "Fès", "phone": "0699999999", "city": "Fès"}, SHOWN, []),
        # Only the other changed the province: a conflict that starts at theirs (the person left it).
        ({**SHOWN}, {**SHOWN, "province": "Meknès"}, [("province", "theirs")]),
        # Both changed the city differently: a conflict that starts at mine.
        ({**SHOWN, "city": "Sefrou"}, {**SHOWN, "city": "Taza"}, [("city", "mine")]),
        # Both made the same change: nothing to choose.
        ({**SHOWN, "city": "Taza"}, {**SHOWN, "city": "Taza"}, []),
    ],
)
def test_field_conflicts_are_the_fields_saved_meanwhile_differently(mine, theirs, expected):
    """Only fields the other person changed, to a value unlike the person's, are to be chosen."""
    found = field_conflicts(SHOWN, mine, theirs, SHOWN)
    assert [(conflict.field, conflict.default) for conflict in found] == expected
