"""partners and offers

- partner_kind: reference table of partner kinds (a new kind needs no migration), each with the
  maximum age of its staff's trust bundle; organisation.kind (an enum) becomes kind_code, and
  organisations get a slug (for commands), is_enabled and created_at.
- user_account.role: "partner" splits into "partner_manager" (existing partner users, who had every
  partner right) and "partner_agent".
- api_key: scopes (existing keys keep every scope), expiry, last use.
- offer, offer_withdrawal, quota_usage, redemption, idempotency_record, eligibility_list.
- audit_event: organisation_id and offer_id.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 00:50:26.711751
"""

import re
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

OLD_ROLES = ('admin', 'officer', 'partner', 'artisan')
BRIDGE_ROLES = ('admin', 'officer', 'partner', 'partner_manager', 'partner_agent', 'artisan')
NEW_ROLES = ('admin', 'officer', 'partner_manager', 'partner_agent', 'artisan')
OLD_KINDS = ('transporter', 'market_organiser', 'lender', 'training_body')
# The kinds the product shipped with (names are refreshed by the reference-data sync after upgrade).
PARTNER_KINDS = [
    ('transporter', 72, 'Transporteur', 'ناقل', 'Transporter'),
    ('market_organiser', 168, 'Organisateur de marchés et salons', 'منظم الأسواق والمعارض', 'Market organiser'),
    ('lender', 24, 'Organisme de financement', 'مؤسسة تمويل', 'Lender'),
    ('training_body', 72, 'Organisme de formation', 'مؤسسة تكوين', 'Training body'),
    ('other', 72, 'Autre partenaire', 'شريك آخر', 'Other partner'),
]
ALL_SCOPES = 'eligibility redeem verify'


def _role(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name='role', native_enum=False, create_constraint=True, length=24)


def _slug(name: str, organisation_id: int) -> str:
    ascii_name = unicodedata.normalize('NFKD', name).encode('ascii', 'ignore').decode('ascii')
    words = re.sub(r'[^a-z0-9]+', '-', ascii_name.lower()).strip('-')[:30].strip('-')
    return f'{words or "partner"}-{organisation_id}'


def upgrade() -> None:
    partner_kind = op.create_table('partner_kind',
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('max_bundle_age_hours', sa.Integer(), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.CheckConstraint('max_bundle_age_hours > 0', name=op.f('ck_partner_kind_max_bundle_age_positive')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_partner_kind'))
    )
    op.bulk_insert(
        partner_kind,
        [
            {'code': code, 'max_bundle_age_hours': hours, 'name_fr': fr, 'name_ar': ar, 'name_en': en}
            for code, hours, fr, ar, en in PARTNER_KINDS
        ],
    )

    # Organisations: kind_code from kind, a slug from the name, then the constraints.
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slug', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('kind_code', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('is_enabled', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
    connection = op.get_bind()
    for organisation_id, name in connection.execute(sa.text('SELECT id, name FROM organisation')).all():
        connection.execute(
            sa.text('UPDATE organisation SET slug = :slug WHERE id = :id'),
            {'slug': _slug(name, organisation_id), 'id': organisation_id},
        )
    op.execute('UPDATE organisation SET kind_code = kind, is_enabled = true, created_at = CURRENT_TIMESTAMP')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.alter_column('slug', existing_type=sa.String(length=40), nullable=False)
        batch_op.alter_column('kind_code', existing_type=sa.String(length=24), nullable=False)
        batch_op.alter_column('is_enabled', existing_type=sa.Boolean(), nullable=False)
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_index(batch_op.f('ix_organisation_kind_code'), ['kind_code'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organisation_slug'), ['slug'])
        batch_op.create_foreign_key(batch_op.f('fk_organisation_kind_code_partner_kind'), 'partner_kind', ['kind_code'], ['code'])
        batch_op.create_check_constraint('slug_not_empty', "slug <> ''")
        batch_op.drop_constraint(batch_op.f('ck_organisation_partnerkind'), type_='check')
        batch_op.drop_column('kind')

    # Roles: widen, move the partners, narrow (each step's CHECK holds for the rows it sees).
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_role(OLD_ROLES), type_=_role(BRIDGE_ROLES), existing_nullable=False)
        batch_op.drop_constraint(batch_op.f('ck_user_account_partner_has_org'), type_='check')
    op.execute("UPDATE user_account SET role = 'partner_manager' WHERE role = 'partner'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_role(BRIDGE_ROLES), type_=_role(NEW_ROLES), existing_nullable=False)
        batch_op.create_check_constraint(
            'partner_has_org', "role NOT IN ('partner_manager', 'partner_agent') OR organisation_id IS NOT NULL"
        )

    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(sa.text('UPDATE api_key SET scopes = :scopes').bindparams(scopes=ALL_SCOPES))
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_check_constraint('has_scopes', "scopes <> ''")

    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_sha256', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_idempotency_record_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('organisation_id', 'key', name='uq_idempotency_record_organisation_key')
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_record_created_at'), ['created_at'], unique=False)

    op.create_table('offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('benefit_fr', sa.String(length=200), nullable=False),
    sa.Column('benefit_ar', sa.String(length=200), nullable=False),
    sa.Column('benefit_en', sa.String(length=200), nullable=False),
    sa.Column('description_fr', sa.Text(), nullable=False),
    sa.Column('description_ar', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('conditions', sa.JSON(), nullable=False),
    sa.Column('quota_count', sa.Integer(), nullable=True),
    sa.Column('quota_period', sa.Enum('day', 'month', 'year', name='quotaperiod', native_enum=False, create_constraint=True, length=24), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'approved', 'paused', 'retired', name='offerstate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(quota_count IS NULL) = (quota_period IS NULL)', name=op.f('ck_offer_quota_complete')),
    sa.CheckConstraint('quota_count IS NULL OR quota_count > 0', name=op.f('ck_offer_quota_positive')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= valid_from', name=op.f('ck_offer_window_ordered')),
    sa.CheckConstraint('version > 0', name=op.f('ck_offer_version_positive')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_offer_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer'))
    )
    with op.batch_alter_table('offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_state'), ['state'], unique=False)

    op.create_table('eligibility_list',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('offer_version', sa.Integer(), nullable=False),
    sa.Column('register_version', sa.Integer(), nullable=False),
    sa.Column('signed_token', sa.Text(), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('eligible_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_eligibility_list_offer_id_offer')),
    sa.PrimaryKeyConstraint('offer_id', name=op.f('pk_eligibility_list'))
    )
    op.create_table('offer_withdrawal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_by', sa.String(length=80), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_offer_withdrawal_card_id_card')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_offer_withdrawal_offer_id_offer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_withdrawal'))
    )
    with op.batch_alter_table('offer_withdrawal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_withdrawal_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offer_withdrawal_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index('uq_offer_withdrawal_in_force', ['offer_id', 'card_id'], unique=True, sqlite_where=sa.text('lifted_at IS NULL'), postgresql_where=sa.text('lifted_at IS NULL'))

    op.create_table('quota_usage',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('used >= 0', name=op.f('ck_quota_usage_used_non_negative')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_quota_usage_card_id_card')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_quota_usage_offer_id_offer')),
    sa.PrimaryKeyConstraint('offer_id', 'card_id', 'period', name=op.f('pk_quota_usage'))
    )
    op.create_table('redemption',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('over_quota', sa.Boolean(), nullable=False),
    sa.Column('made_offline', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_user_id', sa.Integer(), nullable=True),
    sa.Column('api_key_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('recorded_by_user_id IS NOT NULL OR api_key_id IS NOT NULL', name=op.f('ck_redemption_recorded_by_someone')),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_key.id'], name=op.f('fk_redemption_api_key_id_api_key')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_redemption_card_id_card')),
    sa.ForeignKeyConstraint(['offer_id'], ['offer.id'], name=op.f('fk_redemption_offer_id_offer')),
    sa.ForeignKeyConstraint(['recorded_by_user_id'], ['user_account.id'], name=op.f('fk_redemption_recorded_by_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemption'))
    )
    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_redemption_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_made_at'), ['made_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_redemption_recorded_by_user_id'), ['recorded_by_user_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organisation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('offer_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_organisation_id_organisation'), 'organisation', ['organisation_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_offer_id_offer'), 'offer', ['offer_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_event_offer_id_offer'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_audit_event_organisation_id_organisation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_event_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_audit_event_offer_id'))
        batch_op.drop_column('offer_id')
        batch_op.drop_column('organisation_id')

    for table in ('redemption', 'quota_usage', 'offer_withdrawal', 'eligibility_list', 'offer', 'idempotency_record'):
        op.drop_table(table)

    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_api_key_has_scopes'), type_='check')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_partner_has_org'), type_='check')
        batch_op.alter_column('role', existing_type=_role(NEW_ROLES), type_=_role(BRIDGE_ROLES), existing_nullable=False)
    op.execute("UPDATE user_account SET role = 'partner' WHERE role IN ('partner_manager', 'partner_agent')")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('role', existing_type=_role(BRIDGE_ROLES), type_=_role(OLD_ROLES), existing_nullable=False)
        batch_op.create_check_constraint('partner_has_org', "role != 'partner' OR organisation_id IS NOT NULL")

    # Kinds added after 0003 have no place in the old enum: such organisations become transporters.
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=24), nullable=True))
    op.execute(
        "UPDATE organisation SET kind = CASE WHEN kind_code IN ('transporter', 'market_organiser', 'lender', "
        "'training_body') THEN kind_code ELSE 'transporter' END"
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.alter_column(
            'kind',
            existing_type=sa.String(length=24),
            type_=sa.Enum(*OLD_KINDS, name='partnerkind', native_enum=False, create_constraint=True, length=24),
            nullable=False,
        )
        batch_op.drop_constraint(batch_op.f('ck_organisation_slug_not_empty'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_organisation_kind_code_partner_kind'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_organisation_slug'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_organisation_kind_code'))
        batch_op.drop_column('created_at')
        batch_op.drop_column('is_enabled')
        batch_op.drop_column('kind_code')
        batch_op.drop_column('slug')

    op.drop_table('partner_kind')
