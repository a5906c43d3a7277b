"""scrutiny figures: working-hours calendar and the indexes the reports read by

Revision ID: 7d1c0a5e9b21
Revises: f0d562fcf770
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d1c0a5e9b21'
down_revision = 'f0d562fcf770'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('working_hours',
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('working', sa.SmallInteger(), nullable=False),
    sa.Column('seconds_before', sa.BigInteger(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_working_hours'))
    )
    op.create_index('ix_referrals_authority_received', 'referrals', ['authority_id', 'received_at'], unique=False)
    op.create_index('ix_referrals_received', 'referrals', ['received_at'], unique=False)
    op.create_index('ix_referrals_status_due', 'referrals', ['status', 'contact_due_by'], unique=False)
    # The calendar is data the reports cannot work without: filled here, rebuilt or extended
    # later with `referrals reports calendar` (e.g. after a new bank holiday is announced).
    from referral_service.domain.reports import calendar
    calendar.rebuild(op.get_bind())


def downgrade():
    op.drop_index('ix_referrals_status_due', table_name='referrals')
    op.drop_index('ix_referrals_received', table_name='referrals')
    op.drop_index('ix_referrals_authority_received', table_name='referrals')
    op.drop_table('working_hours')
