"""print batches

- print_batch: cards sent to the postal printer together, the batch's state (prepared, sent to
  printer, printed, delivered or returned) with each transition's time and who, its job, its files
  (storage keys) and when they are deleted.
- print_batch_card: a card in a batch (its pages, a reprint flag), at most one batch on its way to
  the printer per card (a partial unique index on in_flight).
- artisan.address_line, postal_code, city: the optional postal address the card's letter is sent
  to (none: collected at the chamber).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_STATES = ("prepared", "sent_to_printer", "printed", "delivered", "returned")


def upgrade() -> None:
    with op.batch_alter_table("artisan") as batch:
        batch.add_column(sa.Column("address_line", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("postal_code", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("city", sa.String(length=60), nullable=True))
    op.create_table(
        "print_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=2), nullable=True),
        sa.Column(
            "state",
            sa.Enum(*_STATES, name="printbatchstate", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("selection", sa.String(length=40), nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prepared_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("printed_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("cards_file", sa.String(length=255), nullable=True),
        sa.Column("letters_file", sa.String(length=255), nullable=True),
        sa.Column("manifest_file", sa.String(length=255), nullable=True),
        sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files_expire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files_deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("card_count", sa.Integer(), nullable=False),
        sa.Column("reprint_count", sa.Integer(), nullable=False),
        sa.Column("card_pages", sa.Integer(), nullable=True),
        sa.Column("letter_pages", sa.Integer(), nullable=True),
        sa.CheckConstraint("card_count >= 0", name=op.f("ck_print_batch_card_count_not_negative")),
        sa.CheckConstraint("state = 'prepared' OR sent_at IS NOT NULL", name=op.f("ck_print_batch_sent_at_once_sent")),
        sa.CheckConstraint(
            "state NOT IN ('delivered', 'returned') OR ended_at IS NOT NULL",
            name=op.f("ck_print_batch_ended_at_once_ended"),
        ),
        sa.ForeignKeyConstraint(["region_code"], ["region.code"], name=op.f("fk_print_batch_region_code_region")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_print_batch_job_id_job")),
        *(
            sa.ForeignKeyConstraint(
                [f"{who}_by_id"], ["user_account.id"], name=op.f(f"fk_print_batch_{who}_by_id_user_account")
            )
            for who in ("prepared", "sent", "printed", "ended")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batch")),
    )
    with op.batch_alter_table("print_batch") as batch:
        batch.create_index(batch.f("ix_print_batch_region_code"), ["region_code"], unique=False)
        batch.create_index(batch.f("ix_print_batch_job_id"), ["job_id"], unique=False)
        batch.create_index(batch.f("ix_print_batch_files_expire_at"), ["files_expire_at"], unique=False)
    op.create_table(
        "print_batch_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("artisan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("card_page", sa.Integer(), nullable=True),
        sa.Column("letter_page", sa.Integer(), nullable=True),
        sa.Column("reprint", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["print_batch.id"], name=op.f("fk_print_batch_card_batch_id_print_batch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"], name=op.f("fk_print_batch_card_card_id_card")),
        sa.ForeignKeyConstraint(["artisan_id"], ["artisan.id"], name=op.f("fk_print_batch_card_artisan_id_artisan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_batch_card")),
        sa.UniqueConstraint("batch_id", "card_id", name="uq_print_batch_card_batch_card"),
        sa.UniqueConstraint("batch_id", "position", name="uq_print_batch_card_batch_position"),
    )
    with op.batch_alter_table("print_batch_card") as batch:
        batch.create_index(batch.f("ix_print_batch_card_batch_id"), ["batch_id"], unique=False)
        batch.create_index(batch.f("ix_print_batch_card_card_id"), ["card_id"], unique=False)
        batch.create_index(batch.f("ix_print_batch_card_artisan_id"), ["artisan_id"], unique=False)
        batch.create_index(
            "uq_print_batch_card_in_flight",
            ["card_id"],
            unique=True,
            sqlite_where=sa.text("in_flight"),
            postgresql_where=sa.text("in_flight"),
        )


def downgrade() -> None:
    op.drop_table("print_batch_card")
    op.drop_table("print_batch")
    with op.batch_alter_table("artisan") as batch:
        batch.drop_column("city")
        batch.drop_column("postal_code")
        batch.drop_column("address_line")
