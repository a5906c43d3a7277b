"""event expansion: domain_events.expanded_at, set when every consumer has expanded the event,
with a partial index on the events not yet expanded (what the scheduler's sweep reads)

Revision ID: a21e5c0d7f11
Revises: 5e1a7c3d9b20
Create Date: 2026-12-05 06:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a21e5c0d7f11'
down_revision = '5e1a7c3d9b20'
branch_labels = None
depends_on = None

UNEXPANDED = sa.text('expanded_at IS NULL')


def upgrade():
    with op.batch_alter_table('domain_events') as batch:
        batch.add_column(sa.Column('expanded_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_domain_events_unexpanded', 'domain_events', ['sequence'],
                    postgresql_where=UNEXPANDED, sqlite_where=UNEXPANDED)


def downgrade():
    op.drop_index('ix_domain_events_unexpanded', table_name='domain_events')
    with op.batch_alter_table('domain_events') as batch:
        batch.drop_column('expanded_at')
