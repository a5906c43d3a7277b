"""Panels read only their own live shares, and every read — or refused read — leaves exactly one
access record; the housing officer sees who looked, and a team leader can export it."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from referral_service.domain import panel_access, sharing, timeline
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.models import AccessAction, AuditEvent, CaseAccessRecord, PanelAction
from tests import factories as f
from tests import panel_factories as pf

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MEETING = date(2026, 12, 10)


@pytest.fixture
def frozen():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _lead(user, ip="192.0.2.10"):  # type: ignore[no-untyped-def]
    return panel_access.Viewer.panel_lead(user, ip_address=ip, user_agent="Firefox/140")


def _records() -> list[CaseAccessRecord]:
    return list(f.db.session.scalars(select(CaseAccessRecord).order_by(
        CaseAccessRecord.occurred_at)))


def _count() -> int:
    return f.db.session.scalar(select(func.count()).select_from(CaseAccessRecord)) or 0


def test_a_panel_lists_only_its_own_live_shares_recorded_once(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    mine = pf.marac_case(w.referrer)
    revoked = pf.marac_case(w.referrer)
    other_panel = pf.mappa_case(w.referrer)
    not_shared = pf.marac_case(w.referrer)
    pf.share(mine, w.officer, w.marac, next_meeting_on=MEETING)
    sharing.revoke(pf.share(revoked, w.officer, w.marac), by=w.officer)
    pf.share(other_panel, w.officer, w.mappa)
    cases = panel_access.list_cases(_lead(w.marac_lead))
    assert [c.referral.id for c in cases] == [mine.id]
    assert set(cases[0].document) == {"reference", "person_name", "date_of_birth", "status"}
    [entry] = _records()
    assert entry.action is AccessAction.LIST and entry.listed_referral_ids == [str(mine.id)]
    assert (entry.user_id, entry.organisation_id, entry.channel) == (
        w.marac_lead.id, w.marac.id, "web")
    assert (entry.ip_address, entry.user_agent) == ("192.0.2.10", "Firefox/140")
    assert not_shared.id not in {c.referral.id for c in cases}


def test_a_view_is_redacted_for_the_panel_and_leaves_one_record(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.mappa_case(w.referrer, risk={"marac": True})
    pf.share(case, w.officer, w.marac)
    share = pf.share(case, w.officer, w.mappa)
    seen = panel_access.read_case(_lead(w.mappa_lead), case.id)
    assert "current_address" in seen.document and "safe_contact" not in seen.document
    assert seen.share is share
    [entry] = _records()
    assert (entry.action, entry.referral_id, entry.share_id, entry.refusal) == (
        AccessAction.VIEW, case.id, share.id, None)
    marac_seen = panel_access.read_case(_lead(w.marac_lead), case.id)
    assert "safe_contact" in marac_seen.document and "current_address" not in marac_seen.document
    assert _count() == 2


def _refused_reason(viewer, referral_id) -> str:  # type: ignore[no-untyped-def]
    before = _count()
    with pytest.raises(panel_access.CaseNotShared, match="No case with that id is shared"):
        panel_access.read_case(viewer, referral_id)
    assert _count() == before + 1
    entry = _records()[-1]
    assert entry.action is AccessAction.REFUSED
    return entry.refusal or ""


def test_every_refused_read_leaves_exactly_one_record_with_its_reason(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    lead = _lead(w.marac_lead)
    never = pf.marac_case(w.referrer)
    assert _refused_reason(lead, never.id) == "not_shared"
    assert _refused_reason(lead, uuid.uuid4()) == "not_found"
    assert _refused_reason(lead, "not-a-uuid") == "not_found"
    elsewhere = pf.mappa_case(w.referrer)
    pf.share(elsewhere, w.officer, w.mappa)
    assert _refused_reason(lead, elsewhere.id) == "other_panel"
    revoked = pf.marac_case(w.referrer)
    made = pf.share(revoked, w.officer, w.marac)
    panel_access.read_case(lead, revoked.id)
    sharing.revoke(made, by=w.officer)
    assert _refused_reason(lead, revoked.id) == "revoked"
    assert _records()[-1].share_id == made.id
    expiring = pf.marac_case(w.referrer)
    pf.share(expiring, w.officer, w.marac, next_meeting_on=MEETING, expires_on=MEETING)
    panel_access.read_case(lead, expiring.id)
    frozen.move_to(datetime(2026, 12, 10, 23, 59, tzinfo=UTC))  # still 10 December in London
    panel_access.read_case(lead, expiring.id)
    frozen.move_to(datetime(2026, 12, 11, 0, 0, tzinfo=UTC))
    assert _refused_reason(lead, expiring.id) == "expired"
    assert expiring.id not in {c.referral.id for c in panel_access.list_cases(lead)}


def test_panel_api_clients_read_the_same_way(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    issued = f.api_client(w.marac, scopes=("cases:shared",))
    viewer = panel_access.Viewer.panel_client(issued.client, ip_address="198.51.100.7",
                                              user_agent="panel-system/1.0")
    panel_access.read_case(viewer, case.id)
    [entry] = _records()
    assert (entry.client_id, entry.user_id, entry.channel, entry.actor_type.value) == (
        issued.client.client_id, None, "api", "client")
    referrer_client = f.api_client(w.referrer)
    with pytest.raises(PermissionDenied):
        panel_access.Viewer.panel_client(referrer_client.client)


def test_only_active_panel_leads_are_viewers(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    for user in (w.officer, w.leader, f.partner_user(w.referrer)):
        with pytest.raises(PermissionDenied):
            _lead(user)
    w.marac_lead.active = False
    with pytest.raises(PermissionDenied):
        _lead(w.marac_lead)


def test_panel_actions_reach_the_officers_timeline_only(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    lead = _lead(w.marac_lead)
    action = panel_access.add_action(lead, case.id, "  Police to do a safety visit by Friday. ")
    assert action.text == "Police to do a safety visit by Friday."
    staff = [(e.type, e.description, e.detail) for e in timeline.for_staff(case)]
    assert ("panel_action", f"Action from {w.marac.name} ({w.marac_lead.name})",
            "Police to do a safety visit by Friday.") in staff
    assert "safety visit" not in " ".join(e.description for e in timeline.for_referrer(case))
    [event] = f.db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "panel_action.added")).all()
    assert event.actor_user_id == w.marac_lead.id and event.referral_id == case.id
    # The panel sees its own actions on the case; another panel it is shared with does not.
    assert [a.id for a in panel_access.read_case(lead, case.id).actions] == [action.id]
    case.risk_mappa_level, case.risk_mappa_category = 2, 1
    pf.share(case, w.officer, w.mappa)
    assert panel_access.read_case(_lead(w.mappa_lead), case.id).actions == []


def test_panel_actions_are_refused_without_a_live_share_or_text(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    lead = _lead(w.marac_lead)
    with pytest.raises(panel_access.CaseNotShared):
        panel_access.add_action(lead, case.id, "An action")
    # Not shared and no text either: still refused as not shared, and recorded.
    with pytest.raises(panel_access.CaseNotShared):
        panel_access.add_action(lead, case.id, "   ")
    assert [r.refusal for r in _records()] == ["not_shared", "not_shared"]
    pf.share(case, w.officer, w.marac)
    with pytest.raises(ValidationFailed):
        panel_access.add_action(lead, case.id, "   ")
    with pytest.raises(ValidationFailed):
        panel_access.add_action(lead, case.id, "x" * 2001)
    client = f.api_client(w.marac, scopes=("cases:shared",)).client
    with pytest.raises(PermissionDenied):
        panel_access.add_action(panel_access.Viewer.panel_client(client), case.id, "An action")
    assert f.db.session.scalar(select(func.count()).select_from(PanelAction)) == 0


def test_access_records_cannot_be_changed(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    panel_access.list_cases(_lead(w.marac_lead))
    [entry] = _records()
    entry.ip_address = "203.0.113.1"
    with pytest.raises(RuntimeError, match="append-only"):
        f.db.session.flush()
    f.db.session.rollback()


def test_the_officer_sees_who_looked_and_a_team_leader_exports_it(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    other_case = pf.marac_case(w.referrer)
    made = pf.share(case, w.officer, w.marac)
    pf.share(other_case, w.officer, w.marac)
    lead = _lead(w.marac_lead)
    panel_access.list_cases(lead)
    frozen.shift(timedelta(minutes=1))
    panel_access.read_case(lead, case.id)
    frozen.shift(timedelta(minutes=1))
    panel_access.read_case(lead, other_case.id)  # not this case's business
    sharing.revoke(made, by=w.officer)
    frozen.shift(timedelta(minutes=1))
    with pytest.raises(panel_access.CaseNotShared):
        panel_access.read_case(_lead(w.marac_lead, ip="=cmd|' /C calc'!A0"), case.id)
    log = panel_access.access_log(case, by=w.officer)
    assert [e.action.value for e in log] == ["refused", "view", "list"]
    with pytest.raises(PermissionDenied):
        panel_access.access_log(case, by=w.marac_lead)
    with pytest.raises(PermissionDenied):
        panel_access.export_access_log(case, by=w.officer)
    frozen.shift(timedelta(minutes=1))
    text = panel_access.export_access_log(case, by=w.leader, ip_address="192.0.2.99")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in rows] == ["refused", "view", "list"]
    assert rows[0]["refusal"] == "revoked" and rows[0]["who"] == w.marac_lead.email
    assert rows[1]["organisation"] == w.marac.name and rows[1]["case_reference"] == case.reference
    assert rows[1]["occurred_at"] == "2026-12-01T10:01:00+00:00"
    assert rows[0]["ip_address"].startswith("'=")  # never a live spreadsheet formula
    # The export is itself on the record, and audited.
    assert panel_access.access_log(case, by=w.officer)[0].action is AccessAction.EXPORT
    assert f.db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case_access_log.exported")) == 1


def test_no_cell_of_the_exported_log_starts_like_a_formula(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    w = pf.world()
    case = pf.marac_case(w.referrer)
    pf.share(case, w.officer, w.marac)
    starts = ("=", "+", "-", "@", "\t", "\r")
    for start in starts:
        panel_access.read_case(panel_access.Viewer.panel_lead(
            w.marac_lead, ip_address="192.0.2.10", user_agent=f"{start}SUM(A1)"), case.id)
        frozen.shift(timedelta(minutes=1))
    text = panel_access.export_access_log(case, by=w.leader)
    agents = [row["user_agent"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert sorted(agents) == sorted(f"'{start}SUM(A1)" for start in starts)


def test_the_access_log_reads_only_lists_made_while_the_case_was_shared(db_session, frozen) -> None:  # type: ignore[no-untyped-def]
    """A panel lists its cases all day, for years: a case's log reads the lists of its own
    shares' live windows, not every list the panel ever made (counted as rows loaded)."""
    from sqlalchemy import event

    w = pf.world()
    case, later = pf.marac_case(w.referrer), pf.marac_case(w.referrer)
    made = pf.share(case, w.officer, w.marac)
    lead = _lead(w.marac_lead)
    for _ in range(2):
        frozen.shift(timedelta(minutes=1))
        panel_access.list_cases(lead)
    sharing.revoke(made, by=w.officer)
    frozen.shift(timedelta(days=2))
    pf.share(later, w.officer, w.marac)
    for _ in range(5):  # lists of the panel's other case only
        frozen.shift(timedelta(minutes=1))
        panel_access.list_cases(lead)
    f.db.session.commit()
    f.db.session.expunge_all()
    loaded: list[object] = []

    def count(target: object, context: object) -> None:
        loaded.append(target)

    event.listen(CaseAccessRecord, "load", count)
    try:
        log = panel_access.access_log(f.db.session.get(type(case), case.id),
                                      by=f.db.session.get(type(w.officer), w.officer.id))
    finally:
        event.remove(CaseAccessRecord, "load", count)
    assert [e.action.value for e in log] == ["list", "list"]
    assert len(loaded) == len(log), len(loaded)
