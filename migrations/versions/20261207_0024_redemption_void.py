"""redemption void

- redemption.voided_at, voided_by_user_id, void_reason: a partner manager voids a mistaken
  redemption with a reason (issue 17, item 8); all three NULL, or all three set.
- offer.deleted_at: a draft its manager deleted (never submitted, never used). The row stays, out
  of every list and page: the audit trail's events name it and are never rewritten.
- form_submission: one-time tokens of create forms, claimed by the request that created the
  record (a form sent twice creates one record; the replay leads to it).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 23:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("offer", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "form_submission",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("form", sa.String(length=40), nullable=False),
        sa.Column("result_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_form_submission_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_form_submission")),
    )
    op.create_index(op.f("ix_form_submission_created_at"), "form_submission", ["created_at"], unique=False)
    # SQLite cannot add a foreign key or a check to a table in place: batch mode copies the table.
    with op.batch_alter_table("redemption") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by_user_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.String(length=200), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_redemption_voided_by_user_id_user_account"), "user_account", ["voided_by_user_id"], ["id"]
        )
        batch.create_check_constraint(
            batch.f("ck_redemption_void_complete"),
            "(voided_at IS NULL) = (voided_by_user_id IS NULL) AND (voided_at IS NULL) = (void_reason IS NULL)",
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_form_submission_created_at"), table_name="form_submission")
    op.drop_table("form_submission")
    with op.batch_alter_table("redemption") as batch:
        batch.drop_constraint(batch.f("ck_redemption_void_complete"), type_="check")
        batch.drop_constraint(batch.f("fk_redemption_voided_by_user_id_user_account"), type_="foreignkey")
        batch.drop_column("void_reason")
        batch.drop_column("voided_by_user_id")
        batch.drop_column("voided_at")
    with op.batch_alter_table("offer") as batch:
        batch.drop_column("deleted_at")
