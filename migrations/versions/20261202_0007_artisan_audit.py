"""artisan audit

- audit_event.artisan_id: the artisan an event concerns (a change to their register record, or
  to one of their cards), so an artisan's page lists their whole trail with one indexed query.
  Existing card events are filed under their card's holder.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('artisan_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_artisan_id'), ['artisan_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_artisan_id_artisan'), 'artisan', ['artisan_id'], ['id'])
    op.execute(
        'UPDATE audit_event SET artisan_id = (SELECT card.artisan_id FROM card WHERE card.id = audit_event.card_id) '
        'WHERE card_id IS NOT NULL'
    )


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_artisan_id_artisan'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_artisan_id'))
        batch_op.drop_column('artisan_id')
