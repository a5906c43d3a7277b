"""domain events: the stream a referral's state changes write, and who has expanded each

Revision ID: 5e1a7c3d9b20
Revises: 7d2f4a91c3e6
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '5e1a7c3d9b20'
down_revision = '7d2f4a91c3e6'
branch_labels = None
depends_on = None

SEQUENCE = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'domain_events',
        sa.Column('sequence', SEQUENCE, autoincrement=True, nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('type', sa.String(length=64), nullable=False),
        sa.Column('referral_id', sa.Uuid(), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'],
                                name=op.f('fk_domain_events_referral_id_referrals')),
        sa.PrimaryKeyConstraint('sequence', name=op.f('pk_domain_events')),
        sa.UniqueConstraint('id', name=op.f('uq_domain_events_id')),
    )
    op.create_index('ix_domain_events_referral_sequence', 'domain_events',
                    ['referral_id', 'sequence'])
    op.create_table(
        'event_expansions',
        sa.Column('event_sequence', SEQUENCE, nullable=False),
        sa.Column('consumer', sa.String(length=40), nullable=False),
        sa.Column('expanded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['event_sequence'], ['domain_events.sequence'],
                                name=op.f('fk_event_expansions_event_sequence_domain_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('event_sequence', 'consumer', name=op.f('pk_event_expansions')),
    )


def downgrade():
    op.drop_table('event_expansions')
    op.drop_index('ix_domain_events_referral_sequence', table_name='domain_events')
    op.drop_table('domain_events')
