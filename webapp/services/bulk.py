"""Bulk writes for the national scale: many rows in one driver round trip."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.orm import Session

# SQLite's default limit on the bound parameters of one statement (since 3.32).
SQLITE_MAX_VARIABLES = 32_766


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]], *, rows_per_statement: int = 1) -> None:
    """INSERT many rows straight through the driver's executemany.

    Each value still goes through its column type's own bind processor (same stored form as an ORM
    insert), but a value repeated across rows (a chunk's issue date, a status) is processed once,
    and SQLAlchemy's per-row parameter building is skipped: for the 622,000-card roll-out that
    building cost more than SQLite's own work.

    rows_per_statement > 1 sends that many rows in each INSERT (multi-row VALUES, within SQLite's
    parameter limit) where the driver takes positional parameters (SQLite; PostgreSQL's driver
    pipelines executemany itself). It is for tables with triggers: each statement that fires one
    opens a statement savepoint, and on the artisan table each savepoint makes FTS5 write out the
    search index's pending entries (webapp/models/search_index.py), ~10 times the cost of the
    row itself when rows go one per statement.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    memos: list[dict[Any, Any]] = [{} for _ in names]

    def processed(position: int, value: Any) -> Any:
        processor = processors[position]
        if processor is None or value is None:
            return value
        if isinstance(value, dict | list):  # JSON: not hashable, always processed
            return processor(value)
        memo = memos[position]
        if value not in memo:
            memo[value] = processor(value)
        return memo[value]

    if compiled.positional:
        order = [names.index(key) for key in compiled.positiontup or []]
        parameters: list[Any] = [tuple(processed(i, row[names[i]]) for i in order) for row in rows]
        if rows_per_statement > 1:
            _insert_rows_per_statement(connection, compiled.string, parameters, rows_per_statement)
            return
    else:
        parameters = [{name: processed(i, row[name]) for i, name in enumerate(names)} for row in rows]
    connection.exec_driver_sql(compiled.string, parameters)


def _insert_rows_per_statement(
    connection: Connection, one_row: str, parameters: list[tuple[Any, ...]], rows_per_statement: int
) -> None:
    """The one-row INSERT repeated as multi-row VALUES, `rows_per_statement` rows at a time."""
    head, _values, row_placeholders = one_row.partition(" VALUES ")
    per_statement = max(1, min(rows_per_statement, SQLITE_MAX_VARIABLES // max(1, len(parameters[0]))))
    for start in range(0, len(parameters), per_statement):
        chunk = parameters[start : start + per_statement]
        statement = f"{head} VALUES {', '.join([row_placeholders] * len(chunk))}"
        connection.exec_driver_sql(statement, tuple(value for row in chunk for value in row))
