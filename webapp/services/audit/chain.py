"""The hash chain of the audit trail: canonical encoding, hashing, and appending at commit.

Why at commit: each event's hash covers the previous event's, so appending is serial. The chain
head is one row; a transaction locks it (an UPDATE) only when it commits, after its own rows are
written, and holds it for the commit alone. Card actions, redemptions and sign-ins run
concurrently for the whole of their request and queue only for that last step, and since the
head is always the last lock a transaction takes, waiting on it cannot deadlock. (Locking it at
the first audit event instead would hold it for the rest of the request, and a row locked after
it, such as the next card of a bulk change, could deadlock against another request.) On SQLite
writers are serialized by the database anyway.

`record_event` therefore keeps its events out of the session (in `session.info`) until:
- the session commits (`before_commit`): flush the rest, lock the head, chain, insert;
- a query of the session reads the audit table first (`do_orm_execute`), so that a transaction
  sees its own events; the head stays locked from then until the commit;
- or an AuditEvent added to the session directly is flushed (`before_flush`): chained at once.
A savepoint rolled back drops the events recorded inside it; a rollback drops them all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

from webapp.models import AuditChainHead, AuditEvent, utcnow
from webapp.models.audit import HASHED_COLUMNS
from webapp.services.upserts import insert_if_absent

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64  # the "previous hash" of event seq 1
HEAD_ID = 1
_PENDING = "audit_chain_pending"
_AUDIT_TABLE = AuditEvent.__table__
_HEAD = AuditChainHead.__table__


def canonical_time(moment: datetime) -> str:
    """UTC, microseconds, 'Z': 2026-12-07T12:49:12.123456Z."""
    if moment.tzinfo is None:
        raise ValueError("audit times are timezone-aware")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def canonical_content(event: Mapping[str, Any]) -> bytes:
    """The bytes an event's hash covers: a JSON object of every hashed column (absent ones as null),
    keys sorted, no spaces, UTF-8 (docs/audit-trail.md, "Canonical encoding")."""
    content = {name: event.get(name) for name in HASHED_COLUMNS}
    content["occurred_at"] = canonical_time(event["occurred_at"])
    return encode_content(content)


def encode_content(content: dict[str, Any]) -> bytes:
    """The canonical bytes of an event's columns whose time is already canonical text (verify's
    fast path shares this with canonical_content)."""
    content["v"] = FORMAT_VERSION
    return _encode(content).encode("utf-8")


def chain_hash(previous_hash: str, content: bytes) -> str:
    """SHA-256(previous hash's 32 bytes || canonical content), hex."""
    return hashlib.sha256(bytes.fromhex(previous_hash) + content).hexdigest()


def _event_values(audit_event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(audit_event, name) for name in HASHED_COLUMNS}


def _reserve(session: Session, count: int) -> tuple[int, str]:
    """Lock the chain head and move it `count` events on: the first seq to give, and the hash to
    chain from. The lock (a row lock on PostgreSQL, the write lock on SQLite) lasts until commit."""
    statement = (
        update(_HEAD)
        .where(_HEAD.c.id == HEAD_ID)
        .values(seq=_HEAD.c.seq + count)
        .returning(_HEAD.c.seq, _HEAD.c.chain_hash)
    )
    row = session.execute(statement).one_or_none()
    if row is None:  # a database whose chain has not started: the head's row comes with the first event
        insert_if_absent(session, AuditChainHead, {"id": HEAD_ID, "seq": 0, "chain_hash": GENESIS_HASH}, ["id"])
        row = session.execute(statement).one()
    return row.seq - count + 1, row.chain_hash


def _move_head(session: Session, head_hash: str) -> None:
    session.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(chain_hash=head_hash))


def chain_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Give plain event rows (for a bulk INSERT) their seq and chain_hash, in list order; the head
    stays locked until the transaction ends. Rows need an aware `occurred_at`."""
    if not rows:
        return
    seq, head_hash = _reserve(session, len(rows))
    # The roll-out's 622,000 rows: one time per chunk formatted once, the hash kept as bytes.
    times: dict[datetime, str] = {}
    previous, sha256 = bytes.fromhex(head_hash), hashlib.sha256
    for row in rows:
        moment = row["occurred_at"]
        text = times.get(moment)
        if text is None:
            text = times[moment] = canonical_time(moment)
        row["seq"] = seq
        content = {name: row.get(name) for name in HASHED_COLUMNS}
        content["occurred_at"] = text
        previous = sha256(previous + encode_content(content)).digest()
        row["chain_hash"] = previous.hex()
        seq += 1
    _move_head(session, previous.hex())


def _chain_events(session: Session, events: list[AuditEvent]) -> None:
    seq, previous = _reserve(session, len(events))
    for audit_event in events:
        if audit_event.occurred_at is None:  # added directly, without a time: the column's default, now
            audit_event.occurred_at = utcnow()
        audit_event.seq = seq
        previous = audit_event.chain_hash = chain_hash(previous, canonical_content(_event_values(audit_event)))
        seq += 1
    _move_head(session, previous)


def head(session: Session) -> tuple[int, str]:
    """The chain's head as its table says: (last seq, its hash); (0, genesis) before any event."""
    row = session.execute(select(_HEAD.c.seq, _HEAD.c.chain_hash).where(_HEAD.c.id == HEAD_ID)).one_or_none()
    return (row.seq, row.chain_hash) if row is not None else (0, GENESIS_HASH)


def altered(session: Session, events: Sequence[AuditEvent]) -> set[int]:
    """The seqs of these events whose hash does not follow from their content and the stored hash
    of the event before them: a check of a few events (one card's history) without the whole
    trail. A deleted event shows only in `audit verify`."""
    wanted = {audit_event.seq - 1 for audit_event in events if audit_event.seq > 1}
    previous = dict(
        session.execute(select(AuditEvent.seq, AuditEvent.chain_hash).where(AuditEvent.seq.in_(wanted))).all()
    )
    previous[0] = GENESIS_HASH
    found = set()
    for audit_event in events:
        before = previous.get(audit_event.seq - 1)
        content = canonical_content(_event_values(audit_event))
        if before is None or chain_hash(before, content) != audit_event.chain_hash:
            found.add(audit_event.seq)
    return found


# --- events kept out of the session until they are chained ---------------------------------------


def _pending(session: Session) -> list[tuple[SessionTransaction | None, AuditEvent]]:
    info: MutableMapping[str, Any] = session.info
    return info.setdefault(_PENDING, [])


def defer(session: Session, audit_event: AuditEvent) -> None:
    """Hold an event until the session commits or reads the trail (see the module's docstring)."""
    # Begin the session's transaction if nothing has yet, so that closing the session without
    # a commit ends a transaction and drops the event (after_transaction_end below).
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    _pending(session).append((transaction, audit_event))


def seal(session: Session) -> None:
    """Chain and insert the held events now (the head stays locked until commit)."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    session.flush()  # this transaction's own rows first: their locks come before the head's
    events = [audit_event for _transaction, audit_event in pending]
    _chain_events(session, events)
    session.add_all(events)
    session.flush()


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # releasing a savepoint is not the commit
        seal(session)


@event.listens_for(Session, "before_flush")
def _chain_events_added_directly(session: Session, _flush_context: Any, _instances: Any) -> None:
    unchained = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.seq is None]
    if unchained:
        _chain_events(session, unchained)


@event.listens_for(Session, "do_orm_execute")
def _seal_before_reading_the_trail(state: ORMExecuteState) -> None:
    session = state.session
    if state.is_select and session.info.get(_PENDING) and _reads_audit_table(state.statement):
        seal(session)


def _reads_audit_table(statement: Any) -> bool:
    # ORM statements hold annotated copies of the table: compare by name.
    found = find_tables(statement, include_joins=True, include_aliases=True)
    return any(getattr(table, "name", None) == _AUDIT_TABLE.name for table in found)


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back_events(session: Session, previous_transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if previous_transaction.parent is None:  # the session's own transaction: everything goes
        session.info.pop(_PENDING, None)
        return
    # A savepoint (or a failed flush's inner transaction, which holds no events): what was
    # recorded inside it goes.
    session.info[_PENDING] = [
        (transaction, audit_event)
        for transaction, audit_event in pending
        if not _within(transaction, previous_transaction)
    ]


@event.listens_for(Session, "after_transaction_end")
def _forget_on_close(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:  # the session's own transaction ended
        session.info.pop(_PENDING, None)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def iter_chain(events: Iterable[Mapping[str, Any]], previous: str = GENESIS_HASH) -> Iterable[str]:
    """The chain hashes of events in order (for tests and the bench)."""
    for values in events:
        previous = chain_hash(previous, canonical_content(values))
        yield previous
