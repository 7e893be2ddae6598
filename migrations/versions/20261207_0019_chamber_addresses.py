"""chamber addresses

- region.chamber_name_fr/_ar, chamber_address_fr/_ar: the regional chamber of handicraft's name and
  postal address, printed on the back of cards and on card letters (issue 16, part 2). Filled by
  the reference data sync (names and seat cities); the ministry completes the street addresses.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 19:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

COLUMNS = (
    ("chamber_name_fr", 160),
    ("chamber_name_ar", 160),
    ("chamber_address_fr", 300),
    ("chamber_address_ar", 300),
)


def upgrade() -> None:
    with op.batch_alter_table("region") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("region") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
