"""The hash chain: canonical encoding and hashes as documented, events chained at commit in one
sequence, visible to their own transaction, dropped with a rolled-back savepoint."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select

from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent
from webapp.models.audit import HASHED_COLUMNS
from webapp.services.audit import chain, record_event
from webapp.services.cards import lifecycle as card_service
from webapp.services.verification import Verdict, status_changed_on

VECTORS = json.loads((Path(__file__).parents[3] / "docs" / "audit-trail-vectors.json").read_text("utf-8"))


def _events(session):
    return session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["event"]["action"])
def test_canonical_content_and_hash_match_the_documented_vectors(vector):
    """Each documented event encodes to the documented bytes, and chains to the documented hash."""
    index = VECTORS["vectors"].index(vector)
    previous = VECTORS["genesis"] if index == 0 else VECTORS["vectors"][index - 1]["chain_hash"]
    values = dict(vector["event"])
    values["occurred_at"] = datetime.fromisoformat(values["occurred_at"].replace("Z", "+00:00"))
    content = chain.canonical_content(values)
    assert content.decode("utf-8") == vector["canonical"]
    assert chain.chain_hash(previous, content) == vector["chain_hash"]


def test_naive_times_are_refused():
    """A time without its zone would hash differently on each database: refused."""
    with pytest.raises(ValueError):
        chain.canonical_time(datetime(2026, 12, 7, 9))


def test_events_are_chained_at_commit_in_one_sequence(session, make_card, check_trail):
    """Recorded events get seq 1, 2, 3 ... and hashes that chain, and the head follows the last one."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    card_service.reinstate_card(session, card, TEST_ACTOR)
    session.commit()
    events = _events(session)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    values = [{name: getattr(e, name) for name in HASHED_COLUMNS} for e in events]
    assert [e.chain_hash for e in events] == list(chain.iter_chain(values))
    assert chain.head(session) == (events[-1].seq, events[-1].chain_hash)
    assert check_trail().intact


def test_a_transaction_reads_its_own_events(session, make_card):
    """Before commit, a query of the trail sees the events this transaction recorded."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    assert [e.action for e in _events(session)][-1] == "card.suspend"
    assert status_changed_on(session.connection(), card.number, Verdict.SUSPENDED) is not None


def test_a_rolled_back_savepoint_drops_its_events(session, make_card, check_trail):
    """Events recorded in a savepoint that rolls back are not chained; those before it are."""
    card = make_card()
    record_event(session, TEST_ACTOR, "test.kept", card=card)
    savepoint = session.begin_nested()
    record_event(session, TEST_ACTOR, "test.dropped", card=card)
    savepoint.rollback()
    session.commit()
    assert [e.action for e in _events(session)][-1] == "test.kept"
    assert "test.dropped" not in [e.action for e in _events(session)]
    assert check_trail().intact


def test_a_rolled_back_transaction_leaves_no_event_and_no_gap(session, make_card, check_trail):
    """A rollback drops the recorded events and the head does not move: the next event follows on."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    assert _events(session)[-1].action == "card.suspend"  # chained early (read), then rolled back
    session.rollback()
    card_service.revoke_card(session, card, card_service.RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    assert [e.action for e in _events(session)] == ["key.generate", "card.issue", "card.revoke"]
    assert check_trail().intact


def test_an_event_added_to_the_session_directly_is_chained(session, check_trail):
    """An AuditEvent added without record_event is chained when flushed, its time set."""
    session.add(AuditEvent(actor="test:direct", action="test.direct"))
    session.commit()
    (only,) = _events(session)
    assert only.seq == 1 and only.occurred_at.tzinfo is not None
    assert check_trail().intact


def _audit_columns_read(session, decide) -> set[str]:
    """The audit_event columns that the statements run by `decide` name."""
    import re

    seen: list[str] = []
    bind = session.get_bind()

    def capture(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(bind, "before_cursor_execute", capture)
    try:
        decide()
    finally:
        event.remove(bind, "before_cursor_execute", capture)
    return {name for statement in seen for name in re.findall(r'audit_event\."?(\w+)', statement)}


def test_decisions_that_read_history_read_only_hashed_columns(session, make_card):
    """status_since and offline redemptions (status when made) read only columns the chain covers."""
    card = make_card()
    card_service.suspend_card(session, card, "inquiry", TEST_ACTOR)
    session.commit()
    read = _audit_columns_read(
        session, lambda: status_changed_on(session.connection(), card.number, Verdict.SUSPENDED)
    ) | _audit_columns_read(session, lambda: card_service.status_at(session, card, datetime.now(UTC)))
    assert read and read <= set(HASHED_COLUMNS)


def test_the_vectors_file_is_what_its_script_makes():
    """docs/make_audit_trail_vectors.py (which encodes without the server's code) gives the file."""
    import runpy

    script = runpy.run_path(str(Path(__file__).parents[3] / "docs" / "make_audit_trail_vectors.py"))
    assert script["render"]() == (Path(__file__).parents[3] / "docs" / "audit-trail-vectors.json").read_text("utf-8")


def test_a_refused_flush_in_a_savepoint_keeps_the_events_recorded_before(session, make_card, check_trail):
    """A savepoint whose flush fails (a duplicate, refused by the database) drops only its own work:
    events recorded earlier in the transaction are still chained at commit."""
    from sqlalchemy.exc import IntegrityError

    from webapp.models import Card

    card = make_card()
    record_event(session, TEST_ACTOR, "test.kept", card=card)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(Card(number=card.number, artisan_id=card.artisan_id, status_index=card.status_index))
    session.commit()
    assert _events(session)[-1].action == "test.kept"
    assert check_trail().intact


def test_an_event_of_a_session_closed_without_commit_is_dropped(app, check_trail):
    """Recorded in a fresh session that is then closed without a commit: never written, even if
    the same session object is used again and commits."""
    session = app.extensions["database"].session_factory()
    record_event(session, TEST_ACTOR, "test.dropped")
    session.close()
    record_event(session, TEST_ACTOR, "test.kept")
    session.commit()
    assert [e.action for e in _events(session)] == ["test.kept"]
    session.close()
