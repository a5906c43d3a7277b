"""scrutiny figures: working-hours calendar and the indexes the reports read by

Revision ID: 7d1c0a5e9b21
Revises: fe425b6415df
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d1c0a5e9b21'
down_revision = 'fe425b6415df'
branch_labels = None
depends_on = None

# Frozen here (not imported from the models): what the figures read, as of this revision.
REPORT_COLUMNS = [
    'id', 'reference', 'referring_organisation_id', 'housing_situation', 'urgent', 'status',
    'outcome', 'contact_due_by', 'first_contact_attempt_at', 'contacted_at', 'closed_at',
    'person_nhs_number', 'person_name_key', 'person_date_of_birth',
]


def upgrade():
    op.create_table('working_hours',
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('working', sa.SmallInteger(), nullable=False),
    sa.Column('seconds_before', sa.BigInteger(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_working_hours'))
    )
    # The columns the figures read ride in the index (PostgreSQL INCLUDE): index-only scans.
    op.create_index('ix_referrals_authority_received', 'referrals', ['authority_id', 'received_at'], unique=False,
                    postgresql_include=REPORT_COLUMNS)
    op.create_index('ix_referrals_status_due', 'referrals', ['status', 'contact_due_by'], unique=False)
    op.create_index('ix_outbox_messages_referral_channel_status', 'outbox_messages', ['referral_id', 'channel', 'status'], unique=False)
    # Duplicate look-ups gain received_at last (same leading columns, so the same look-ups
    # still use them), for the "repeat within 365 days" check.
    op.drop_index('ix_referrals_authority_nhs', table_name='referrals')
    op.create_index('ix_referrals_authority_nhs', 'referrals', ['authority_id', 'person_nhs_number', 'received_at'], unique=False)
    op.drop_index('ix_referrals_authority_name_dob', table_name='referrals')
    op.create_index('ix_referrals_authority_name_dob', 'referrals', ['authority_id', 'person_name_key', 'person_date_of_birth', 'received_at'], unique=False)
    # The calendar is data the reports cannot work without: filled here, rebuilt or extended
    # later with `referrals reports calendar` (e.g. after a new bank holiday is announced).
    from referral_service.domain.reports import calendar
    calendar.rebuild(op.get_bind())


def downgrade():
    op.drop_index('ix_referrals_authority_name_dob', table_name='referrals')
    op.create_index('ix_referrals_authority_name_dob', 'referrals', ['authority_id', 'person_name_key', 'person_date_of_birth'], unique=False)
    op.drop_index('ix_referrals_authority_nhs', table_name='referrals')
    op.create_index('ix_referrals_authority_nhs', 'referrals', ['authority_id', 'person_nhs_number'], unique=False)
    op.drop_index('ix_outbox_messages_referral_channel_status', table_name='outbox_messages')
    op.drop_index('ix_referrals_status_due', table_name='referrals')
    op.drop_index('ix_referrals_authority_received', table_name='referrals')
    op.drop_table('working_hours')
