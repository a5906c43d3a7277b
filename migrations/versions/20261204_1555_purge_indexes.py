"""indexes for the scheduler's purge of rows past their retention

The scheduler deletes, a bounded batch per tick, access tokens expired or revoked long ago
(both imply issued long ago: one index on ``issued_at``),
Idempotency-Key records past their retention and stale web-form drafts (notifications/purge.py).
Without these indexes each batch would scan its whole table every minute. (Used assertions'
``expires_at`` was indexed from the start.)

Revision ID: 7702b660fdd1
Revises: 5a0e3c7d9b14
Create Date: 2026-12-04 15:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7702b660fdd1'
down_revision = '5a0e3c7d9b14'
branch_labels = None
depends_on = None

INDEXES = [
    ("oauth_tokens", "issued_at"),
    ("idempotency_keys", "created_at"),
    ("referral_drafts", "updated_at"),
]


def upgrade():
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade():
    for table, column in reversed(INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
