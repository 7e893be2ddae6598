"""edit versions

- artisan.version: the record's version for optimistic concurrency (webapp/services/concurrency.py):
  every save of the edit form is `UPDATE ... WHERE id = ? AND version = <the version shown>`, so two
  officers editing one artisan never overwrite each other unseen. Existing rows start at 1.
  (offer.version and card_request.version exist already and serve the same purpose.)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 23:10:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default backfills every existing row with 1 in one statement. Never recreate the
    # table on SQLite (no CHECK constraint then): a copy would lose the search index's triggers (0006).
    with op.batch_alter_table("artisan", recreate="never") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("artisan", recreate="never") as batch:
        batch.drop_column("version")
