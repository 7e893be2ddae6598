"""`audit verify`: recompute the chain over the whole trail and check every signed checkpoint.

The trail is read once, in id order (ids and seqs rise together: events are inserted under the
chain head's lock, in seq order), in batches through a server-side cursor, inside one snapshot
(REPEATABLE READ on PostgreSQL; one read transaction on SQLite), so events committed meanwhile
neither appear half-way nor count as inserted. The first problem found is named and ends the run.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from collections.abc import Generator, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, create_engine, select, text

from webapp.models import AuditChainHead, AuditCheckpoint, AuditEvent
from webapp.models.audit import HASHED_COLUMNS
from webapp.services.audit.chain import GENESIS_HASH, HEAD_ID, canonical_time, encode_content
from webapp.services.errors import N_, DomainError
from webapp.services.trust.jws import read_signed_payload

CHECKPOINT_TYPE = "audit-checkpoint+jwt"
BATCH = 20_000
_EVENTS = AuditEvent.__table__
_CHECKPOINTS = AuditCheckpoint.__table__
_HEAD = AuditChainHead.__table__


class CheckpointRefused(DomainError):
    """A checkpoint token that does not verify; the reason is one word (docs/audit-trail.md)."""

    code = "checkpoint_refused"
    message = N_("The audit checkpoint does not verify: %(reason)s")

    def __init__(self, reason: str) -> None:
        super().__init__(reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class CheckedCheckpoint:
    """A checkpoint as its signed payload says (the row's own columns are not trusted)."""

    number: int
    size: int
    head: str
    kid: str
    signed_at: datetime


def read_checkpoint(token: str, verifying_keys: Mapping[str, ec.EllipticCurvePublicKey]) -> dict[str, Any]:
    """The payload of a checkpoint token whose ES256 signature verifies; else CheckpointRefused."""
    payload = read_signed_payload(
        token, verifying_keys, token_type=CHECKPOINT_TYPE, refusal=CheckpointRefused, wrong_type="not_a_checkpoint"
    )
    if not (isinstance(payload.get("size"), int) and isinstance(payload.get("head"), str)):
        raise CheckpointRefused("malformed")
    return payload


@dataclass
class TrailReport:
    """What `audit verify` found: counts, and the first problem (None when the trail is intact)."""

    events: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    checkpoints: list[CheckedCheckpoint] = field(default_factory=list)
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _label(row: Any) -> str:
    return f"event seq {row[2]} (id {row[0]})"


# Plain SQL, so that no column type processes the values: the loop below reads them as the driver
# gives them (SQLite: the time as text, JSON as text; PostgreSQL: an aware datetime, JSON as text
# or already read), which spares a third of the time on a million events.
_NAMES = HASHED_COLUMNS
# On PostgreSQL the server writes the time as canonical text and hands JSON over as text (the
# driver's own JSON loader reads bytes, slower than json.loads of a str): about a fifth faster.
_POSTGRESQL_AS_TEXT = {
    "occurred_at": """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')""",
    "before": '"before"::text',
    "after": '"after"::text',
}


def _columns(dialect: str) -> str:
    special = _POSTGRESQL_AS_TEXT if dialect == "postgresql" else {}
    columns = ", ".join(special.get(name, f'"{name}"') for name in _NAMES)
    return f"SELECT id, chain_hash, {columns} FROM audit_event"


def _select(dialect: str, where: str = "") -> Any:
    return text(f"{_columns(dialect)} {where} ORDER BY id")


def _rows(connection: Connection, after_seq: int, batch: int) -> Generator[Any, None, None]:
    # Options on the statement, not the connection (which keeps them: the caller's session may write next).
    dialect = connection.dialect.name
    # Without a start, every row whatever its seq (a forged 0 or -1 too).
    statement = _select(dialect, "WHERE seq > :after").bindparams(after=after_seq) if after_seq else _select(dialect)
    statement = statement.execution_options(stream_results=True, yield_per=batch)
    result = connection.execute(statement)
    try:
        for partition in result.partitions(batch):
            yield from partition
    finally:
        result.close()  # a server-side cursor left open when a problem ends the run early


def _time_text(value: Any) -> str:
    """The canonical time of a stored occurred_at, as the driver returns it."""
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " ":  # SQLAlchemy's SQLite form, in UTC: the fast way
            return f"{value[:10]}T{value[11:]}Z"
        if len(value) == 27 and value[10] == "T" and value[-1] == "Z":  # PostgreSQL's to_char above
            return value
        value = datetime.fromisoformat(value)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return canonical_time(value)


def _content(row: Any) -> bytes:
    values = dict(zip(_NAMES, row[2:], strict=True))
    values["occurred_at"] = _time_text(values["occurred_at"])
    for name in ("before", "after"):
        if isinstance(values[name], str):
            values[name] = json.loads(values[name])
    return encode_content(values)


def check_checkpoints(
    connection: Connection, verifying_keys: Mapping[str, ec.EllipticCurvePublicKey], report: TrailReport
) -> dict[int, list[CheckedCheckpoint]]:
    """Every checkpoint's signature and payload; by size. Sets report.problem at the first bad one."""
    by_size: dict[int, list[CheckedCheckpoint]] = {}
    rows = connection.execute(select(_CHECKPOINTS).order_by(_CHECKPOINTS.c.id))
    for row in rows:
        try:
            payload = read_checkpoint(row.token, verifying_keys)
        except CheckpointRefused as refused:
            report.problem = f"checkpoint #{row.id} (kid {row.kid}) does not verify: {refused.reason}"
            return by_size
        if (payload["size"], payload["head"]) != (row.size, row.head_hash):
            report.problem = f"checkpoint #{row.id}: its columns differ from what its signature covers"
            return by_size
        signed_at = datetime.fromtimestamp(payload.get("iat", 0), UTC)
        checked = CheckedCheckpoint(row.id, payload["size"], payload["head"], row.kid, signed_at)
        report.checkpoints.append(checked)
        by_size.setdefault(checked.size, []).append(checked)
    return by_size


def verify_trail(
    connection: Connection,
    verifying_keys: Mapping[str, ec.EllipticCurvePublicKey],
    *,
    after: tuple[int, str] = (0, GENESIS_HASH),
    batch: int = BATCH,
    jobs: int = 1,
    database_url: str | None = None,
) -> TrailReport:
    """Check the chain from `after` (a seq and its hash: a checkpoint already trusted; the start by
    default) to the head, and every checkpoint. The caller gives a connection in a snapshot.

    With jobs > 1 and the database's URL, a large trail is checked in `jobs` processes, each over
    a range of ids (see _parallel_walk)."""
    report = TrailReport(last_seq=after[0], last_hash=after[1])
    by_size = check_checkpoints(connection, verifying_keys, report)
    if report.problem:
        return report
    head_row = connection.execute(select(_HEAD.c.seq, _HEAD.c.chain_hash).where(_HEAD.c.id == HEAD_ID)).one_or_none()
    head_seq = head_row.seq if head_row is not None else 0
    for checkpoint in by_size.get(0, []):
        if checkpoint.head != GENESIS_HASH:
            report.problem = f"checkpoint #{checkpoint.number} (size 0) has a head other than the start"
            return report
    start = _Walk(expected=after[0] + 1, previous=bytes.fromhex(after[1]))
    if jobs > 1 and database_url and after[0] == 0 and head_seq >= PARALLEL_FROM:
        walk = _parallel_walk(connection, database_url, jobs, by_size, head_seq, batch)
    else:
        with closing(_rows(connection, after[0], batch)) as rows:
            walk = _walk(rows, start, by_size, head_seq)
    report.problem, report.events = walk.problem, walk.events
    if report.problem:
        return report
    report.last_seq, report.last_hash = walk.expected - 1, walk.previous.hex()
    if report.last_seq < head_seq:
        expected = walk.expected
        missing = f"seq {expected}" if head_seq == expected else f"seq {expected} to {head_seq}"
        report.problem = f"events missing: {missing} (at the end: the chain head is seq {head_seq})"
        return report
    beyond = [c for c in report.checkpoints if c.size > report.last_seq]
    if beyond:
        report.problem = (
            f"events missing: checkpoint #{beyond[0].number} covers {beyond[0].size} events, "
            f"the trail has {report.last_seq}"
        )
    return report


@dataclass
class _Walk:
    """Where a walk along the chain stands: the next seq expected, the last hash, the last id."""

    expected: int
    previous: bytes
    previous_id: int | None = None
    events: int = 0
    problem: str | None = None


def _walk(rows: Iterator[Any], walk: _Walk, by_size: Mapping[int, list[CheckedCheckpoint]], head_seq: int) -> _Walk:
    """Check rows in id order from `walk`; stops at the first problem (walk.problem)."""
    expected, previous, previous_id = walk.expected, walk.previous, walk.previous_id
    sha256 = hashlib.sha256
    for row in rows:
        seq = row[2]
        if seq != expected:
            if seq < expected:
                walk.problem = f"{_label(row)} was inserted: seq {expected} was expected after id {previous_id}"
            else:
                missing = f"seq {expected}" if seq == expected + 1 else f"seq {expected} to {seq - 1}"
                where = f"after id {previous_id}" if previous_id is not None else "at the start"
                walk.problem = f"events missing: {missing} ({where}, before id {row[0]})"
            break
        if seq > head_seq:
            walk.problem = f"{_label(row)} was inserted: beyond the chain head (seq {head_seq})"
            break
        digest = sha256(previous + _content(row)).digest()
        computed = digest.hex()
        if computed != row[1]:
            walk.problem = f"{_label(row)} was altered: its content does not match its hash"
            break
        if seq in by_size:
            disagreeing = [c for c in by_size[seq] if c.head != computed]
            if disagreeing:
                checkpoint = disagreeing[0]
                walk.problem = (
                    f"the trail was rewritten up to {_label(row)}: checkpoint #{checkpoint.number} signed on "
                    f"{checkpoint.signed_at:%Y-%m-%d %H:%M} UTC by {checkpoint.kid} says its hash is "
                    f"{checkpoint.head[:16]}..., the trail has {computed[:16]}..."
                )
                break
        previous, previous_id, expected = digest, row[0], expected + 1
        walk.events += 1
    walk.expected, walk.previous, walk.previous_id = expected, previous, previous_id
    return walk


# Below this many events one process is as quick (starting a worker costs about a second).
PARALLEL_FROM = 200_000
_START = text("SELECT id, chain_hash, seq FROM audit_event WHERE id <= :low ORDER BY id DESC LIMIT 1")


def _parallel_walk(
    connection: Connection,
    database_url: str,
    jobs: int,
    by_size: Mapping[int, list[CheckedCheckpoint]],
    head_seq: int,
    batch: int,
) -> _Walk:
    """Each event's check needs only the stored hash of the event before it, so ranges of ids can
    be checked apart: range k starts from the stored seq and hash of the last event before it,
    and range k - 1 checks that very event (its hash recomputed equals the stored one). The first
    problem of the first range that has one is the first problem of the trail. Rows are appended
    only, in id order, under the chain head's lock: the ranges, bounded by the last id of this
    snapshot, are the same rows in every worker's connection."""
    low, high = connection.execute(text("SELECT min(id), max(id) FROM audit_event")).one()
    if low is None:
        return _Walk(expected=1, previous=bytes.fromhex(GENESIS_HASH))
    step = (high - low + 1) // jobs + 1
    bounds = [(low - 1 + k * step, min(high, low - 1 + (k + 1) * step)) for k in range(jobs)]
    starts: list[tuple[int, str, int | None]] = [(1, GENESIS_HASH, None)]
    for range_low, _range_high in bounds[1:]:
        row = connection.execute(_START.bindparams(low=range_low)).one()
        starts.append((row[2] + 1, row[1], row[0]))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [
            pool.submit(_walk_range, database_url, bound, start, dict(by_size), head_seq, batch)
            for bound, start in zip(bounds, starts, strict=True)
        ]
        walks = [future.result() for future in futures]
    total = sum(walk.events for walk in walks)
    for walk in walks:
        if walk.problem:
            walk.events = total  # counted across ranges: not "the events before the problem"
            return walk
    last = walks[-1]
    last.events = total
    return last


def _walk_range(
    database_url: str,
    bounds: tuple[int, int],
    start: tuple[int, str, int | None],
    by_size: dict[int, list[CheckedCheckpoint]],
    head_seq: int,
    batch: int,
) -> _Walk:
    """One worker's range (a separate process: its own engine and connection)."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            statement = _select(connection.dialect.name, "WHERE id > :low AND id <= :high")
            statement = statement.bindparams(low=bounds[0], high=bounds[1])
            result = connection.execute(statement.execution_options(stream_results=True, yield_per=batch))
            rows = (row for partition in result.partitions(batch) for row in partition)
            walk = _Walk(expected=start[0], previous=bytes.fromhex(start[1]), previous_id=start[2])
            walk = _walk(rows, walk, by_size, head_seq)
            result.close()
            return walk
    finally:
        engine.dispose()
