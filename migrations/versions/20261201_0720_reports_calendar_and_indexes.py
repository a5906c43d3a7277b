"""scrutiny figures: working-hours calendar and the indexes the reports read by

Revision ID: 7d1c0a5e9b21
Revises: fe425b6415df
Create Date: 2026-12-01 07:20:00

"""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d1c0a5e9b21'
down_revision = 'fe425b6415df'
branch_labels = None
depends_on = None

# Frozen here (not imported from the models): what the figures read, as of this revision.
REPORT_COLUMNS = [
    'id', 'reference', 'referring_organisation_id', 'housing_situation', 'urgent', 'status',
    'outcome', 'contact_due_by', 'first_contact_attempt_at', 'contacted_at', 'closed_at',
    'person_nhs_number', 'person_name_key', 'person_date_of_birth',
]

# The working-hours calendar as referral_service.domain.reports.calendar made it when this
# revision was written, frozen here with the bank holidays it used, so that what this revision
# writes never changes with the live code or the `holidays` package. Working hours: 09:00 to
# 17:00 Europe/London, Monday to Friday, except England and Wales bank holidays; one row per
# UTC hour from London midnight on FIRST_DAY to the London midnight after LAST_DAY.
LONDON = ZoneInfo("Europe/London")
WORK_START = time(9, 0)
WORK_END = time(17, 0)
FIRST_DAY = date(2018, 1, 1)
LAST_DAY = date(2035, 12, 31)
HOUR = timedelta(hours=1)
# The England and Wales bank holidays that fall on a weekday, FIRST_DAY to LAST_DAY (month-day
# by year), as `holidays` 0.109 (country_holidays("GB", subdiv="ENG")) listed them: substitute
# days and one-off days (2022's state funeral, 2023's coronation) included.
BANK_HOLIDAYS_BY_YEAR = {
    2018: ('01-01', '03-30', '04-02', '05-07', '05-28', '08-27', '12-25', '12-26'),
    2019: ('01-01', '04-19', '04-22', '05-06', '05-27', '08-26', '12-25', '12-26'),
    2020: ('01-01', '04-10', '04-13', '05-08', '05-25', '08-31', '12-25', '12-28'),
    2021: ('01-01', '04-02', '04-05', '05-03', '05-31', '08-30', '12-27', '12-28'),
    2022: ('01-03', '04-15', '04-18', '05-02', '06-02', '06-03', '08-29', '09-19', '12-26', '12-27'),
    2023: ('01-02', '04-07', '04-10', '05-01', '05-08', '05-29', '08-28', '12-25', '12-26'),
    2024: ('01-01', '03-29', '04-01', '05-06', '05-27', '08-26', '12-25', '12-26'),
    2025: ('01-01', '04-18', '04-21', '05-05', '05-26', '08-25', '12-25', '12-26'),
    2026: ('01-01', '04-03', '04-06', '05-04', '05-25', '08-31', '12-25', '12-28'),
    2027: ('01-01', '03-26', '03-29', '05-03', '05-31', '08-30', '12-27', '12-28'),
    2028: ('01-03', '04-14', '04-17', '05-01', '05-29', '08-28', '12-25', '12-26'),
    2029: ('01-01', '03-30', '04-02', '05-07', '05-28', '08-27', '12-25', '12-26'),
    2030: ('01-01', '04-19', '04-22', '05-06', '05-27', '08-26', '12-25', '12-26'),
    2031: ('01-01', '04-11', '04-14', '05-05', '05-26', '08-25', '12-25', '12-26'),
    2032: ('01-01', '03-26', '03-29', '05-03', '05-31', '08-30', '12-27', '12-28'),
    2033: ('01-03', '04-15', '04-18', '05-02', '05-30', '08-29', '12-26', '12-27'),
    2034: ('01-02', '04-07', '04-10', '05-01', '05-29', '08-28', '12-25', '12-26'),
    2035: ('01-01', '03-23', '03-26', '05-07', '05-28', '08-27', '12-25', '12-26'),
}
BANK_HOLIDAYS = frozenset(date.fromisoformat(f"{year}-{day}")
                          for year, days in BANK_HOLIDAYS_BY_YEAR.items() for day in days)


def _midnight(day):
    return datetime.combine(day, time(0), tzinfo=LONDON).astimezone(UTC)


def _hour_rows():
    moment, end = _midnight(FIRST_DAY), _midnight(LAST_DAY + timedelta(days=1))
    seconds_before = 0
    while moment < end:
        local = moment.astimezone(LONDON)
        day = local.date()
        working = int(day.weekday() < 5 and day not in BANK_HOLIDAYS
                      and WORK_START <= local.time() < WORK_END)
        yield {"hour": int(moment.timestamp()) // 3600, "working": working,
               "seconds_before": seconds_before, "local_date": day,
               "week_start": day - timedelta(days=day.weekday())}
        seconds_before += 3600 * working
        moment += HOUR


def _fill_working_hours(connection):
    table = sa.table("working_hours", sa.column("hour"), sa.column("working"),
                     sa.column("seconds_before"), sa.column("local_date"),
                     sa.column("week_start"))
    rows = list(_hour_rows())
    for start in range(0, len(rows), 5000):
        connection.execute(sa.insert(table), rows[start:start + 5000])


def upgrade():
    op.create_table('working_hours',
    sa.Column('hour', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('working', sa.SmallInteger(), nullable=False),
    sa.Column('seconds_before', sa.BigInteger(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_working_hours'))
    )
    # The columns the figures read ride in the index (PostgreSQL INCLUDE): index-only scans.
    op.create_index('ix_referrals_authority_received', 'referrals', ['authority_id', 'received_at'], unique=False,
                    postgresql_include=REPORT_COLUMNS)
    op.create_index('ix_referrals_status_due', 'referrals', ['status', 'contact_due_by'], unique=False)
    op.create_index('ix_outbox_messages_referral_channel_status', 'outbox_messages', ['referral_id', 'channel', 'status'], unique=False)
    # Duplicate look-ups gain received_at last (same leading columns, so the same look-ups
    # still use them), for the "repeat within 365 days" check.
    op.drop_index('ix_referrals_authority_nhs', table_name='referrals')
    op.create_index('ix_referrals_authority_nhs', 'referrals', ['authority_id', 'person_nhs_number', 'received_at'], unique=False)
    op.drop_index('ix_referrals_authority_name_dob', table_name='referrals')
    op.create_index('ix_referrals_authority_name_dob', 'referrals', ['authority_id', 'person_name_key', 'person_date_of_birth', 'received_at'], unique=False)
    # The calendar is data the reports cannot work without: filled here, rebuilt or extended
    # later with `referrals reports calendar` (e.g. after a new bank holiday is announced).
    _fill_working_hours(op.get_bind())


def downgrade():
    op.drop_index('ix_referrals_authority_name_dob', table_name='referrals')
    op.create_index('ix_referrals_authority_name_dob', 'referrals', ['authority_id', 'person_name_key', 'person_date_of_birth'], unique=False)
    op.drop_index('ix_referrals_authority_nhs', table_name='referrals')
    op.create_index('ix_referrals_authority_nhs', 'referrals', ['authority_id', 'person_nhs_number'], unique=False)
    op.drop_index('ix_outbox_messages_referral_channel_status', table_name='outbox_messages')
    op.drop_index('ix_referrals_status_due', table_name='referrals')
    op.drop_index('ix_referrals_authority_received', table_name='referrals')
    op.drop_table('working_hours')
