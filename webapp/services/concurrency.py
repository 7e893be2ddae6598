"""Optimistic concurrency for every edit form: two people editing one record never overwrite each
other unseen.

The record has a `version` integer. A form shows it (a hidden field) with the values it shows; a
save names it as `expected_version` and its service calls `claim_version` before writing anything:
one conditional `UPDATE ... SET version = version + 1 WHERE id = ? AND version = ?`. Only one of two
concurrent saves can match the row (on PostgreSQL the second waits for the first's row lock, then
finds the new version), so the other gets EditConflict, never a silent overwrite, and has written
nothing. The form then shows, field by field, what the person typed and what was saved meanwhile
(by whom, when: `last_change` reads the audit trail), lets them choose per field (the web side
applies the choices) and saves again against the new version.

No Flask here: webapp/edit_conflicts.py is the web side (hidden fields, the conflict table).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.models import AuditEvent, User
from webapp.services.errors import N_, DomainError

Choice = Literal["mine", "theirs"]


class EditConflict(DomainError):
    """The record changed since the form was shown: nothing was written."""

    code = "edit_conflict"
    http_status = 409
    message = N_(
        "Someone else changed this record since you opened this page. Nothing was saved: look at it "
        "as it is now, then decide again."
    )
    current_version: int | None

    def __init__(self, current_version: int | None = None) -> None:
        super().__init__()
        self.current_version = current_version


def parse_version(raw: Any) -> int | None:
    """A version as a form sent it (digits), or None when absent or not a number."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        return None
    return int(text)


def claim_version(session: Session, record: Any, expected_version: int | None) -> int:
    """Move `record`'s version on if it still is `expected_version`; EditConflict otherwise.

    Call it before changing anything: the UPDATE is the check, so nothing can slip in between a
    check and the write. The ORM object is brought up to the new version without another write."""
    model = type(record)
    table_id, table_version = model.id, model.version
    claimed = session.execute(
        update(model)
        .where(table_id == record.id, table_version == expected_version)
        .values(version=table_version + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        current = session.scalar(select(table_version).where(table_id == record.id))
        raise EditConflict(current)
    new_version = (expected_version or 0) + 1
    # The row says new_version already: the object must not think it has a change to flush.
    set_committed_value(record, "version", new_version)
    return new_version


@dataclass(frozen=True)
class LastChange:
    """Who saved a record last, and when (from the audit trail)."""

    at: datetime
    by: str  # the person's name, or the actor's label (an import, a command)


def last_change(session: Session, *where: ColumnElement[bool], actions: Iterable[str]) -> LastChange | None:
    """The latest audit event among `actions` matching `where` (e.g. AuditEvent.artisan_id == 3)."""
    statement = (
        select(AuditEvent.occurred_at, AuditEvent.actor, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_user_id)
        .where(AuditEvent.action.in_(list(actions)), *where)
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return LastChange(row.occurred_at, row.display_name or row.actor)


@dataclass(frozen=True)
class FieldConflict:
    """A field saved meanwhile with another value than the one the person typed."""

    field: str
    mine: Any
    theirs: Any
    # What the choice starts at: theirs when the person left the field as it was shown (they did
    # not mean to change it), mine when they changed it too.
    default: Choice


def field_conflicts(
    shown: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any], fields: Iterable[str]
) -> list[FieldConflict]:
    """The fields saved meanwhile (theirs differs from what the form showed) whose saved value
    differs from the person's: those the person must choose between. A field only the person
    changed is not a conflict (theirs is what was shown): it stays theirs to save."""
    conflicts = []
    for field in fields:
        if theirs.get(field) == shown.get(field) or theirs.get(field) == mine.get(field):
            continue
        default: Choice = "theirs" if mine.get(field) == shown.get(field) else "mine"
        conflicts.append(FieldConflict(field, mine.get(field), theirs.get(field), default))
    return conflicts
