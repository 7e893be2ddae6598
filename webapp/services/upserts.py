"""An INSERT that gives way to an existing row, atomically, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_if_absent(session: Session, model: type[Any], values: dict[str, Any], unique: Sequence[str]) -> bool:
    """Insert one row unless a row with the same `unique` columns exists; True when inserted.

    One `INSERT ... ON CONFLICT DO NOTHING`, no savepoint: a concurrent transaction inserting the
    same key makes this one wait until it ends (PostgreSQL's unique index, SQLite's write lock),
    then give way if it committed. A savepoint would not do on SQLite: the driver opens no
    transaction before a SAVEPOINT, so releasing it commits the row at once, before the work it
    guards (a refused request would leave its row behind).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=list(unique))
    # The driver's row count of an INSERT is read only when asked for (psycopg answers -1 later).
    result = session.execute(statement.execution_options(preserve_rowcount=True))
    return result.rowcount == 1
