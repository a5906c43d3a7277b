"""a referral is transferred at most once: one referral per transferred_from_id

The receiving authority's referral points back at the one it came from; the earlier one finds
it back by that column (``Referral.transferred_to``). A unique index keeps the chain of custody
without forks and serves the look-up from the earlier referral. An index, not a constraint: on
SQLite a constraint would rebuild the table and lose its caseload triggers.

Revision ID: 7d2f4a91c3e6
Revises: 3c8d51e2a7b4
Create Date: 2026-12-04 18:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7d2f4a91c3e6'
down_revision = '3c8d51e2a7b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_referrals_transferred_from_id", "referrals", ["transferred_from_id"],
                    unique=True)


def downgrade():
    op.drop_index("ix_referrals_transferred_from_id", table_name="referrals")
