"""applicant daily cap index; officers' open caseload kept by triggers

Both for receiving a referral (benchmarks/README.md):

- The daily cap counts today's messages to one applicant's addresses for every referral
  received: without an index that was a scan of the whole outbox (27 ms at 15,000 rows). Partial:
  only applicant rows are counted, so officer and referrer messages cost nothing to index.
- Routing needs every officer's open caseload for every referral: counting it was a walk over
  all the authority's open cases each time. ``users.open_caseload`` is kept by triggers on
  ``referrals`` (whatever code changes a status or a named officer), so routing reads it.

Revision ID: 7c1f0a9e4b21
Revises: 7d1c0a5e9b21
Create Date: 2026-12-01 07:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c1f0a9e4b21'
down_revision = '7d1c0a5e9b21'
branch_labels = None
depends_on = None

APPLICANT = sa.text("audience = 'applicant'")
# The statuses below are models.enums.CASELOAD_STATUSES as of this revision, written out: a
# migration must not change when the code does.

POSTGRES_FUNCTION = """
CREATE FUNCTION referrals_keep_open_caseload() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.named_officer_id IS NOT DISTINCT FROM NEW.named_officer_id
       AND (OLD.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted')) = (NEW.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted')) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.named_officer_id IS NOT NULL
       AND OLD.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted') THEN
        UPDATE users SET open_caseload = open_caseload - 1 WHERE id = OLD.named_officer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.named_officer_id IS NOT NULL
       AND NEW.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted') THEN
        UPDATE users SET open_caseload = open_caseload + 1 WHERE id = NEW.named_officer_id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
POSTGRES_TRIGGER = """
CREATE TRIGGER referrals_keep_open_caseload
AFTER INSERT OR DELETE OR UPDATE OF status, named_officer_id ON referrals
FOR EACH ROW EXECUTE FUNCTION referrals_keep_open_caseload()
"""
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


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_applicant_to_created',
                              ['to_address', 'created_at'], unique=False,
                              postgresql_where=APPLICANT, sqlite_where=APPLICANT)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_caseload', sa.Integer(), server_default='0',
                                      nullable=False))
    op.execute("UPDATE users SET open_caseload = (SELECT count(*) FROM referrals "
               "WHERE referrals.named_officer_id = users.id "
               "AND referrals.status IN ('accepted', 'assigned', 'contact_attempted', 'contacted'))")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER referrals_keep_open_caseload ON referrals")
        op.execute("DROP FUNCTION referrals_keep_open_caseload()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('open_caseload')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_applicant_to_created')
