"""`audit verify`'s check: an intact trail passes; an event altered, deleted or inserted behind
the triggers' back is named, and so is a rewritten chain that a signed checkpoint contradicts."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import TEST_ACTOR
from webapp.models import AuditEvent
from webapp.models.audit import HASHED_COLUMNS
from webapp.services.audit import chain
from webapp.services.audit.checkpoints import checkpoint_keys, sign_checkpoint
from webapp.services.cards import lifecycle as card_service


@pytest.fixture
def trail(session, make_card):
    """Six events: a key, two cards issued, a suspension, a reinstatement, a revocation."""
    first, second = make_card(), make_card()
    card_service.suspend_card(session, first, "inquiry", TEST_ACTOR)
    card_service.reinstate_card(session, first, TEST_ACTOR)
    card_service.revoke_card(session, second, card_service.RevocationReason.LOST, TEST_ACTOR)
    session.commit()
    return session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()


def test_an_intact_trail_passes(trail, check_trail):
    report = check_trail()
    assert report.intact and report.events == len(trail) == 6


def test_an_updated_event_is_named(trail, tamper, check_trail):
    """A reinstatement rewritten into a suspension (trigger dropped first) is named by seq and id."""
    target = trail[4]
    tamper("UPDATE audit_event SET action = 'card.suspend' WHERE id = :id", id=target.id)
    expected = f"event seq {target.seq} (id {target.id}) was altered: its content does not match its hash"
    assert check_trail().problem == expected


def test_an_updated_time_is_named(trail, tamper, check_trail):
    """Moving an event in time (what status_since and offline redemptions read) is an alteration too."""
    target = trail[3]
    tamper("UPDATE audit_event SET occurred_at = :when WHERE id = :id", when=trail[0].occurred_at, id=target.id)
    assert f"event seq {target.seq} (id {target.id}) was altered" in check_trail().problem


def test_a_deleted_event_is_named(trail, tamper, check_trail):
    """A suspension deleted from the middle: the missing seq, between which ids."""
    target = trail[3]
    tamper("DELETE FROM audit_event WHERE id = :id", id=target.id)
    assert check_trail().problem == (
        f"events missing: seq {target.seq} (after id {trail[2].id}, before id {trail[4].id})"
    )


def test_deleted_last_events_are_named(trail, tamper, check_trail):
    """The newest events deleted: the chain head still counts them."""
    tamper("DELETE FROM audit_event WHERE seq >= 5")
    assert check_trail().problem == "events missing: seq 5 to 6 (at the end: the chain head is seq 6)"


def test_an_inserted_event_is_named(trail, session, check_trail):
    """A forged event appended with a well computed hash (INSERT is allowed): beyond the chain head."""
    last = trail[-1]
    forged = {name: None for name in HASHED_COLUMNS}
    forged.update(seq=last.seq + 1, occurred_at=last.occurred_at, actor="user:1", action="card.reinstate")
    forged["chain_hash"] = chain.chain_hash(last.chain_hash, chain.canonical_content(forged))
    session.execute(AuditEvent.__table__.insert().values(forged))
    session.commit()
    new_id = session.scalar(select(AuditEvent.id).where(AuditEvent.seq == last.seq + 1))
    expected = f"event seq {last.seq + 1} (id {new_id}) was inserted: beyond the chain head (seq 6)"
    assert check_trail().problem == expected


def test_an_event_inserted_out_of_sequence_is_named(trail, session, check_trail):
    """A forged row given a seq the chain has passed (0: before the first event) is named."""
    forged = {name: None for name in HASHED_COLUMNS}
    forged.update(seq=0, occurred_at=trail[0].occurred_at, actor="user:1", action="card.reinstate", chain_hash="0" * 64)
    session.execute(AuditEvent.__table__.insert().values(forged))
    session.commit()
    new_id = session.scalar(select(AuditEvent.id).where(AuditEvent.seq == 0))
    expected = f"event seq 0 (id {new_id}) was inserted: seq 7 was expected after id {trail[-1].id}"
    assert check_trail().problem == expected


def test_a_recomputed_chain_is_caught_by_a_signed_checkpoint(app, trail, session, signer, tamper, check_trail):
    """An attacker rewrites an event and recomputes every later hash and the head: the chain is
    consistent again, but a checkpoint signed before disagrees, and says so."""
    sign_checkpoint(
        session, signer, checkpoint_keys(session, app.config["KEYS_DIR"]), issuer="https://carte.test/audit"
    )
    session.commit()
    rows = [{name: getattr(e, name) for name in HASHED_COLUMNS} | {"id": e.id} for e in trail]
    rows[4]["action"] = "card.suspend"
    hashes = list(chain.iter_chain(rows))
    for row, new_hash in zip(rows, hashes, strict=True):
        tamper(
            "UPDATE audit_event SET action = :action, chain_hash = :hash WHERE id = :id",
            action=row["action"],
            hash=new_hash,
            id=row["id"],
        )
    session.execute(text("UPDATE audit_chain_head SET chain_hash = :hash"), {"hash": hashes[-1]})
    session.commit()
    problem = check_trail().problem
    assert problem.startswith(f"the trail was rewritten up to event seq 6 (id {trail[-1].id}): checkpoint #1 signed")


def test_a_forged_checkpoint_is_named(app, trail, session, signer, tamper, check_trail):
    """A checkpoint whose signature does not verify (its payload swapped) is named."""
    checkpoint = sign_checkpoint(
        session, signer, checkpoint_keys(session, app.config["KEYS_DIR"]), issuer="https://carte.test/audit"
    )
    session.commit()
    header, payload, signature = checkpoint.token.split(".")
    tamper("UPDATE audit_checkpoint SET token = :token", token=f"{header}.{payload}x.{signature}")
    assert check_trail().problem == f"checkpoint #1 (kid {signer.kid}) does not verify: bad_signature"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'x'",
        "DELETE FROM audit_event",
        "UPDATE audit_checkpoint SET size = 0",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_the_database_refuses_to_change_the_trail(app, trail, session, signer, statement):
    """UPDATE and DELETE on the trail and its checkpoints are refused by the database itself."""
    sign_checkpoint(
        session, signer, checkpoint_keys(session, app.config["KEYS_DIR"]), issuer="https://carte.test/audit"
    )
    session.commit()
    with pytest.raises(DBAPIError, match="refused: the audit trail is append-only"):
        session.execute(text(statement))
    session.rollback()


@pytest.mark.parametrize("table", ["audit_event", "audit_checkpoint"])
def test_postgresql_refuses_to_truncate_the_trail(trail, session, table):
    """TRUNCATE (which row triggers do not see) is refused too, on PostgreSQL."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(DBAPIError, match="refused: the audit trail is append-only"):
        session.execute(text(f"TRUNCATE {table} CASCADE"))
    session.rollback()


@pytest.mark.parametrize("tampered", [None, "update", "delete"])
def test_ranges_checked_in_parallel_find_the_same_as_one_pass(
    app, session, trail, tamper, check_trail, monkeypatch, tampered
):
    """Two processes over two ranges of ids (1-4, 5-6) report what one pass reports: intact, or
    the same first problem (found by the second range here)."""
    from webapp.services.audit import verify

    if tampered == "update":
        tamper("UPDATE audit_event SET reason = 'x' WHERE seq = 5")
    elif tampered == "delete":
        tamper("DELETE FROM audit_event WHERE seq = 5")
    one_pass = check_trail()
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
    keys = checkpoint_keys(session, app.config["KEYS_DIR"])
    with app.extensions["database"].engine.connect() as connection:
        parallel = verify.verify_trail(connection, keys, jobs=2, database_url=app.config["DATABASE_URL"])
    assert (parallel.problem, parallel.last_seq) == (one_pass.problem, one_pass.last_seq)
    assert parallel.intact == (tampered is None)
