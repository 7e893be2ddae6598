"""register search: search keys of artisans and their full-text index

- artisan.search_keys: the folded keys of the four name fields (webapp/models/search_keys.py),
  filled here for every existing artisan; artisan.phone_key: the national number of the phone,
  indexed, so a phone typed in any form is found by equality.
- card (status, expires_at) indexed: the search's filters on suspended, revoked and expired cards
  start from those cards.
- The full-text index over search_keys (webapp/models/search_index.py): on SQLite an FTS5 table
  with external content and three triggers that keep it in step, built from the filled column;
  on PostgreSQL a GIN index over the keys as a tsvector.

A later migration that recreates the artisan table on SQLite (batch mode "recreate") drops the
three triggers with it: it must create them again (SQLITE_TRIGGERS below, or search_index's).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa

# The keys are what the application computes today: the column must hold exactly what its queries
# look for, so this migration uses the application's own folding rather than a frozen copy.
from webapp.models.search_keys import search_columns


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BATCH = 5000
NAME_COLUMNS = ('first_name_latin', 'last_name_latin', 'first_name_ar', 'last_name_ar', 'phone')
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE artisan_search USING fts5(search_keys, content='artisan', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0, prefix='3')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER artisan_search_insert AFTER INSERT ON artisan BEGIN "
    "INSERT INTO artisan_search(rowid, search_keys) VALUES (new.id, new.search_keys); END",
    "CREATE TRIGGER artisan_search_delete AFTER DELETE ON artisan BEGIN "
    "INSERT INTO artisan_search(artisan_search, rowid, search_keys) VALUES ('delete', old.id, old.search_keys); END",
    "CREATE TRIGGER artisan_search_update AFTER UPDATE OF search_keys ON artisan BEGIN "
    "INSERT INTO artisan_search(artisan_search, rowid, search_keys) VALUES ('delete', old.id, old.search_keys); "
    "INSERT INTO artisan_search(rowid, search_keys) VALUES (new.id, new.search_keys); END",
)
POSTGRESQL_INDEX = (
    "CREATE INDEX ix_artisan_search_keys ON artisan USING gin (array_to_tsvector(string_to_array(search_keys, ' '))) "
    "WITH (gin_pending_list_limit = 256)"
)


def upgrade() -> None:
    with op.batch_alter_table('artisan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_keys', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=15), nullable=True))
        batch_op.create_index(batch_op.f('ix_artisan_phone_key'), ['phone_key'], unique=False)
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index('ix_card_status_expires_at', ['status', 'expires_at'], unique=False)

    connection = op.get_bind()
    artisan = sa.table('artisan', sa.column('id', sa.Integer), *(sa.column(name) for name in NAME_COLUMNS),
                       sa.column('search_keys'), sa.column('phone_key'))
    fill = (
        sa.update(artisan)
        .where(artisan.c.id == sa.bindparam('artisan_id'))
        .values(search_keys=sa.bindparam('new_keys'), phone_key=sa.bindparam('new_phone_key'))
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(artisan.c.id, *(artisan.c[name] for name in NAME_COLUMNS))
            .where(artisan.c.id > last).order_by(artisan.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row in rows:
            columns = search_columns(row._mapping)
            updates.append({'artisan_id': row.id, 'new_keys': columns['search_keys'], 'new_phone_key': columns['phone_key']})
        connection.execute(fill, updates)
        last = rows[-1].id

    if connection.dialect.name == 'sqlite':
        op.execute(SQLITE_FTS)
        op.execute("INSERT INTO artisan_search(artisan_search) VALUES ('rebuild')")
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    elif connection.dialect.name == 'postgresql':
        op.execute(POSTGRESQL_INDEX)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS artisan_search_{name}')
        op.execute('DROP TABLE IF EXISTS artisan_search')
    else:
        op.execute('DROP INDEX IF EXISTS ix_artisan_search_keys')
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index('ix_card_status_expires_at')
    with op.batch_alter_table('artisan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artisan_phone_key'))
        batch_op.drop_column('phone_key')
        batch_op.drop_column('search_keys')
