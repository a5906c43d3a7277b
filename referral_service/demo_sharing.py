"""The demo's MARAC and MAPPA story: one live share with each panel, so a newcomer can sign in as
a panel lead and see a redacted case (and as the officer, see the panel's action on it).

Called by ``demo.load_demo_data`` with the story's people and its MARAC-flagged referral.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from referral_service import clock
from referral_service.domain import panel_access, sharing
from referral_service.models import Organisation, Referral, User


def add_shares(*, users: dict[str, User], orgs: dict[str, Organisation], marac_case: Referral,
               submit: Callable[..., Referral], later: Callable[..., Any]) -> None:
    today = clock.today_in_london()
    marac, mappa = orgs["Hertfordshire MARAC"], orgs["Hertfordshire MAPPA"]
    priya = users["priya.shah@welhat.example"]
    later(26, sharing.share, marac_case, by=priya, panel_id=marac.id,
          lawful_basis="ukgdpr_6_1_e_dpa2018_sch1_para18",
          purpose="High-risk domestic abuse: housing options for the December MARAC.",
          next_meeting_on=today + timedelta(days=8))
    lead = panel_access.Viewer.panel_lead(users["marac.lead@herts.example"],
                                          ip_address="192.0.2.20", user_agent="demo")
    later(3, panel_access.add_action, lead, marac_case.id,
          "IDVA to make contact by the safe number only; police marker on the friend's address.")

    # 16. Released on licence next week, MAPPA level 2, category 1: shared with the MAPPA panel.
    released = submit("Probation Service – Hertfordshire", "sam.patel@probation.example", 8,
                      person={"first_name": "Liam", "last_name": "Turner",
                              "date_of_birth": "1987-03-03", "phone": "07700 900216",
                              "address": None},
                      housing_situation="homeless", current_location="HMP The Mount",
                      support_needs=["offending_history", "mental_health"],
                      release_or_discharge_date=(today + timedelta(days=6)).isoformat(),
                      risk={"mappa_level": 2, "mappa_category": 1, "risk_to_staff": True,
                            "details": "Two-person visits only."},
                      reason="Release on licence in six days; no address approved yet.")
    officer = released.named_officer or users["jo.smith@welhat.example"]
    later(2, sharing.share, released, by=officer, panel_id=mappa.id,
          lawful_basis="cja2003_s325",
          purpose="Accommodation on release for the MAPPA level 2 meeting.",
          next_meeting_on=today + timedelta(days=4))
