"""Council staff flag, share and revoke: every rule refuses with a clear error and changes
nothing; every share and revocation is an audit event and shows on the staff timeline only."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from referral_service.domain import sharing, timeline
from referral_service.domain.errors import Conflict, PermissionDenied, ValidationFailed
from referral_service.models import AuditEvent, CaseShare
from tests import factories as f
from tests import panel_factories as pf

# A Tuesday in winter (GMT): London midnight is UTC midnight.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MEETING = date(2026, 12, 10)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _events(action: str) -> list[AuditEvent]:
    return list(f.db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _count_shares() -> int:
    return f.db.session.scalar(select(func.count()).select_from(CaseShare)) or 0


def test_share_defaults_to_thirty_days_after_the_meeting_and_is_audited(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    made = pf.share(case, w.officer, w.marac, next_meeting_on=MEETING)
    # Live to the end of 9 January 2027 (30 days after the meeting), London time.
    assert made.expires_at == datetime(2027, 1, 10, 0, 0, tzinfo=UTC)
    assert sharing.last_day(made) == date(2027, 1, 9)
    assert made.is_live() and made.state == "live" and made.shared_by is w.officer
    [event] = _events("case.shared")
    assert event.referral_id == case.id and event.actor_user_id == w.officer.id
    assert event.details["panel_type"] == "marac"
    assert event.details["lawful_basis"] == "cda1998_s115"
    assert "purpose" not in event.details  # free text stays out of the audit trail


def test_expiry_uses_london_midnight_in_summer(db_session) -> None:  # type: ignore[no-untyped-def]
    assert sharing.end_of_day(date(2027, 6, 1)) == datetime(2027, 6, 1, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize("fields,field,words", [
    ({"lawful_basis": "cja2003_s325"}, "lawful_basis", "lawful basis"),  # a MAPPA basis
    ({"lawful_basis": None}, "lawful_basis", "lawful basis"),
    ({"purpose": "   "}, "purpose", "why the panel needs"),
    ({"purpose": "x" * 1001}, "purpose", "1000 characters"),
    ({"next_meeting_on": None}, "next_meeting_on", "next meeting"),
    ({"next_meeting_on": date(2026, 11, 30)}, "next_meeting_on", "today or in the future"),
    ({"next_meeting_on": date(2028, 1, 1)}, "next_meeting_on", "within a year"),
    ({"expires_on": date(2026, 11, 30)}, "expires_on", "today or in the future"),
    ({"expires_on": date(2027, 12, 2)}, "expires_on", "at most a year"),
    ({"expires_on": date(2026, 12, 5)}, "expires_on", "until the next meeting"),
])
def test_share_refuses_bad_input_with_a_clear_error(db_session, frozen, fields, field,  # type: ignore[no-untyped-def]
                                                    words) -> None:
    w = pf.world()
    case = pf.marac_case(w.referrer)
    with pytest.raises(ValidationFailed) as refused:
        pf.share(case, w.officer, w.marac, **{"next_meeting_on": MEETING, **fields})
    assert words in " ".join(refused.value.errors[field])
    assert _count_shares() == 0 and _events("case.shared") == []


def test_a_year_to_the_day_is_the_longest_share(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    made = pf.share(pf.marac_case(w.referrer), w.officer, w.marac, next_meeting_on=MEETING,
                    expires_on=date(2027, 12, 1))
    assert sharing.last_day(made) == date(2027, 12, 1)


def test_panel_must_be_a_panel_of_the_type_the_case_is_flagged_for(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    marac_only = pf.marac_case(w.referrer)
    with pytest.raises(ValidationFailed) as refused:
        pf.share(marac_only, w.officer, w.mappa, lawful_basis="cja2003_s325")
    assert "MAPPA level and category" in refused.value.errors["panel"][0]
    mappa_only = pf.mappa_case(w.referrer)
    with pytest.raises(ValidationFailed) as refused:
        pf.share(mappa_only, w.officer, w.marac)
    assert "Flag the case for MARAC" in refused.value.errors["panel"][0]
    for not_a_panel in (w.referrer.id, "not-an-id", None):
        with pytest.raises(ValidationFailed) as refused:
            sharing.share(marac_only, by=w.officer, panel_id=not_a_panel,
                          lawful_basis="cda1998_s115", purpose="p", next_meeting_on=MEETING)
        assert "Choose the MARAC or MAPPA panel" in refused.value.errors["panel"][0]
    assert _count_shares() == 0


def test_only_staff_of_the_referrals_authority_share(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    other = f.officer(f.authority(code="E07000242", name="East Hertfordshire"))
    for who in (other, w.marac_lead, f.partner_user(w.referrer)):
        with pytest.raises(PermissionDenied):
            pf.share(case, who, w.marac)
    # A team leader of the authority may.
    assert pf.share(case, w.leader, w.marac).shared_by is w.leader


def test_a_second_live_share_with_the_same_panel_is_refused(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    first = pf.share(case, w.officer, w.marac, next_meeting_on=MEETING)
    with pytest.raises(Conflict, match=r"already shared .* until 9 January 2027"):
        pf.share(case, w.officer, w.marac, next_meeting_on=MEETING)
    # After revoking it, a new share with new terms is fine; another MARAC is fine anyway.
    sharing.revoke(first, by=w.officer)
    pf.share(case, w.officer, w.marac, next_meeting_on=MEETING + timedelta(days=28))
    pf.share(case, w.officer, pf.panel("marac"))
    assert _count_shares() == 3


def test_revoke_is_immediate_audited_and_once(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    made = pf.share(pf.marac_case(w.referrer), w.officer, w.marac)
    sharing.revoke(made, by=w.leader, reason="Case closed at panel.")
    assert not made.is_live() and made.state == "revoked" and made.revoked_by is w.leader
    sharing.revoke(made, by=w.officer)  # a second click changes nothing
    assert made.revoked_by is w.leader
    [event] = _events("case.share_revoked")
    assert (event.from_status, event.to_status) == ("live", "revoked")
    with pytest.raises(PermissionDenied):
        sharing.revoke(made, by=w.marac_lead)
    with pytest.raises(ValidationFailed):
        sharing.revoke(pf.share(made.referral, w.officer, w.marac), by=w.officer,
                       reason="r" * 501)


def test_a_share_cannot_be_edited_or_deleted(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    made = pf.share(pf.marac_case(w.referrer), w.officer, w.marac)
    made.purpose = "something else"
    with pytest.raises(RuntimeError, match="only revoked"):
        f.db.session.flush()
    f.db.session.rollback()


def test_flags_are_set_with_validation_and_audit(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = f.referral(w.referrer)
    assert sharing.set_flags(case, by=w.officer, marac=True, mappa_level=3, mappa_category=2)
    assert (case.risk_marac, case.risk_mappa_level, case.risk_mappa_category) == (True, 3, 2)
    [event] = _events("referral.panel_flags_changed")
    assert event.details["after"] == {"marac": True, "mappa_level": 3, "mappa_category": 2}
    assert not sharing.set_flags(case, by=w.officer, marac=True, mappa_level=3,
                                 mappa_category=2)  # no change, no event
    assert len(_events("referral.panel_flags_changed")) == 1
    for level, category, field in [(4, 1, "mappa_level"), (1, 5, "mappa_category"),
                                   (2, None, "mappa_category"), (None, 2, "mappa_level")]:
        with pytest.raises(ValidationFailed) as refused:
            sharing.set_flags(case, by=w.officer, marac=True, mappa_level=level,
                              mappa_category=category)
        assert field in refused.value.errors
    with pytest.raises(PermissionDenied):
        sharing.set_flags(case, by=w.mappa_lead, marac=False, mappa_level=None,
                          mappa_category=None)


def test_a_flag_stays_while_a_live_share_needs_it(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    marac_share = pf.share(case, w.officer, w.marac)
    pf.share(case, w.officer, w.mappa)
    with pytest.raises(ValidationFailed) as refused:
        sharing.set_flags(case, by=w.officer, marac=False, mappa_level=None,
                          mappa_category=None)
    assert set(refused.value.errors) == {"marac", "mappa_level"}
    sharing.revoke(marac_share, by=w.officer)
    assert sharing.set_flags(case, by=w.officer, marac=False, mappa_level=2, mappa_category=1)


def test_staff_timeline_shows_shares_not_the_referrers(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    made = pf.share(case, w.officer, w.marac, next_meeting_on=MEETING)
    frozen.shift(timedelta(hours=1))
    sharing.revoke(made, by=w.officer, reason="No longer needed.")
    staff = {(e.type, e.description, e.detail) for e in timeline.for_staff(case)}
    assert ("case_shared", f"Shared with {w.marac.name} until 9 January 2027",
            "Crime and Disorder Act 1998, section 115") in staff
    assert ("case_share_revoked", f"Share with {w.marac.name} revoked",
            "No longer needed.") in staff
    referrer = " ".join(e.description for e in timeline.for_referrer(case))
    assert w.marac.name not in referrer and "Shared" not in referrer
