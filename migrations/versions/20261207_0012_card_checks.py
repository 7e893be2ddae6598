"""card checks

- card_check: each online check of a card by a partner (organisation, time, kind, place as given,
  the checker), and the holder's "this was not me" report.
- card_check_count: anonymous public checks, counted per card and month, never listed.
Both are deleted after CARD_CHECK_RETENTION_MONTHS (`flask --app wsgi cards purge-checks`).

Revision ID: 0012
Revises: 0014
Create Date: 2026-12-07 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0014'
branch_labels = None
depends_on = None

_KINDS = ('staff_scan', 'staff_number', 'system_scan', 'system_number')


def upgrade() -> None:
    op.create_table(
        'card_check',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.Enum(*_KINDS, name='checkkind', native_enum=False, create_constraint=True, length=24),
                  nullable=False),
        sa.Column('place', sa.String(length=120), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('api_key_id', sa.Integer(), nullable=True),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reported_by_user_id', sa.Integer(), nullable=True),
        sa.CheckConstraint('user_id IS NULL OR api_key_id IS NULL', name=op.f('ck_card_check_one_checker')),
        sa.CheckConstraint(
            '(reported_at IS NULL) = (reported_by_user_id IS NULL)', name=op.f('ck_card_check_report_complete')
        ),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_check_card_id_card')),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisation.id'], name=op.f('fk_card_check_organisation_id_organisation')
        ),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_card_check_user_id_user_account')),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_card_check_api_key_id_api_key')),
        sa.ForeignKeyConstraint(
            ['reported_by_user_id'], ['user_account.id'], name=op.f('fk_card_check_reported_by_user_id_user_account')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_card_check')),
    )
    with op.batch_alter_table('card_check', schema=None) as batch_op:
        batch_op.create_index('ix_card_check_card_id_checked_at', ['card_id', 'checked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_check_checked_at'), ['checked_at'], unique=False)
    op.create_table(
        'card_check_count',
        sa.Column('card_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('checks', sa.Integer(), nullable=False),
        sa.CheckConstraint('checks > 0', name=op.f('ck_card_check_count_checks_positive')),
        sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_card_check_count_card_id_card')),
        sa.PrimaryKeyConstraint('card_id', 'month', name=op.f('pk_card_check_count')),
    )


def downgrade() -> None:
    op.drop_table('card_check_count')
    with op.batch_alter_table('card_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_check_checked_at'))
        batch_op.drop_index('ix_card_check_card_id_checked_at')
    op.drop_table('card_check')
