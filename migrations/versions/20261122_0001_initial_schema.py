"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 12:12:09.699265
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('transporter', 'market_organiser', 'lender', 'training_body', name='partnerkind', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('name', name=op.f('uq_organisation_name'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    op.create_table('sector',
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_sector'))
    )
    op.create_table('signing_key',
    sa.Column('kid', sa.String(length=16), nullable=False),
    sa.Column('thumbprint', sa.String(length=64), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('state', sa.Enum('active', 'verify_only', 'retired', name='signingkeystate', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_key')),
    sa.UniqueConstraint('thumbprint', name=op.f('uq_signing_key_thumbprint'))
    )
    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.create_index('uq_signing_key_one_active', ['state'], unique=True, sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))

    op.create_table('status_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('signed_token', sa.Text(), nullable=True),
    sa.Column('signed_version', sa.Integer(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('next_index >= 0', name=op.f('ck_status_list_next_index_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_list'))
    )
    op.create_table('support_programme',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_support_programme'))
    )
    op.create_table('trade',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('sector_code', sa.String(length=8), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('name_ar', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['sector_code'], ['sector.code'], name=op.f('fk_trade_sector_code_sector')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_trade'))
    )
    op.create_table('artisan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rna_number', sa.String(length=20), nullable=False),
    sa.Column('cin', sa.String(length=10), nullable=False),
    sa.Column('first_name_latin', sa.String(length=60), nullable=False),
    sa.Column('last_name_latin', sa.String(length=60), nullable=False),
    sa.Column('first_name_ar', sa.String(length=60), nullable=False),
    sa.Column('last_name_ar', sa.String(length=60), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('gender', sa.Enum('female', 'male', name='gender', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('region_code', sa.String(length=2), nullable=False),
    sa.Column('province', sa.String(length=60), nullable=False),
    sa.Column('trade_code', sa.String(length=4), nullable=False),
    sa.Column('legal_status', sa.Enum('independent', 'master_artisan', 'cooperative_member', 'company', name='legalstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('cnss_status', sa.Enum('not_registered', 'pre_registered', 'registered', name='cnssstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('cooperative_name', sa.String(length=120), nullable=True),
    sa.Column('activity_start_year', sa.Integer(), nullable=False),
    sa.Column('photo_jpeg', sa.LargeBinary(), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_artisan_region_code_region')),
    sa.ForeignKeyConstraint(['trade_code'], ['trade.code'], name=op.f('fk_artisan_trade_code_trade')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artisan')),
    sa.UniqueConstraint('cin', name=op.f('uq_artisan_cin')),
    sa.UniqueConstraint('rna_number', name=op.f('uq_artisan_rna_number'))
    )
    with op.batch_alter_table('artisan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artisan_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_artisan_trade_code'), ['trade_code'], unique=False)

    op.create_table('artisan_programme',
    sa.Column('artisan_id', sa.Integer(), nullable=False),
    sa.Column('programme_code', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['artisan_id'], ['artisan.id'], name=op.f('fk_artisan_programme_artisan_id_artisan'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_code'], ['support_programme.code'], name=op.f('fk_artisan_programme_programme_code_support_programme')),
    sa.PrimaryKeyConstraint('artisan_id', 'programme_code', name=op.f('pk_artisan_programme'))
    )
    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=10), nullable=False),
    sa.Column('artisan_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('active', 'suspended', 'revoked', name='cardstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status_reason', sa.String(length=200), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('expires_at > issued_at', name=op.f('ck_card_expires_after_issue')),
    sa.CheckConstraint('status_index >= 0', name=op.f('ck_card_status_index_non_negative')),
    sa.ForeignKeyConstraint(['artisan_id'], ['artisan.id'], name=op.f('fk_card_artisan_id_artisan')),
    sa.ForeignKeyConstraint(['key_id'], ['signing_key.kid'], name=op.f('fk_card_key_id_signing_key')),
    sa.ForeignKeyConstraint(['replaces_id'], ['card.id'], name=op.f('fk_card_replaces_id_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card')),
    sa.UniqueConstraint('number', name=op.f('uq_card_number')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_card_replaces_id')),
    sa.UniqueConstraint('status_index', name=op.f('uq_card_status_index'))
    )
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_artisan_id'), ['artisan_id'], unique=False)
        batch_op.create_index('uq_card_artisan_in_force', ['artisan_id'], unique=True, sqlite_where=sa.text("status != 'revoked'"), postgresql_where=sa.text("status != 'revoked'"))

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('admin', 'officer', 'partner', 'artisan', name='role', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('region_code', sa.String(length=2), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('artisan_id', sa.Integer(), nullable=True),
    sa.Column('is_enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role != 'artisan' OR artisan_id IS NOT NULL", name=op.f('ck_user_account_artisan_has_record')),
    sa.CheckConstraint("role != 'officer' OR region_code IS NOT NULL", name=op.f('ck_user_account_officer_has_region')),
    sa.CheckConstraint("role != 'partner' OR organisation_id IS NOT NULL", name=op.f('ck_user_account_partner_has_org')),
    sa.ForeignKeyConstraint(['artisan_id'], ['artisan.id'], name=op.f('fk_user_account_artisan_id_artisan')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_user_account_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('artisan_id', name=op.f('uq_user_account_artisan_id')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=True),
    sa.Column('signing_key_id', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_audit_event_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], name=op.f('fk_audit_event_card_id_card')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_event_occurred_at'), ['occurred_at'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_event_card_id'))

    op.drop_table('audit_event')
    op.drop_table('user_account')
    with op.batch_alter_table('card', schema=None) as batch_op:
        batch_op.drop_index('uq_card_artisan_in_force', sqlite_where=sa.text("status != 'revoked'"), postgresql_where=sa.text("status != 'revoked'"))
        batch_op.drop_index(batch_op.f('ix_card_artisan_id'))

    op.drop_table('card')
    op.drop_table('artisan_programme')
    with op.batch_alter_table('artisan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artisan_trade_code'))
        batch_op.drop_index(batch_op.f('ix_artisan_region_code'))

    op.drop_table('artisan')
    op.drop_table('trade')
    op.drop_table('support_programme')
    op.drop_table('status_list')
    with op.batch_alter_table('signing_key', schema=None) as batch_op:
        batch_op.drop_index('uq_signing_key_one_active', sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))

    op.drop_table('signing_key')
    op.drop_table('sector')
    op.drop_table('region')
    op.drop_table('organisation')
    
