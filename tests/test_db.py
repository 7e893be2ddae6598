"""The database helpers: bulk_insert stores exactly what an ORM insert stores."""

from datetime import UTC, datetime

from sqlalchemy import select

from webapp.models import AuditEvent
from webapp.services.audit.chain import chain_rows
from webapp.services.bulk import bulk_insert


def test_bulk_insert_round_trips_typed_values(session):
    """Timezone-aware datetimes, JSON and None read back as they were given, on every row."""
    when = datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=UTC)
    rows = [
        {"occurred_at": when, "actor": "test:bulk", "action": "card.issue", "after": {"n": i}, "reason": None}
        for i in range(3)
    ]
    chain_rows(session, rows)
    bulk_insert(session, AuditEvent.__table__, rows)
    session.add(AuditEvent(occurred_at=when, actor="test:orm", action="card.issue", after={"n": 9}))
    session.commit()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.after for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 9}]
    assert {e.occurred_at for e in events} == {when}
    assert all(e.occurred_at.tzinfo is not None and e.reason is None for e in events)


def test_bulk_insert_several_rows_per_statement_keeps_every_row_in_order(session):
    """Rows sent several to a statement (the last statement shorter) are all stored, in order, typed."""
    when = datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=UTC)
    rows = [{"occurred_at": when, "actor": f"test:{i}", "action": "card.issue", "after": {"n": i}} for i in range(7)]
    chain_rows(session, rows)
    bulk_insert(session, AuditEvent.__table__, rows, rows_per_statement=3)
    session.commit()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.after, e.occurred_at) for e in events] == [(f"test:{i}", {"n": i}, when) for i in range(7)]


def test_bulk_insert_of_nothing_does_nothing(session):
    """An empty list inserts no row and does not fail."""
    bulk_insert(session, AuditEvent.__table__, [])
    assert session.scalars(select(AuditEvent)).all() == []


def test_a_savepoint_as_first_write_is_rolled_back_with_its_transaction(session):
    """On SQLite too, rows written in a released savepoint go when the transaction rolls back."""
    with session.begin_nested():
        session.add(AuditEvent(actor="test:savepoint", action="card.issue"))
    session.add(AuditEvent(actor="test:after", action="card.issue"))
    session.flush()
    session.rollback()
    assert session.scalars(select(AuditEvent)).all() == []
