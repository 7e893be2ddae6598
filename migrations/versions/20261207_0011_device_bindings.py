"""device bindings

- card_device: the phone key a card's live QR codes are signed with (webapp/services/cards/devices.py),
  each binding with its own status-list index, at most one current binding (replaced_at IS NULL) per
  card, enforced by a partial unique index.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_CURRENT = 'replaced_at IS NULL'


def upgrade() -> None:
    op.create_table(
        'card_device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.String(length=87), nullable=False),
        sa.Column('thumbprint', sa.String(length=64), nullable=False),
        sa.Column('status_index', sa.Integer(), nullable=False),
        sa.Column('bound_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('status_index >= 0', name=op.f('ck_card_device_status_index_non_negative')),
        sa.CheckConstraint(
            'replaced_at IS NULL OR replaced_at >= bound_at', name=op.f('ck_card_device_replaced_after_bound')
        ),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_device_card_id_card')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_card_device_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_device')),
        sa.UniqueConstraint('status_index', name=op.f('uq_card_device_status_index')),
        sa.UniqueConstraint('thumbprint', name=op.f('uq_card_device_thumbprint')),
    )
    with op.batch_alter_table('card_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_device_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_device_user_id'), ['user_id'], unique=False)
        batch_op.create_index(
            'uq_card_device_current',
            ['card_id'],
            unique=True,
            sqlite_where=sa.text(_CURRENT),
            postgresql_where=sa.text(_CURRENT),
        )


def downgrade() -> None:
    with op.batch_alter_table('card_device', schema=None) as batch_op:
        batch_op.drop_index('uq_card_device_current', sqlite_where=sa.text(_CURRENT), postgresql_where=sa.text(_CURRENT))
        batch_op.drop_index(batch_op.f('ix_card_device_user_id'))
        batch_op.drop_index(batch_op.f('ix_card_device_card_id'))
    op.drop_table('card_device')
