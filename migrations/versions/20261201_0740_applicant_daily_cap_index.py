"""applicant daily cap index

The daily cap counts today's messages to one applicant's addresses for every referral received:
without an index that was a scan of the whole outbox (27 ms at 15,000 rows). Partial: only
applicant rows are counted, so officer and referrer messages cost nothing to index.

Revision ID: 7c1f0a9e4b21
Revises: 2e6bba5c41d8
Create Date: 2026-12-01 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1f0a9e4b21'
down_revision = '2e6bba5c41d8'
branch_labels = None
depends_on = None

APPLICANT = sa.text("audience = 'applicant'")


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_applicant_to_created',
                              ['to_address', 'created_at'], unique=False,
                              postgresql_where=APPLICANT, sqlite_where=APPLICANT)


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_applicant_to_created')
