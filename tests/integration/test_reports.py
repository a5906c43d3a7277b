"""Each scrutiny figure computed by hand from ``reports_fixture`` (its table is the source of
every number below), then by the SQL, on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from referral_service.domain import deadlines
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.domain.reports import calendar, figures, scope_for
from referral_service.domain.reports.scope import Scope
from referral_service.domain.reports.sql import percentiles, utc_hour, working_clock
from referral_service.extensions import db
from referral_service.models import WorkingHour
from tests.integration import reports_fixture
from tests.integration.reports_fixture import NOW

PERIOD = {"start": date(2026, 1, 5), "end": date(2026, 1, 18)}


@pytest.fixture
def fx(db_session):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield reports_fixture.build()


@pytest.fixture
def scope_a(fx) -> Scope:  # type: ignore[no-untyped-def]
    return scope_for(fx.leader_a, **PERIOD)


def rows(key: str, scope: Scope) -> list[tuple[object, ...]]:
    return figures.FIGURES[key](scope).rows


def test_by_agency(scope_a: Scope) -> None:
    # R1, R2, R5 from probation; R3, R6 from the hospital; R4 from the Jobcentre.
    # R0 (before the period) and RB (authority B) are not counted.
    assert rows("by_agency", scope_a) == [
        ("probation", 3), ("hospital_emergency_department", 2), ("jobcentre", 1)]


def test_by_source(scope_a: Scope) -> None:
    # R4 was keyed in from a phone call, R3 came through the API, the rest on the web pages.
    assert rows("by_source", scope_a) == [
        ("web", False, 4), ("api", False, 1), ("phone", True, 1)]


def test_by_housing_situation(scope_a: Scope) -> None:
    # Homeless: R2, R3 (R3 urgent). Threatened: R1, R4, R5, R6.
    assert rows("by_housing_situation", scope_a) == [
        ("homeless", 2, 1), ("threatened_with_homelessness", 4, 0)]


def test_repeats_and_duplicates(scope_a: Scope) -> None:
    # Repeats: R5 (R1's person, 9 days earlier) and R6 (R4's person): 2 of 6 = 33.3%.
    # R6 was flagged as a possible duplicate of R4, confirmed, and closed as a duplicate: 16.7%.
    assert rows("repeats_and_duplicates", scope_a) == [
        ("received", 6, 100.0), ("repeat", 2, 33.3), ("possible_duplicate", 1, 16.7),
        ("confirmed_duplicate", 1, 16.7), ("closed_as_duplicate", 1, 16.7)]


def test_time_to_contact_in_working_hours(scope_a: Scope) -> None:
    # First attempt, working time from receipt:
    #   R1 Mon 10:00 -> Mon 11:00 = 1 h; R2 Mon 18:00 -> Tue 09:30 = 0.5 h (the evening and
    #   night are not working time); R3 Sat 12:00 -> Thu 10:00 = Mon, Tue, Wed 8 h each + 1 h
    #   = 25 h. Sorted 0.5, 1, 25: median 1 h; p90 at rank (3-1)*0.9 = 1.8, so
    #   1 + 0.8 * (25 - 1) = 20.2 h.
    # Contact made: R2 0.5 h; R1 Mon 10:00 -> Tue 10:00 = 7 h + 1 h = 8 h. Median
    #   0.5 + 0.5 * 7.5 = 4.25 h; p90 0.5 + 0.9 * 7.5 = 7.25 h.
    assert rows("time_to_contact", scope_a) == [
        ("first_contact_attempt", 3, 1.0, 20.2), ("contact_made", 2, 4.25, 7.25)]


def test_time_to_contact_distribution(scope_a: Scope) -> None:
    # Attempts: 0.5 h (R2) under 1 h; 1 h (R1) in [1, 4); 25 h (R3) in [16, 40); 3 none yet.
    # Contact: 0.5 h (R2) under 1 h; 8 h (R1) in [8, 16); 4 none yet.
    assert rows("time_to_contact_distribution", scope_a) == [
        ("under 1 working hour", 1, 1), ("1 to 4 working hours", 1, 0),
        ("4 to 8 working hours", 0, 0), ("1 to 2 working days", 0, 1),
        ("2 to 5 working days", 1, 0), ("over 5 working days", 0, 0), ("not yet", 3, 4)]


def test_contact_deadline(scope_a: Scope) -> None:
    # Due by now (20 Jan): R1, R2, R3, R4. R5 (withdrawn) and R6 (closed as a duplicate) ended
    # before their deadlines without an attempt, so they are not counted.
    # Attempted by the deadline: R1 (Mon 11:00 <= Wed 17:00), R2 (Tue <= Thu): 2 of 4 = 50%.
    # R3 (Thu, due Mon 10:00, urgent) and R4 (none) missed. Contacted by it: R1, R2 = 50%.
    with time_machine.travel(NOW, tick=False):
        assert rows("contact_deadline", scope_a) == [(6, 4, 2, 2, 50.0, 2, 50.0)]


def test_outcomes(scope_a: Scope) -> None:
    # Open: R2 (contacted), R4 (assigned). Then one each, alphabetically.
    assert rows("outcomes", scope_a) == [
        ("open", 2), ("duplicate", 1), ("no_contact", 1), ("prevention_duty", 1),
        ("withdrawn", 1)]


def test_caseload(scope_a: Scope) -> None:
    # Ada holds R0 (assigned, before the period: caseload is now, not per period), R2
    # (contacted) and R4 (assigned): 3 of 10 = 30%. Ben holds none of 5. Gone is inactive.
    assert rows("caseload", scope_a) == [
        ("E07000241", "Ada Officer", 3, 10, 30.0), ("E07000241", "Ben Officer", 0, 5, 0.0)]


def test_messages(scope_a: Scope) -> None:
    # SMS: R1 delivered + failed, R2 delivered, R3 suppressed = 4. Answered by the provider:
    #   2 delivered + 1 failed = 3, so 66.7% delivered, 33.3% failed.
    # Email: R1 sent, R2 sent + failed, R3 queued = 4. Answered: 2 sent + 1 failed = 3:
    #   0% delivered (email reports acceptance only), 33.3% failed.
    # RB's and R0's failed messages are outside the cohort.
    assert figures.messages(scope_a).columns == (
        "channel", "queued", "sending", "sent", "delivered", "failed", "suppressed", "total",
        "percent_delivered", "percent_failed")
    assert rows("messages", scope_a) == [
        ("sms", 0, 0, 0, 2, 1, 1, 4, 66.7, 33.3), ("email", 1, 0, 2, 0, 1, 0, 4, 0.0, 33.3)]


def test_partners(scope_a: Scope) -> None:
    # Probation: R1, R2, R5, contacted R1, R2 = 66.7%. Hospital: R3, R6, none contacted.
    # Jobcentre: R4.
    assert rows("partners", scope_a) == [
        ("Probation Service – Kent", "probation", 3, 2, 66.7),
        ("Lister Hospital ED", "hospital_emergency_department", 2, 0, 0.0),
        ("Jobcentre Plus Welwyn", "jobcentre", 1, 0, 0.0)]


def test_weekly(scope_a: Scope) -> None:
    # Week of Mon 5 Jan: R1, R2, R3 (Saturday 10th), all due, R1 and R2 on time: 66.7%.
    # Week of Mon 12 Jan: R4, R5, R6; only R4 due, and missed: 0%.
    with time_machine.travel(NOW, tick=False):
        assert rows("weekly", scope_a) == [
            ("2026-01-05", 3, 3, 2, 66.7), ("2026-01-12", 3, 1, 0, 0.0)]


def test_agency_type_filter(fx) -> None:  # type: ignore[no-untyped-def]
    # Probation only: R1, R2, R5. Due: R1, R2 (R5 withdrawn early), both on time.
    scope = scope_for(fx.leader_a, agency_type="probation", **PERIOD)
    assert rows("by_agency", scope) == [("probation", 3)]
    with time_machine.travel(NOW, tick=False):
        assert rows("contact_deadline", scope) == [(3, 2, 2, 0, 100.0, 2, 100.0)]


def test_administrator_sees_every_authority(fx) -> None:  # type: ignore[no-untyped-def]
    # RB (authority B, probation, 7 Jan) joins the cohort; Cai holds it (1 of 25 = 4%).
    everyone = scope_for(fx.admin, **PERIOD)
    assert rows("by_agency", everyone) == [
        ("probation", 4), ("hospital_emergency_department", 2), ("jobcentre", 1)]
    assert rows("caseload", everyone)[-1] == ("E07000242", "Cai Officer", 1, 25, 4.0)
    just_b = scope_for(fx.admin, authority_code="e07000242", **PERIOD)
    assert rows("by_agency", just_b) == [("probation", 1)]


def test_who_may_see_which_figures(fx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        scope_for(fx.leader_a, authority_code="E07000242", **PERIOD)
    ada = db.session.scalar(sa.select(reports_fixture.User).where(
        reports_fixture.User.email == "ada@a.example"))
    with pytest.raises(PermissionDenied):
        scope_for(ada, **PERIOD)
    # A team leader naming their own authority is the same as naming none.
    assert scope_for(fx.leader_a, authority_code="E07000241", **PERIOD).authority_id == fx.a.id


@pytest.mark.parametrize(("filters", "field"), [
    ({"start": date(2026, 2, 1), "end": date(2026, 1, 1)}, "end"),
    ({"start": date(2017, 1, 1), "end": date(2017, 2, 1)}, "start"),
    ({"start": date(2020, 1, 1), "end": date(2026, 1, 1)}, "end"),
    ({"agency_type": "astrology", **PERIOD}, "agency_type"),
    ({"agency_type": "marac", **PERIOD}, "agency_type"),
    ({"authority_code": "E99999999", **PERIOD}, "authority"),
])
def test_bad_filters_are_refused_with_the_field(fx, filters, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as refused:
        scope_for(fx.admin, **filters)
    assert field in refused.value.errors


@pytest.mark.parametrize(("start", "end"), [
    # Across the spring clock change (29 March 2026) and Easter (Good Friday 3 April, Easter
    # Monday 6 April): Thu 26 Mar 16:00 -> Tue 7 Apr 09:30.
    (datetime(2026, 3, 26, 16, 0, tzinfo=UTC), datetime(2026, 4, 7, 8, 30, tzinfo=UTC)),
    # Across the autumn change and a weekend, from inside the night.
    (datetime(2026, 10, 23, 3, 17, 11, tzinfo=UTC), datetime(2026, 10, 27, 15, 2, 5, tzinfo=UTC)),
    # Christmas and Boxing Day (substitute day on Monday 28 December 2026).
    (datetime(2026, 12, 24, 12, 0, tzinfo=UTC), datetime(2026, 12, 30, 10, 0, tzinfo=UTC)),
])
def test_the_sql_working_clock_agrees_with_the_python_rule(db_session, start, end) -> None:  # type: ignore[no-untyped-def]
    h0, h1 = sa.orm.aliased(WorkingHour), sa.orm.aliased(WorkingHour)
    start_at = sa.literal(start, type_=reports_fixture.Referral.received_at.type)
    end_at = sa.literal(end, type_=reports_fixture.Referral.received_at.type)
    in_sql = db.session.scalar(
        sa.select(working_clock(end_at, h1) - working_clock(start_at, h0))
        .select_from(h0).join(h1, sa.true())
        .where(h0.hour == utc_hour(start_at), h1.hour == utc_hour(end_at)))
    assert in_sql == calendar.working_seconds_between(start, end)
    assert in_sql == round(deadlines.working_hours_between(start, end) * 3600)


def test_the_calendar_table_is_the_rule(db_session) -> None:  # type: ignore[no-untyped-def]
    # 2026 starts on a Thursday: 52 weeks and a day, 261 weekdays. Eight bank holidays fall on
    # weekdays (1 Jan, 3 and 6 Apr, 4 and 25 May, 31 Aug, 25 Dec, and 28 Dec for Boxing Day on
    # a Saturday): 253 working days of 8 working hours.
    counted = db.session.scalar(sa.select(sa.func.sum(WorkingHour.working)).where(
        WorkingHour.local_date >= date(2026, 1, 1), WorkingHour.local_date <= date(2026, 12, 31)))
    assert counted == 253 * 8
    days = db.session.scalar(sa.select(sa.func.count(sa.distinct(WorkingHour.local_date))))
    assert days == (calendar.LAST_DAY - calendar.FIRST_DAY).days + 1


def test_percentiles_match_postgresql_interpolation(db_session) -> None:  # type: ignore[no-untyped-def]
    # Values 10, 20, 30, 40, 1000: median 30; p90 at rank 3.6 = 40 + 0.6 * 960 = 616;
    # p25 at rank 1 = 20 exactly. The same on both databases.
    values = sa.union_all(*[sa.select(sa.literal(v).label("x")) for v in (40, 10, 1000, 30, 20)]
                          ).subquery()
    count, found = percentiles(values, ("x",), (0.5, 0.9, 0.25))["x"]
    assert count == 5
    assert found == pytest.approx([30.0, 616.0, 20.0])
    empty = sa.select(sa.literal(1).label("x")).where(sa.false()).subquery()
    assert percentiles(empty, ("x",), (0.5,)) == {"x": (0, [None])}


def test_figures_are_empty_not_broken_for_a_quiet_period(fx) -> None:  # type: ignore[no-untyped-def]
    quiet = scope_for(fx.leader_a, start=date(2025, 6, 2), end=date(2025, 6, 8))
    assert rows("by_agency", quiet) == []
    assert rows("time_to_contact", quiet) == [
        ("first_contact_attempt", 0, None, None), ("contact_made", 0, None, None)]
    assert rows("contact_deadline", quiet) == [(0, 0, 0, 0, None, 0, None)]
    assert rows("weekly", quiet) == [("2025-06-02", 0, 0, 0, None)]
    assert rows("messages", quiet)[0] == ("sms", 0, 0, 0, 0, 0, 0, 0, None, None)


def test_received_at_is_counted_on_its_london_day(fx) -> None:  # type: ignore[no-untyped-def]
    # Summer: 23:30 UTC on Sunday 31 May 2026 is 00:30 on Monday 1 June in London.
    from tests.integration.reports_fixture import _referral

    org = db.session.scalar(sa.select(reports_fixture.Organisation).limit(1))
    _referral(fx.a, org, datetime(2026, 5, 31, 23, 30, tzinfo=UTC), officer=None,
              status=reports_fixture.ReferralStatus.UNASSIGNED)
    db.session.flush()
    june = scope_for(fx.leader_a, start=date(2026, 6, 1), end=date(2026, 6, 7))
    may = scope_for(fx.leader_a, start=date(2026, 5, 25), end=date(2026, 5, 31))
    assert sum(n for _, n in rows("by_agency", june)) == 1
    assert rows("by_agency", may) == []
    assert rows("weekly", june)[0][:2] == ("2026-06-01", 1)


def test_the_calendar_command_rebuilds_it(cli, db_session) -> None:  # type: ignore[no-untyped-def]
    # Knock a working hour out, as a stale calendar would have it; the command restores it.
    db.session.execute(sa.update(WorkingHour).where(
        WorkingHour.local_date == date(2026, 1, 5)).values(working=0))
    result = cli("reports", "calendar", "--json")
    assert result.exit_code == 0, result.output
    assert '"hours": ' in result.output
    assert db.session.scalar(sa.select(sa.func.sum(WorkingHour.working)).where(
        WorkingHour.local_date == date(2026, 1, 5))) == 8
