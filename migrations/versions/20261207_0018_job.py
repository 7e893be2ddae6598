"""job

- job: long work run by the job workers (issue 16, DESIGN decision 12): kind, who asked, state,
  progress, heartbeat, parts, result file, error, cancellation.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 20:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

JOB_STATES = ("queued", "running", "waiting", "done", "failed", "cancelled", "interrupted")


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*JOB_STATES, name="jobstate", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=2), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("part_index", sa.Integer(), nullable=True),
        sa.Column("parts_total", sa.Integer(), nullable=True),
        sa.Column("parts_done", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("result_file", sa.String(length=255), nullable=True),
        sa.Column("result_name", sa.String(length=255), nullable=True),
        sa.Column("result_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("done >= 0", name=op.f("ck_job_done_non_negative")),
        sa.CheckConstraint("parts_done >= 0", name=op.f("ck_job_parts_done_non_negative")),
        sa.CheckConstraint("(parent_id IS NULL) = (part_index IS NULL)", name=op.f("ck_job_part_has_parent")),
        sa.ForeignKeyConstraint(["parent_id"], ["job.id"], name=op.f("fk_job_parent_id_job")),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_job_region_code_region")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_job_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job") as batch:
        batch.create_index(batch.f("ix_job_kind"), ["kind"], unique=False)
        batch.create_index(batch.f("ix_job_state"), ["state"], unique=False)
        batch.create_index(batch.f("ix_job_user_id"), ["user_id"], unique=False)
        batch.create_index(batch.f("ix_job_region_code"), ["region_code"], unique=False)
        batch.create_index(batch.f("ix_job_dedupe_key"), ["dedupe_key"], unique=False)
        batch.create_index(batch.f("ix_job_parent_id"), ["parent_id"], unique=False)
        batch.create_index(batch.f("ix_job_heartbeat_at"), ["heartbeat_at"], unique=False)


def downgrade() -> None:
    op.drop_table("job")
