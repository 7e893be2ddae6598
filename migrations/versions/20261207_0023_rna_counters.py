"""RNA numbers given by the system, per region; likely duplicates looked up by birth date

- rna_counter: the last serial given in each region's RNA numbers (RNA-03-0001234), started from
  the highest well-formed number of each region already in the register.
- ix_artisan_birth_date: a new registration looks up the artisans born the same day.

Provinces: the free-text provinces already stored are left as they are (no mapping of spellings
here): the register checks a province against its region's list when it is typed or changed.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 23:20:00.000000
"""

import re

from alembic import op
import sqlalchemy as sa


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_NUMBER = re.compile(r"RNA-([0-9]{2})-([0-9]{7})")


def upgrade() -> None:
    op.create_table(
        "rna_counter",
        sa.Column("region_code", sa.String(length=2), nullable=False),
        sa.Column("last_serial", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_serial >= 0", name=op.f("ck_rna_counter_last_serial_not_negative")),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_rna_counter_region_code_region")),
        sa.PrimaryKeyConstraint("region_code", name=op.f("pk_rna_counter")),
    )
    with op.batch_alter_table("artisan") as batch:
        batch.create_index(batch.f("ix_artisan_birth_date"), ["birth_date"], unique=False)
    connection = op.get_bind()
    counters = {}
    for (region_code,) in connection.execute(sa.text("SELECT code FROM region")):
        # Fixed width: the greatest string of the region's well-formed numbers is the highest.
        highest = connection.execute(
            sa.text(
                "SELECT max(rna_number) FROM artisan WHERE rna_number LIKE :prefix AND length(rna_number) = 14"
            ),
            {"prefix": f"RNA-{region_code}-%"},
        ).scalar()
        match = _NUMBER.fullmatch(highest or "")
        counters[region_code] = int(match.group(2)) if match else 0
    if counters:
        table = sa.table("rna_counter", sa.column("region_code", sa.String), sa.column("last_serial", sa.Integer))
        op.bulk_insert(table, [{"region_code": code, "last_serial": serial} for code, serial in counters.items()])


def downgrade() -> None:
    with op.batch_alter_table("artisan") as batch:
        batch.drop_index(batch.f("ix_artisan_birth_date"))
    op.drop_table("rna_counter")
