"""partner webhook subscriptions (sealed secret, event types, active/failing) and their
deliveries (one per subscription and event; retried with back-off for 24 hours)

Revision ID: b22f6a1d8e22
Revises: a21e5c0d7f11
Create Date: 2026-12-05 06:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'b22f6a1d8e22'
down_revision = 'a21e5c0d7f11'
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('organisation_id', sa.Uuid(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('sealed_secret', sa.String(length=200), nullable=False),
        sa.Column('event_types', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
        sa.Column('contact_email', sa.String(length=254), nullable=True),
        sa.Column('status', sa.Enum('active', 'failing', name='webhook_subscription_status',
                                    native_enum=False, create_constraint=True, length=40),
                  nullable=False),
        sa.Column('failing_since', WHEN, nullable=True),
        sa.Column('created_by_client_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_webhook_subscriptions_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions')),
    )
    op.create_index(op.f('ix_webhook_subscriptions_organisation_id'), 'webhook_subscriptions',
                    ['organisation_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('subscription_id', sa.Uuid(), nullable=False),
        sa.Column('event_id', sa.Uuid(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'delivered', 'failed',
                                    name='webhook_delivery_status', native_enum=False,
                                    create_constraint=True, length=40), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', WHEN, nullable=False),
        sa.Column('enqueued_at', WHEN, nullable=True),
        sa.Column('last_attempt_at', WHEN, nullable=True),
        sa.Column('last_response_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('delivered_at', WHEN, nullable=True),
        sa.Column('created_at', WHEN, nullable=False),
        sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'],
                                name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['event_id'], ['domain_events.id'],
                                name=op.f('fk_webhook_deliveries_event_id_domain_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('subscription_id', 'event_id', name='uq_webhook_delivery_event'),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries',
                    ['status', 'next_attempt_at'])
    op.create_index('ix_webhook_deliveries_subscription_created', 'webhook_deliveries',
                    ['subscription_id', 'created_at'])


def downgrade():
    op.drop_index('ix_webhook_deliveries_subscription_created', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_subscriptions_organisation_id'),
                  table_name='webhook_subscriptions')
    op.drop_table('webhook_subscriptions')
