"""staff sign-in

- user_account: must_change_password (a temporary password to replace at the next sign-in),
  failed_sign_ins with last_failed_sign_in_at and locked_until (the temporary lock after repeated
  failures), last_signed_in_at. Existing accounts keep their password and are not locked.
- audit_event: account_id, the account a sign-in, failure, lock or change concerns.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 05:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('last_failed_sign_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_signed_in_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint('failed_sign_ins_not_negative', 'failed_sign_ins >= 0')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_account_id'), ['account_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_audit_event_account_id_user_account'), 'user_account', ['account_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_account_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_account_id'))
        batch_op.drop_column('account_id')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_failed_sign_ins_not_negative'), type_='check')
        batch_op.drop_column('last_signed_in_at')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('last_failed_sign_in_at')
        batch_op.drop_column('failed_sign_ins')
        batch_op.drop_column('must_change_password')
