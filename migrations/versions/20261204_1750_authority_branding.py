"""each council's own name and footer links on its staff's pages

Council services must not look like GOV.UK (no crown, no "GOV.UK" in titles): an authority's
officers, team leaders and administrators see its display name in the header and titles, and
its accessibility statement, privacy notice and contact links in the footer. All optional:
unset, the header shows the authority's name and the footer has no such link.

Revision ID: 3c8d51e2a7b4
Revises: 3c9e51d2a7f8
Create Date: 2026-12-04 17:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '3c8d51e2a7b4'
down_revision = '3c9e51d2a7f8'
branch_labels = None
depends_on = None

URL_COLUMNS = ("accessibility_url", "privacy_url", "contact_url")


def upgrade():
    with op.batch_alter_table("authorities") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=200), nullable=True))
        for name in URL_COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=2000), nullable=True))


def downgrade():
    with op.batch_alter_table("authorities") as batch:
        for name in reversed(URL_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("display_name")
