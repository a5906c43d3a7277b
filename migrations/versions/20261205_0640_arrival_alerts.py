"""Arrival alerts (issue 15.5): outbox_messages.once_key and referral_reads

``outbox_messages.once_key`` (unique, nullable): a message that must go at most once ever, such as
the team mailbox's alert for a referral landing in the team queue ("team_arrival:<referral id>").
``referral_reads``: when each user last viewed each referral's notes (unread markers).

Revision ID: e25c9d4a1b55
Revises: f26dae5b2c66
Create Date: 2026-12-05 06:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e25c9d4a1b55'
down_revision = 'f26dae5b2c66'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("once_key", sa.String(length=120), nullable=True))
        batch.create_unique_constraint(op.f("uq_outbox_messages_once_key"), ["once_key"])
    op.create_table(
        "referral_reads",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_referral_reads_user_id_users")),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"], ondelete="CASCADE",
                                name=op.f("fk_referral_reads_referral_id_referrals")),
        sa.PrimaryKeyConstraint("user_id", "referral_id", name=op.f("pk_referral_reads")),
    )


def downgrade():
    op.drop_table("referral_reads")
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_constraint(op.f("uq_outbox_messages_once_key"), type_="unique")
        batch.drop_column("once_key")
