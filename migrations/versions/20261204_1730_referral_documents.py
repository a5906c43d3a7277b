"""referral documents: the record of each supporting document (its bytes are in the store)

Revision ID: 3c9d2e71a5f0
Revises: 7702b660fdd1
Create Date: 2026-12-04 17:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c9d2e71a5f0'
down_revision = '7702b660fdd1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'referral_documents',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('referral_id', sa.Uuid(), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('uploaded_by_client_id', sa.String(length=64), nullable=True),
        sa.Column('uploaded_by_label', sa.String(length=254), nullable=False),
        sa.Column('uploaded_by_side', sa.String(length=10), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('scan_status', sa.String(length=12), nullable=False),
        sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("uploaded_by_side IN ('referrer', 'council')",
                           name=op.f('ck_referral_documents_uploaded_by_side')),
        sa.CheckConstraint("scan_status IN ('not_scanned', 'scan_failed', 'clean')",
                           name=op.f('ck_referral_documents_scan_status')),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'],
                                name=op.f('fk_referral_documents_referral_id_referrals')),
        sa.ForeignKeyConstraint(['uploaded_by_user_id'], ['users.id'],
                                name=op.f('fk_referral_documents_uploaded_by_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_documents')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_referral_documents_storage_key')),
    )
    op.create_index('ix_referral_documents_referral_uploaded', 'referral_documents',
                    ['referral_id', 'uploaded_at'])


def downgrade():
    op.drop_index('ix_referral_documents_referral_uploaded', table_name='referral_documents')
    op.drop_table('referral_documents')
