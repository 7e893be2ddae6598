"""redemption reports

- redemption.reported_at, reported_by_user_id: the holder's "this was not me" report of a use of
  their card (issue 15, part 5), as on card_check; both NULL, or both set.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:05:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite cannot add a foreign key or a check to a table in place: batch mode copies the table.
    with op.batch_alter_table("redemption") as batch:
        batch.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reported_by_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_redemption_reported_by_user_id_user_account"), "user_account", ["reported_by_user_id"], ["id"]
        )
        batch.create_check_constraint(
            batch.f("ck_redemption_report_complete"), "(reported_at IS NULL) = (reported_by_user_id IS NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("redemption") as batch:
        batch.drop_constraint(batch.f("ck_redemption_report_complete"), type_="check")
        batch.drop_constraint(batch.f("fk_redemption_reported_by_user_id_user_account"), type_="foreignkey")
        batch.drop_column("reported_by_user_id")
        batch.drop_column("reported_at")
