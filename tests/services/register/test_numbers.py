"""RNA numbers given by the system: the next serial of the region, never twice, even when two
registrations run at once (two sessions, two threads, as two web workers would), on SQLite and
PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from tests.conftest import TEST_ACTOR
from webapp.models import Artisan, RnaCounter
from webapp.services.register.numbers import (
    allocate_rna_number,
    allocate_rna_numbers,
    format_rna,
    keep_counters_above,
    rna_region,
)
from webapp.services.scope import NATIONAL

ALLOCATIONS_EACH = 25


def test_numbers_continue_from_the_highest_of_each_region(session, make_artisan):
    """A region's first allocation starts after its highest well-formed number; other regions'
    numbers and numbers in another format do not count."""
    make_artisan(rna_number="RNA-03-0000041")
    make_artisan(rna_number="RNA-03-0000007")
    make_artisan(rna_number="RNA-07-0000100", region_code="07", province="Marrakech")
    make_artisan(rna_number="RNA-T-9999999")
    session.commit()
    assert allocate_rna_number(session, "03") == "RNA-03-0000042"
    assert allocate_rna_number(session, "03") == "RNA-03-0000043"
    assert allocate_rna_number(session, "07") == "RNA-07-0000101"
    assert allocate_rna_numbers(session, "05", 3) == ["RNA-05-0000001", "RNA-05-0000002", "RNA-05-0000003"]
    assert allocate_rna_numbers(session, "05", 0) == []


def test_a_rolled_back_number_leaves_a_gap_never_a_duplicate(session):
    """A registration rolled back does not give its number back twice: the next one differs."""
    allocate_rna_number(session, "03")
    session.commit()
    taken = allocate_rna_number(session, "03")
    session.rollback()
    again = allocate_rna_number(session, "03")
    session.commit()
    assert again == taken  # the rolled-back one was never used: given once, here
    assert allocate_rna_number(session, "03") != again


def test_counters_are_kept_above_numbers_brought_from_elsewhere(session):
    """An imported number moves its region's counter past it; a lower one does not move it back."""
    allocate_rna_numbers(session, "03", 5)
    keep_counters_above(session, ["RNA-03-0000500", "RNA-03-0000100", "RNA-07-0000009", "RNA-T-1", "junk"])
    keep_counters_above(session, ["RNA-03-0000200"])
    session.commit()
    counters = dict(session.execute(select(RnaCounter.region_code, RnaCounter.last_serial)).all())
    assert counters == {"03": 500, "07": 9}
    assert allocate_rna_number(session, "03") == "RNA-03-0000501"


@pytest.mark.parametrize(
    ("number", "region"),
    [("RNA-03-0001234", "03"), ("RNA-12-0000001", "12"), ("RNA-XX-0000001", None), ("RNA-3-0000001", None), ("", None)],
)
def test_the_region_of_a_number(number, region):
    """The region part of a well-formed number; None for any other text."""
    assert rna_region(number) == region


def test_concurrent_allocations_never_give_a_number_twice(app, session):
    """Two workers allocating at once, each in its own transactions, get distinct consecutive numbers."""
    database = app.extensions["database"]
    start = threading.Barrier(2)
    taken: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            for _ in range(ALLOCATIONS_EACH):
                with database.session_scope() as writer:
                    taken.append(allocate_rna_number(writer, "03"))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(taken) == [format_rna("03", serial) for serial in range(1, 2 * ALLOCATIONS_EACH + 1)]


def test_a_second_connection_waits_for_the_first_and_takes_the_next_number(app, session):
    """While one transaction holds a new number uncommitted, another's allocation waits for it and
    then takes the next one (never the same)."""
    database = app.extensions["database"]
    allocate_rna_number(session, "03")
    session.commit()  # the counter row exists
    first = allocate_rna_number(session, "03")  # held, not committed yet
    second: list[str] = []
    failures: list[BaseException] = []

    def other() -> None:
        try:
            with database.session_scope() as writer:
                second.append(allocate_rna_number(writer, "03"))
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    session.commit()
    thread.join()
    assert failures == [] and first == "RNA-03-0000002" and second == ["RNA-03-0000003"]


def test_a_new_artisan_gets_the_next_number_of_their_region(session, make_artisan):
    """create_artisan numbers a record that has none; a given number is kept."""
    from tests.services.register.test_artisans import record_of
    from webapp.services.register.artisans import create_artisan

    make_artisan(rna_number="RNA-03-0000009", first_name_latin="Amina", first_name_ar="أمينة", cin="ZZ000001")
    session.commit()
    artisan = create_artisan(session, record_of(session, rna_number=""), NATIONAL, TEST_ACTOR)
    assert artisan.rna_number == "RNA-03-0000010"
    assert session.scalar(select(Artisan.rna_number).where(Artisan.id == artisan.id)) == "RNA-03-0000010"
