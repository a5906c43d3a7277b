"""The demo has one live MARAC share and one live MAPPA share, so a newcomer signing in as either
panel lead sees a case (and the MARAC case carries a panel action for the officer)."""
from __future__ import annotations

from sqlalchemy import select

from referral_service.demo import load_demo_data
from referral_service.domain import panel_access, timeline
from referral_service.models import CaseShare, User
from tests import factories as f


def test_demo_panel_leads_each_see_one_live_case(db_session) -> None:  # type: ignore[no-untyped-def]
    load_demo_data()
    shares = f.db.session.scalars(select(CaseShare)).all()
    assert sorted(s.panel.type.value for s in shares if s.is_live()) == ["mappa", "marac"]
    for email, panel_type in (("marac.lead@herts.example", "marac"),
                              ("mappa.lead@herts.example", "mappa")):
        lead = f.db.session.scalar(select(User).where(User.email == email))
        viewer = panel_access.Viewer.panel_lead(lead)
        [case] = panel_access.list_cases(viewer)
        assert case.panel_type.value == panel_type
        opened = panel_access.read_case(viewer, case.referral.id)
        if panel_type == "marac":
            assert opened.actions and "safe_contact" in opened.document
            staff = [e.type for e in timeline.for_staff(case.referral)]
            assert "panel_action" in staff and "case_shared" in staff
        else:
            assert opened.document["mappa"] == {"level": 2, "category": 1}
