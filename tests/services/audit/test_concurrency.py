"""Writers appending at the same time (two sessions, two threads, as two gunicorn workers would)
keep one valid chain: no seq given twice, none skipped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent
from webapp.services.audit import record_event
from webapp.services.audit.chain import chain_rows
from webapp.services.bulk import bulk_insert

EVENTS_EACH = 40


def test_concurrent_writers_keep_one_valid_chain(app, session, check_trail):
    """Two threads commit events one by one while a third appends rows in bulk; the chain holds."""
    database = app.extensions["database"]
    start = threading.Barrier(3)
    failures: list[BaseException] = []

    def one_by_one(label: str) -> None:
        try:
            start.wait()
            for index in range(EVENTS_EACH):
                with database.session_scope() as writer:
                    record_event(writer, TEST_ACTOR, f"test.{label}", reason=str(index))
        except BaseException as error:
            failures.append(error)

    def in_bulk() -> None:
        try:
            start.wait()
            for batch in range(4):
                with database.session_scope() as writer:
                    now = datetime.now(UTC)
                    rows = [
                        {"occurred_at": now, "actor": "test:bulk", "action": "test.bulk", "reason": str(i)}
                        for i in range(batch * 10, batch * 10 + 10)
                    ]
                    chain_rows(writer, rows)
                    bulk_insert(writer, AuditEvent.__table__, rows)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=one_by_one, args=(name,)) for name in ("a", "b")]
    threads.append(threading.Thread(target=in_bulk))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    seqs = session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, 2 * EVENTS_EACH + 40 + 1))
    assert session.scalar(select(func.count()).where(AuditEvent.action == "test.a")) == EVENTS_EACH
    report = check_trail()
    assert report.intact, report.problem
