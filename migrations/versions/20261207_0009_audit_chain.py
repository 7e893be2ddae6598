"""audit chain

- audit_event.seq and audit_event.chain_hash: each event's place in the hash chain and its hash
  (docs/audit-trail.md), filled here for the events already recorded, in id order;
- audit_chain_head: the one row appending locks (the last seq and hash);
- audit_checkpoint: signed checkpoints of the chain;
- triggers refusing UPDATE and DELETE on audit_event and audit_checkpoint (and TRUNCATE on
  PostgreSQL), the same as the models create (webapp/models/audit.py).

A later migration that rebuilds audit_event on SQLite (batch mode copies the table) must create
the triggers again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 13:00:00.000000
"""

from datetime import UTC

from alembic import op
import sqlalchemy as sa

from webapp.models.audit import APPEND_ONLY_TABLES, postgresql_triggers, sqlite_triggers
from webapp.services.audit.chain import GENESIS_HASH, HEAD_ID, canonical_content, chain_hash


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_BATCH = 10_000

# The columns the hash covers, as they are stored at this revision.
_events = sa.table(
    'audit_event',
    sa.column('id', sa.Integer()),
    sa.column('seq', sa.BigInteger()),
    sa.column('chain_hash', sa.String()),
    sa.column('occurred_at', sa.DateTime(timezone=True)),
    sa.column('actor_user_id', sa.Integer()),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('card_id', sa.Integer()),
    sa.column('artisan_id', sa.Integer()),
    sa.column('signing_key_id', sa.String()),
    sa.column('organisation_id', sa.Integer()),
    sa.column('offer_id', sa.Integer()),
    sa.column('account_id', sa.Integer()),
    sa.column('reason', sa.String()),
    sa.column('before', sa.JSON()),
    sa.column('after', sa.JSON()),
)


def _backfill(connection: sa.Connection) -> tuple[int, str]:
    """Chain the events already recorded, in id order, a page at a time; the last seq and hash."""
    seq, previous, after_id = 0, GENESIS_HASH, 0
    statement = (
        sa.update(_events)
        .where(_events.c.id == sa.bindparam('event_id'))
        .values(seq=sa.bindparam('new_seq'), chain_hash=sa.bindparam('new_hash'))
    )
    while True:
        page = connection.execute(
            sa.select(_events).where(_events.c.id > after_id).order_by(_events.c.id).limit(_BATCH)
        ).mappings().all()
        if not page:
            return seq, previous
        updates = []
        for row in page:
            values = dict(row)
            moment = values['occurred_at']  # SQLite keeps UTC without its zone
            values['occurred_at'] = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
            seq += 1
            values['seq'] = seq
            previous = chain_hash(previous, canonical_content(values))
            updates.append({'event_id': row['id'], 'new_seq': seq, 'new_hash': previous})
        connection.execute(statement, updates)
        after_id = page[-1]['id']


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))

    last_seq, last_hash = _backfill(op.get_bind())

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('chain_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_event_seq'), ['seq'])

    head = op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(head, [{'id': HEAD_ID, 'seq': last_seq, 'chain_hash': last_hash}])

    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoint'))
    )
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoint_size'), ['size'], unique=False)

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in postgresql_triggers(table) if dialect == 'postgresql' else sqlite_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        if dialect == 'postgresql':
            op.execute(f'DROP TRIGGER IF EXISTS {table}_append_only ON {table}')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_update')
            op.execute(f'DROP TRIGGER IF EXISTS {table}_no_delete')
    with op.batch_alter_table('audit_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoint_size'))
    op.drop_table('audit_checkpoint')
    op.drop_table('audit_chain_head')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_event_seq'), type_='unique')
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('seq')
