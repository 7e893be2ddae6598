"""The audit trail: one row per change to an artisan's record, a card, a signing key, a partner
matter or an account, and per sign-in, failed sign-in, lock and sign-out; never updated.

The trail is hash-chained (docs/audit-trail.md): each event carries `seq`, its place in the
chain, and `chain_hash`, SHA-256 of the previous event's hash and of this event's canonical
content; signed checkpoints commit to the chain's head. The database refuses UPDATE, DELETE and
TRUNCATE on the trail and its checkpoints (triggers created with the tables, and by migration
0009); an owner can still drop a trigger, which is what the chain and the checkpoints reveal.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, JSON, BigInteger, ForeignKey, Integer, String, Table, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from webapp.models.base import Base, UTCDateTime, utcnow

# Every column of an event that the hash covers (all but the storage id and the hash itself).
HASHED_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_user_id",
    "actor",
    "action",
    "card_id",
    "artisan_id",
    "signing_key_id",
    "organisation_id",
    "offer_id",
    "account_id",
    "reason",
    "before",
    "after",
)


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The event's place in the chain (1, 2, 3 ... no gaps): given when the event is chained, at
    # commit, under the chain head's row lock (webapp/services/audit/chain.py).
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Hex SHA-256 of the previous event's chain_hash and this event's canonical content.
    chain_hash: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who: a user id when a person acted through the web, and always a readable label
    # ("user:12", "cli:root", "system:demo-seed").
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("card.id"), index=True)
    # The artisan concerned: their register record, or the holder of the card (so one query lists
    # everything that happened to an artisan and their cards).
    artisan_id: Mapped[int | None] = mapped_column(ForeignKey("artisan.id"), index=True)
    signing_key_id: Mapped[str | None] = mapped_column(String(16))
    # Partner matters: the organisation and offer concerned, so a partner's trail can be listed.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"), index=True)
    # Accounts: the account signed in, refused, locked, created, disabled or reset (the actor may be
    # someone else: an administrator, or an unknown client for a failed sign-in).
    account_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditChainHead(Base):
    """One row: the last chained event's seq and hash. Appending locks it (UPDATE) until commit, so
    writers chain one after the other only for the length of their commit."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[str] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """A signed statement of the chain's head: `size` events, the last one's hash, when, by which key."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kid: Mapped[str] = mapped_column(String(16))
    # The compact JWS (ES256) over {"size", "head", "iat", ...}: what is published and checked.
    token: Mapped[str] = mapped_column(Text)


APPEND_ONLY_TABLES = ("audit_event", "audit_checkpoint")

# PostgreSQL: one function, a row trigger against UPDATE and DELETE and a statement trigger against
# TRUNCATE (which row triggers do not see). Also written by migration 0009: keep them the same.
POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME || ' refused: the audit trail is append-only',
        ERRCODE = 'insufficient_privilege';
END
$$
"""


def postgresql_triggers(table: str) -> list[str]:
    return [
        POSTGRESQL_FUNCTION,
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
    ]


def sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{operation} on {table} refused: the audit trail is append-only'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def _attach_triggers(table: Table) -> None:
    """create_all creates the triggers with the table, as migration 0009 does."""
    for statement in postgresql_triggers(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    for statement in sqlite_triggers(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="sqlite"))


_attach_triggers(AuditEvent.__table__)  # type: ignore[arg-type]
_attach_triggers(AuditCheckpoint.__table__)  # type: ignore[arg-type]
