"""activation codes

- card_activation_code: a card's one-time activation codes, stored as keyed hashes
  (webapp/services/cards/activation.py), with at most one live code (neither used nor
  superseded) per card, enforced by a partial unique index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 14:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_LIVE = 'used_at IS NULL AND superseded_at IS NULL'


def upgrade() -> None:
    op.create_table(
        'card_activation_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_card_activation_code_expires_after_issue')),
        sa.CheckConstraint(
            'used_at IS NULL OR superseded_at IS NULL', name=op.f('ck_card_activation_code_used_or_superseded')
        ),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_activation_code_card_id_card')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_activation_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_card_activation_code_code_hash')),
    )
    with op.batch_alter_table('card_activation_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_activation_code_card_id'), ['card_id'], unique=False)
        batch_op.create_index(
            'uq_card_activation_code_live',
            ['card_id'],
            unique=True,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )


def downgrade() -> None:
    with op.batch_alter_table('card_activation_code', schema=None) as batch_op:
        batch_op.drop_index('uq_card_activation_code_live', sqlite_where=sa.text(_LIVE), postgresql_where=sa.text(_LIVE))
        batch_op.drop_index(batch_op.f('ix_card_activation_code_card_id'))
    op.drop_table('card_activation_code')
