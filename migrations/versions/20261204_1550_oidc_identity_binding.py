"""users bound to their OpenID Connect identity (issuer + subject) on first sign-in

Matching by email alone let an address changed or reused at the provider sign in to whichever
account held it. The first sign-in now records the provider's ``iss`` and ``sub``; afterwards
the account is found by them only. Nullable: people who never use the provider have neither.
A unique index (not a constraint), so SQLite adds it without copying the users table.

Revision ID: 5a0e3c7d9b14
Revises: 7c1f0a9e4b21
Create Date: 2026-12-04 15:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a0e3c7d9b14'
down_revision = '7c1f0a9e4b21'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.create_index('ix_users_oidc_identity', 'users', ['oidc_issuer', 'oidc_subject'],
                    unique=True)


def downgrade():
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy of the users table: the
    # caseload triggers on referrals name users, and SQLite refuses to drop the table under them.
    op.drop_index('ix_users_oidc_identity', table_name='users')
    op.drop_column('users', 'oidc_subject')
    op.drop_column('users', 'oidc_issuer')
