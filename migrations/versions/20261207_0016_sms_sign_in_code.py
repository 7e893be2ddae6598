"""sms sign-in code

- user_account.sign_in_code_hash, sign_in_code_expires_at: the one live sign-in code sent by SMS to
  an artisan's phone (webapp/services/accounts/sms_codes.py), as a keyed hash, and its end; NULL
  when there is none.

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-07 17:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("sign_in_code_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("sign_in_code_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("sign_in_code_expires_at")
        batch.drop_column("sign_in_code_hash")
