"""transfers to a council not on this service: where it went, and its one-time link

One row per referral transferred to a council that does not take referrals here: its name, code
(when known) and secure email, the digest of the current link's secret (never the secret), when
the link expires, and when the council first opened it and marked it received. A new table only,
so nothing is rebuilt on SQLite (the referrals table keeps its caseload triggers).

Revision ID: f26dae5b2c66
Revises: d24b8c3f0a44
Create Date: 2026-12-05 06:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f26dae5b2c66'
down_revision = 'd24b8c3f0a44'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "external_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("council_name", sa.String(200), nullable=False),
        sa.Column("council_code", sa.String(20), nullable=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("link_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("links_sent", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Uuid(), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_by_name", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["referral_id"], ["referrals.id"],
                                name="fk_external_transfers_referral_id_referrals"),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"],
                                name="fk_external_transfers_sent_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_external_transfers"),
        sa.UniqueConstraint("referral_id", name="uq_external_transfers_referral_id"),
        sa.UniqueConstraint("secret_digest", name="uq_external_transfers_secret_digest"),
    )


def downgrade():
    op.drop_table("external_transfers")
