"""consent as a record: consents (who, by whom, to whom, when, for what) and its withdrawals

Each referral gets one ``consents`` row, backfilled from the referral's consent columns: the
person gave it, the referrer recorded it (organisation, user or API client, name), to the
referral's authority, at ``consent_recorded_at`` or, where none was given, at ``received_at``
(``backfilled`` true: the time is the receipt, not the person's word). The scopes default to the
referral, texts and email, and no panel named.

``consent_withdrawals`` holds each scope taken back. ``referrals.outcome`` gains
``consent_withdrawn``: a CHECK constraint, widened on PostgreSQL by dropping and adding it, and
on SQLite by editing the table's stored definition (the documented ``writable_schema`` way for
CHECK constraints; a table rebuild would drop the caseload triggers and trip the foreign keys of
every table that refers to referrals).

Revision ID: c23a7b2e9f33
Revises: e25c9d4a1b55
Create Date: 2026-12-05 06:20:00

"""
import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c23a7b2e9f33'
down_revision = 'e25c9d4a1b55'
branch_labels = None
depends_on = None

OUTCOMES = ['prevention_duty', 'relief_duty', 'advice_only', 'not_eligible', 'no_contact',
            'declined', 'duplicate', 'transferred']
NEW_OUTCOME = 'consent_withdrawn'


def _enum(name, *values):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _outcome_check(values):
    return "outcome IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _set_outcome_check(old, new):
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_referrals_outcome'), 'referrals', type_='check')
        op.create_check_constraint(op.f('ck_referrals_outcome'), 'referrals', _outcome_check(new))
        return
    table_sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'referrals'").scalar()
    before, after = _outcome_check(old), _outcome_check(new)
    if before not in table_sql:
        raise RuntimeError("referrals' outcome CHECK is not the one this migration expects")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'referrals'",
        (table_sql.replace(before, after),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    op.create_table(
        'consents',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('referral_id', sa.Uuid(), nullable=False),
        sa.Column('given_by_name', sa.String(length=200), nullable=False),
        sa.Column('recorded_by', _enum('consent_recorder', 'referrer', 'officer'),
                  nullable=False),
        sa.Column('recorded_by_name', sa.String(length=200), nullable=False),
        sa.Column('recorded_by_organisation_id', sa.Uuid(), nullable=True),
        sa.Column('recorded_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('recorded_by_client_id', sa.String(length=64), nullable=True),
        sa.Column('authority_id', sa.Uuid(), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('backfilled', sa.Boolean(), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('texts', sa.Boolean(), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('panels', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                  nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'],
                                name=op.f('fk_consents_authority_id_authorities')),
        sa.ForeignKeyConstraint(['recorded_by_organisation_id'], ['organisations.id'],
                                name=op.f('fk_consents_recorded_by_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['recorded_by_user_id'], ['users.id'],
                                name=op.f('fk_consents_recorded_by_user_id_users')),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'],
                                name=op.f('fk_consents_referral_id_referrals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
        sa.UniqueConstraint('referral_id', name=op.f('uq_consents_referral_id')),
    )
    op.create_table(
        'consent_withdrawals',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('referral_id', sa.Uuid(), nullable=False),
        sa.Column('scope', _enum('consent_scope', 'referral', 'texts', 'email', 'panel_sharing'),
                  nullable=False),
        sa.Column('withdrawn_by', _enum('consent_withdrawn_by', 'referrer', 'officer', 'person'),
                  nullable=False),
        sa.Column('by_user_id', sa.Uuid(), nullable=True),
        sa.Column('by_client_id', sa.String(length=64), nullable=True),
        sa.Column('by_organisation_id', sa.Uuid(), nullable=True),
        sa.Column('reason', _enum('consent_withdrawal_reason', 'person_withdrew', 'texted_stop',
                                  'made_in_error', 'no_capacity', 'other'), nullable=False),
        sa.Column('notes', sa.Text(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['by_organisation_id'], ['organisations.id'],
                                name=op.f('fk_consent_withdrawals_by_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'],
                                name=op.f('fk_consent_withdrawals_by_user_id_users')),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'],
                                name=op.f('fk_consent_withdrawals_referral_id_referrals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_withdrawals')),
    )
    op.create_index(op.f('ix_consent_withdrawals_referral_id'), 'consent_withdrawals',
                    ['referral_id'])
    _set_outcome_check(OUTCOMES, [*OUTCOMES, NEW_OUTCOME])
    _backfill()


def _backfill():
    bind = op.get_bind()
    uid, when = sa.Uuid(), sa.DateTime(timezone=True)
    consents = sa.table(
        'consents', sa.column('id', uid), sa.column('referral_id', uid),
        sa.column('given_by_name', sa.String()), sa.column('recorded_by', sa.String()),
        sa.column('recorded_by_name', sa.String()), sa.column('recorded_by_organisation_id', uid),
        sa.column('recorded_by_user_id', uid), sa.column('recorded_by_client_id', sa.String()),
        sa.column('authority_id', uid), sa.column('given_at', when),
        sa.column('backfilled', sa.Boolean()), sa.column('notes', sa.Text()),
        sa.column('texts', sa.Boolean()), sa.column('email', sa.Boolean()),
        sa.column('panels', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')),
        sa.column('created_at', when))
    referrals = sa.table(
        'referrals', sa.column('id', sa.Uuid()), sa.column('authority_id', sa.Uuid()),
        sa.column('referring_organisation_id', sa.Uuid()),
        sa.column('submitted_by_user_id', sa.Uuid()), sa.column('submitted_by_client_id'),
        sa.column('referrer_name'), sa.column('person_first_name'),
        sa.column('person_last_name'), sa.column('consent_recorded_at', sa.DateTime(True)),
        sa.column('consent_notes'), sa.column('received_at', sa.DateTime(True)))
    rows = bind.execute(sa.select(referrals)).mappings().all()
    batch = []
    for row in rows:
        batch.append({
            'id': uuid.uuid4(), 'referral_id': row['id'],
            'given_by_name': f"{row['person_first_name']} {row['person_last_name']}"[:200],
            'recorded_by': 'referrer', 'recorded_by_name': row['referrer_name'][:200],
            'recorded_by_organisation_id': row['referring_organisation_id'],
            'recorded_by_user_id': row['submitted_by_user_id'],
            'recorded_by_client_id': row['submitted_by_client_id'],
            'authority_id': row['authority_id'],
            'given_at': row['consent_recorded_at'] or row['received_at'],
            'backfilled': row['consent_recorded_at'] is None,
            'notes': row['consent_notes'], 'texts': True, 'email': True, 'panels': [],
            'created_at': row['received_at'],
        })
        if len(batch) >= 1000:
            op.bulk_insert(consents, batch)
            batch = []
    if batch:
        op.bulk_insert(consents, batch)


def downgrade():
    op.execute(sa.text("UPDATE referrals SET outcome = NULL, status = 'withdrawn', "
                       "closure_reason = COALESCE(closure_reason, 'Consent withdrawn') "
                       "WHERE outcome = 'consent_withdrawn'"))
    _set_outcome_check([*OUTCOMES, NEW_OUTCOME], OUTCOMES)
    op.drop_index(op.f('ix_consent_withdrawals_referral_id'), table_name='consent_withdrawals')
    op.drop_table('consent_withdrawals')
    op.drop_table('consents')
