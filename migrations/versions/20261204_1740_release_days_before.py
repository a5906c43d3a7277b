"""authorities.release_days_before: contact due working days before a release or discharge

With a release or discharge date on a referral, first contact is due this many working days
before the date (domain/deadlines.py); each authority sets its own, 0 to 20, default 5.

Revision ID: 3c9e51d2a7f8
Revises: 3c9d2e71a5f0
Create Date: 2026-12-04 17:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c9e51d2a7f8'
down_revision = '3c9d2e71a5f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("authorities") as batch:
        batch.add_column(sa.Column("release_days_before", sa.Integer(), nullable=False,
                                   server_default="5"))
        batch.create_check_constraint(
            op.f("ck_authorities_release_days_before"), "release_days_before >= 0 AND release_days_before <= 20")


def downgrade():
    with op.batch_alter_table("authorities") as batch:
        batch.drop_constraint(op.f("ck_authorities_release_days_before"), type_="check")
        batch.drop_column("release_days_before")
