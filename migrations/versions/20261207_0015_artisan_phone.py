"""artisan account phone

- user_account.phone: the mobile number an artisan gave at card activation, in E.164 form
  (+212...), where sign-in codes are sent by SMS (webapp/services/accounts/sms.py); NULL for
  everyone else.

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-07 16:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0011'  # 0010 in the plan; chained after live-qr's 0011, merged into this branch
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('phone')
