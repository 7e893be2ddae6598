"""register import

- register_state: one row with the artisans' version, bumped whenever artisans are written;
  eligibility_list.artisans_version records it, so a list is rebuilt when an artisan's attributes
  change (not only a card's status).
- import_run: the back office's bulk imports (dry run, then import), their state and counts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

IMPORT_STATUSES = ('checking', 'checked', 'importing', 'imported', 'failed', 'cancelled')


def upgrade() -> None:
    register_state = op.create_table('register_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artisans_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_state'))
    )
    op.bulk_insert(register_state, [{'id': 1, 'artisans_version': 0}])

    # Lists signed before this revision read artisans as they were: 0 matches the new row's
    # version, so they stay fresh until the next change.
    with op.batch_alter_table('eligibility_list', schema=None) as batch_op:
        batch_op.add_column(sa.Column('artisans_version', sa.Integer(), nullable=False, server_default='0'))

    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=True),
    sa.Column('file_kind', sa.Enum('csv', 'xlsx', name='importfilekind', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum(*IMPORT_STATUSES, name='importstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('strict', sa.Boolean(), nullable=False),
    sa.Column('rows_total', sa.Integer(), nullable=True),
    sa.Column('rows_done', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.Column('written', sa.Boolean(), nullable=False),
    sa.Column('failure', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rows_done >= 0', name=op.f('ck_import_run_rows_done_non_negative')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_import_run_region_code_region')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_import_run_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_import_run_stored_name'))
    )
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_run_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_run_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_run_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('import_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_run_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_run_status'))
        batch_op.drop_index(batch_op.f('ix_import_run_region_code'))
    op.drop_table('import_run')

    with op.batch_alter_table('eligibility_list', schema=None) as batch_op:
        batch_op.drop_column('artisans_version')

    op.drop_table('register_state')
