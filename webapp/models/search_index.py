"""The full-text index over `artisan.search_keys`, which each database builds its own way:

- SQLite: an FTS5 table `artisan_search` with external content (it stores the index, not a second
  copy of the keys), kept in step with the artisan table by three triggers. The keys are computed
  in Python (webapp/models/search_keys.py) into the column, so the triggers only copy the column:
  whatever writes the column, ORM or bulk insert, updates the index in the same transaction.
  `detail=none, columnsize=0`: a query only asks which rows hold which key prefixes (no phrases,
  no ranking), so positions and sizes are not stored; `prefix='3'` keeps an index of 3-character
  prefixes for typed word starts.
  Bulk writers: every statement that fires a trigger opens a statement savepoint, and FTS5 writes
  its pending entries out at each savepoint; rows inserted one per statement (executemany) cost
  ~10 times more than the row itself. Insert many rows per statement
  (webapp.services.bulk.bulk_insert(..., rows_per_statement=1000)): the index then costs little.
- PostgreSQL: a GIN index over the keys as a tsvector of exact lexemes
  (`array_to_tsvector(string_to_array(search_keys, ' '))`: no parser, no stemming, the keys are
  already folded), matched with `lexeme:*` prefixes. New rows wait in the index's pending list
  until it is full (or a vacuum), and every search reads that list whole: capped at 256 kB instead
  of 4 MB (a search over 10,000 pending rows took three times as long; measured, docs/performance.md),
  while a bulk insert is still indexed a few hundred rows at a time.

Neither object is a declarative model (an FTS5 table is not a table SQLAlchemy can create, and the
GIN index exists on one dialect only): `attach` creates them after the artisan table on
`create_all` (tests), the migration 0006 creates them in a migrated database, and `include_name`
keeps them out of Alembic's comparison with the models (migrations/env.py and the schema test).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import DDL, ColumnElement, Table, event, func, literal_column

FTS_TABLE = "artisan_search"
POSTGRESQL_INDEX = "ix_artisan_search_keys"

SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_keys, content='artisan', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0, prefix='3')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON artisan BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_keys) VALUES (new.id, new.search_keys); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON artisan BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_keys) VALUES ('delete', old.id, old.search_keys); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF search_keys ON artisan BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_keys) VALUES ('delete', old.id, old.search_keys); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_keys) VALUES (new.id, new.search_keys); END",
)
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{event_name}" for event_name in ("insert", "delete", "update")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
POSTGRESQL_CREATE = (
    f"CREATE INDEX IF NOT EXISTS {POSTGRESQL_INDEX} ON artisan "
    "USING gin (array_to_tsvector(string_to_array(search_keys, ' '))) WITH (gin_pending_list_limit = 256)",
)

# Objects of the search index in a database, which the models do not describe: the FTS5 table
# and the shadow tables SQLite keeps its index in, and the PostgreSQL GIN index.
NAMES_OUTSIDE_MODELS = frozenset(
    {FTS_TABLE, f"{FTS_TABLE}_data", f"{FTS_TABLE}_idx", f"{FTS_TABLE}_config", POSTGRESQL_INDEX}
)


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic's `include_name` hook: compare everything but the search index's own objects."""
    return not (type_ in ("table", "index") and name in NAMES_OUTSIDE_MODELS)


def postgresql_vector(search_keys: ColumnElement[Any]) -> ColumnElement[Any]:
    """The indexed expression, written exactly as in the index so that the planner uses it."""
    return func.array_to_tsvector(func.string_to_array(search_keys, literal_column("' '")))


def attach(artisan_table: Table) -> None:
    """Create the index with the artisan table and drop it before (create_all, drop_all)."""
    for statement in SQLITE_CREATE:
        event.listen(artisan_table, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in SQLITE_DROP:
        event.listen(artisan_table, "before_drop", DDL(statement).execute_if(dialect="sqlite"))
    for statement in POSTGRESQL_CREATE:
        event.listen(artisan_table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
