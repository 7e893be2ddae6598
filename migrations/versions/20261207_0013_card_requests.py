"""card requests

- card_request: what an artisan asks the chamber about their card (lost, renewal, correction), a
  task for the officers of their region, with at most one pending request of each kind per card
  (a partial unique index) and a version for optimistic concurrency between officers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_PENDING = "state IN ('open', 'in_progress')"


def upgrade() -> None:
    op.create_table(
        'card_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('artisan_id', sa.Integer(), nullable=False),
        sa.Column(
            'kind',
            sa.Enum('lost', 'renewal', 'correction', name='requestkind', native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.Column(
            'state',
            sa.Enum(
                'open', 'in_progress', 'done', 'declined', name='requeststate', native_enum=False, create_constraint=True, length=24
            ),
            nullable=False,
        ),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('officer_note', sa.String(length=500), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind != 'correction' OR detail IS NOT NULL", name=op.f('ck_card_request_correction_has_detail')),
        sa.CheckConstraint("state != 'declined' OR officer_note IS NOT NULL", name=op.f('ck_card_request_declined_has_note')),
        sa.CheckConstraint(
            "(state IN ('done', 'declined')) = (handled_at IS NOT NULL)", name=op.f('ck_card_request_handled_at_iff_closed')
        ),
        sa.CheckConstraint("state = 'open' OR handled_by_id IS NOT NULL", name=op.f('ck_card_request_handled_by_once_taken')),
        sa.CheckConstraint('version >= 1', name=op.f('ck_card_request_version_positive')),
        sa.ForeignKeyConstraint(['artisan_id'], ['artisan.id'], name=op.f('fk_card_request_artisan_id_artisan')),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_request_card_id_card')),
        sa.ForeignKeyConstraint(
            ['handled_by_id'], ['user_account.id'], name=op.f('fk_card_request_handled_by_id_user_account')
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['user_account.id'], name=op.f('fk_card_request_requested_by_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_request')),
    )
    with op.batch_alter_table('card_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_request_artisan_id'), ['artisan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_request_card_id'), ['card_id'], unique=False)
        batch_op.create_index('ix_card_request_state_id', ['state', 'id'], unique=False)
        batch_op.create_index(
            'uq_card_request_pending',
            ['card_id', 'kind'],
            unique=True,
            sqlite_where=sa.text(_PENDING),
            postgresql_where=sa.text(_PENDING),
        )


def downgrade() -> None:
    with op.batch_alter_table('card_request', schema=None) as batch_op:
        batch_op.drop_index('uq_card_request_pending', sqlite_where=sa.text(_PENDING), postgresql_where=sa.text(_PENDING))
        batch_op.drop_index('ix_card_request_state_id')
        batch_op.drop_index(batch_op.f('ix_card_request_card_id'))
        batch_op.drop_index(batch_op.f('ix_card_request_artisan_id'))
    op.drop_table('card_request')
