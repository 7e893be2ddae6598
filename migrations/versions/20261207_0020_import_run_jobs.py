"""import_run on the job workers

- import_run.job_id: the run's latest job (its check, its import), where its progress is read.
- import_run.last_line, changes: what a batch-committed import had written (the file's last line
  of its last committed batch), and the first updates with what they change (for the report).
- import_run.status may be "interrupted" (its worker stopped mid-way: the file is kept).
- rows_done, rows_total and updated_at go: progress and heartbeat are the job's.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 20:30:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OLD_STATUSES = ("checking", "checked", "importing", "imported", "failed", "cancelled")
NEW_STATUSES = (*OLD_STATUSES, "interrupted")


def _status(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="importstatus", native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("changes", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("last_line", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_import_run_job_id_job"), "job", ["job_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_import_run_job_id"), ["job_id"], unique=False)
        batch_op.drop_constraint(batch_op.f("ck_import_run_rows_done_non_negative"), type_="check")
        batch_op.drop_column("rows_done")
        batch_op.drop_column("rows_total")
        batch_op.drop_column("updated_at")
        batch_op.alter_column(
            "status", existing_type=_status(OLD_STATUSES), type_=_status(NEW_STATUSES), existing_nullable=False
        )


def downgrade() -> None:
    op.execute("UPDATE import_run SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.alter_column(
            "status", existing_type=_status(NEW_STATUSES), type_=_status(OLD_STATUSES), existing_nullable=False
        )
        batch_op.add_column(
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
        )
        batch_op.add_column(sa.Column("rows_total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rows_done", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint("rows_done_non_negative", "rows_done >= 0")
        batch_op.drop_index(batch_op.f("ix_import_run_job_id"))
        batch_op.drop_constraint(batch_op.f("fk_import_run_job_id_job"), type_="foreignkey")
        batch_op.drop_column("last_line")
        batch_op.drop_column("changes")
        batch_op.drop_column("job_id")
