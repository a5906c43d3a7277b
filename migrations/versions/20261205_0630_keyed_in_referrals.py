"""keyed-in referrals: how each referral arrived, and who keyed it in from an email or a call

``referrals.source`` (api, web, transfer, or email, phone, letter, in_person when an officer
keyed it in), ``keyed_in_by_id`` and ``keyed_in_at``; ``referrer_email`` may be empty (a phone
referral). Existing rows: ``transfer`` when made by transfer, ``api`` when an API client sent it,
otherwise ``web``. ``source`` joins the columns the figures' index carries (PostgreSQL INCLUDE).

On SQLite the table is rebuilt (batch mode), which drops its caseload triggers: they are made
again here, as 20261201_0740 made them.

Revision ID: d24b8c3f0a44
Revises: b22f6a1d8e22
Create Date: 2026-12-05 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd24b8c3f0a44'
down_revision = 'b22f6a1d8e22'
branch_labels = None
depends_on = None

SOURCES = ('api', 'web', 'transfer', 'email', 'phone', 'letter', 'in_person')
REPORT_COLUMNS = [
    "id", "reference", "referring_organisation_id", "housing_situation", "urgent", "status",
    "outcome", "contact_due_by", "first_contact_attempt_at", "contacted_at", "closed_at",
    "person_nhs_number", "person_name_key", "person_date_of_birth",
]
SQLITE_TRIGGERS = [
    """CREATE TRIGGER referrals_caseload_insert AFTER INSERT ON referrals
        WHEN NEW.named_officer_id IS NOT NULL AND NEW.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted')
        BEGIN
            UPDATE users SET open_caseload = open_caseload + 1 WHERE id = NEW.named_officer_id;
        END""",
    """CREATE TRIGGER referrals_caseload_update AFTER UPDATE OF status, named_officer_id
        ON referrals
        BEGIN
            UPDATE users SET open_caseload = open_caseload - 1
             WHERE id = OLD.named_officer_id AND OLD.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted');
            UPDATE users SET open_caseload = open_caseload + 1
             WHERE id = NEW.named_officer_id AND NEW.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted');
        END""",
    """CREATE TRIGGER referrals_caseload_delete AFTER DELETE ON referrals
        WHEN OLD.named_officer_id IS NOT NULL AND OLD.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted')
        BEGIN
            UPDATE users SET open_caseload = open_caseload - 1 WHERE id = OLD.named_officer_id;
        END""",
]
SQLITE_TRIGGER_NAMES = ["referrals_caseload_insert", "referrals_caseload_update",
                        "referrals_caseload_delete"]


def _sqlite():
    return op.get_bind().dialect.name == 'sqlite'


def _report_index(columns):
    if _sqlite():
        return  # the index has no INCLUDE there: it is unchanged
    op.drop_index('ix_referrals_authority_received', table_name='referrals')
    op.create_index('ix_referrals_authority_received', 'referrals',
                    ['authority_id', 'received_at'], unique=False, postgresql_include=columns)


def _make_triggers_again():
    if _sqlite():
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade():
    with op.batch_alter_table('referrals') as batch:
        batch.add_column(sa.Column(
            'source', sa.Enum(*SOURCES, name='referral_source', native_enum=False,
                              create_constraint=True, length=40),
            server_default='web', nullable=False))
        batch.add_column(sa.Column('keyed_in_by_id', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('keyed_in_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_foreign_key(op.f('fk_referrals_keyed_in_by_id_users'), 'users',
                                 ['keyed_in_by_id'], ['id'])
        batch.alter_column('referrer_email', existing_type=sa.String(length=254),
                           nullable=True)
    op.execute("UPDATE referrals SET source = 'api' WHERE submitted_by_client_id IS NOT NULL")
    op.execute("UPDATE referrals SET source = 'transfer' WHERE transferred_from_id IS NOT NULL")
    _make_triggers_again()
    _report_index([*REPORT_COLUMNS, "source"])


def downgrade():
    _report_index(REPORT_COLUMNS)
    # A keyed-in phone referral may have no referrer email: the column was required before.
    op.execute("UPDATE referrals SET referrer_email = '' WHERE referrer_email IS NULL")
    with op.batch_alter_table('referrals') as batch:
        batch.alter_column('referrer_email', existing_type=sa.String(length=254),
                           nullable=False)
        batch.drop_constraint(op.f('fk_referrals_keyed_in_by_id_users'), type_='foreignkey')
        batch.drop_column('keyed_in_at')
        batch.drop_column('keyed_in_by_id')
        batch.drop_constraint(op.f('ck_referrals_referral_source'), type_='check')
        batch.drop_column('source')
    _make_triggers_again()
