"""revocation reason as a code; published keys apart from rotated-out keys

- card.revocation_reason: why a revoked card was revoked (lost, stolen, deceased, fraud,
  left_trade, replaced), filled from the text status_reason ("fraud: note") of revoked cards; a
  CHECK keeps it set exactly on revoked cards. The roll-out reads it to skip artisans whose last
  card was revoked for deceased, fraud or left_trade.
- card.key_id is indexed (cards signed by a key: retirement check, re-signing).
- signing_key.state gains "published": generated while another key signs, never used yet. Keys in
  "verify_only" that were never rotated out (no key.deactivate event) become "published".

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:50:55.306410
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

REVOCATION_REASONS = ('lost', 'stolen', 'deceased', 'fraud', 'left_trade', 'replaced')
OLD_KEY_STATES = ('active', 'verify_only', 'retired')
NEW_KEY_STATES = ('published', 'active', 'verify_only', 'retired')


def _key_state(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='signingkeystate', native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revocation_reason', sa.Enum(*REVOCATION_REASONS, name='revocationreason', native_enum=False, create_constraint=True, length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_card_key_id'), ['key_id'], unique=False)

    # status_reason of a revoked card is "<reason>" or "<reason>: <note>" (revoke_card wrote it so).
    for reason in REVOCATION_REASONS:
        op.execute(
            sa.text(
                "UPDATE card SET revocation_reason = :reason WHERE status = 'revoked' "
                "AND (status_reason = :reason OR substr(status_reason, 1, :length) = :prefix)"
            ).bindparams(reason=reason, length=len(reason) + 1, prefix=f'{reason}:')
        )
    # Never expected (every revocation went through revoke_card), but the CHECK below must hold.
    op.execute("UPDATE card SET revocation_reason = 'lost' WHERE status = 'revoked' AND revocation_reason IS NULL")

    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'revocation_reason_iff_revoked',
            "(status = 'revoked' AND revocation_reason IS NOT NULL)"
            " OR (status != 'revoked' AND revocation_reason IS NULL)",
        )

    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.alter_column(
            'state', existing_type=_key_state(OLD_KEY_STATES), type_=_key_state(NEW_KEY_STATES), existing_nullable=False
        )
    op.execute(
        "UPDATE signing_key SET state = 'published' WHERE state = 'verify_only' AND NOT EXISTS ("
        "SELECT 1 FROM audit_event WHERE audit_event.signing_key_id = signing_key.kid "
        "AND audit_event.action = 'key.deactivate')"
    )


def downgrade() -> None:
    op.execute("UPDATE signing_key SET state = 'verify_only' WHERE state = 'published'")
    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.alter_column(
            'state', existing_type=_key_state(NEW_KEY_STATES), type_=_key_state(OLD_KEY_STATES), existing_nullable=False
        )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_card_revocation_reason_iff_revoked'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_card_revocationreason'), type_='check')
        batch_op.drop_index(batch_op.f('ix_card_key_id'))
        batch_op.drop_column('revocation_reason')
