"""The referrer changes the release or discharge date, or the person's phone and email, from the
referral's page: the same schema and domain function as PATCH /api/v1/referrals/{id}."""
from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlalchemy import select

from referral_service.domain import casework
from referral_service.domain.audit import Actor
from referral_service.extensions import db
from referral_service.models import AuditEvent
from tests import factories as f
from tests.integration.web_referrer_support import (  # noqa: F401  (fixtures)
    World,
    error_messages,
    post,
    sign_in,
    world_fixture,
)

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@time_machine.travel(MONDAY, tick=False)
def test_changing_the_date_moves_the_deadline(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation, release_or_discharge_date="2027-01-15")
    db.session.commit()
    sign_in(client, world.referrer)
    page = client.get(f"/referrer/referrals/{referral.id}").get_data(as_text=True)
    assert f"/referrer/referrals/{referral.id}/change" in page and "15 January 2027" in page
    form = client.get(f"/referrer/referrals/{referral.id}/change").get_data(as_text=True)
    assert 'value="15"' in form and 'value="2027"' in form

    done = post(client, f"/referrer/referrals/{referral.id}/change",
                {"release_date-day": "25", "release_date-month": "11",
                 "release_date-year": "2026", "phone": "07700 900777", "email": ""})

    assert done.status_code == 302
    db.session.refresh(referral)
    assert referral.release_or_discharge_date.isoformat() == "2026-11-25"
    assert referral.urgent and referral.contact_due_by == datetime(2026, 11, 23, 17, 0,
                                                                   tzinfo=UTC)
    assert referral.person_phone == "+447700900777"
    [event] = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "referral.details_changed")).all()
    assert event.details["fields"] == ["person.phone", "release_or_discharge_date"]
    assert event.actor_label.startswith("user:") or event.actor_type.value == "user"


def test_errors_are_summarised_and_nothing_changes(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation, release_or_discharge_date="2027-01-15")
    db.session.commit()
    phone = referral.person_phone
    sign_in(client, world.referrer)
    refused = post(client, f"/referrer/referrals/{referral.id}/change",
                   {"release_date-day": "31", "release_date-month": "2",
                    "release_date-year": "2027", "phone": "12345", "email": "not-an-email"})
    assert refused.status_code == 400
    messages = error_messages(refused)
    assert messages[0].startswith("The release or discharge date must be a real date")
    assert any("UK phone number" in m for m in messages) and len(messages) == 3
    assert 'href="#release_date-day"' in refused.get_data(as_text=True)
    db.session.refresh(referral)
    assert referral.person_phone == phone
    assert referral.release_or_discharge_date.isoformat() == "2027-01-15"


def test_the_persons_details_must_still_reach_them(client, world: World) -> None:  # type: ignore[no-untyped-def]
    # The example prefers texts: clearing the phone is refused with intake's own message.
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.referrer)
    refused = post(client, f"/referrer/referrals/{referral.id}/change",
                   {"phone": "", "email": ""})
    assert refused.status_code == 400
    assert any("mobile number" in m for m in error_messages(refused))


def test_a_withdrawn_referral_cannot_be_changed(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    casework.withdraw(referral, organisation=world.organisation, actor=Actor.system("tests"))
    db.session.commit()
    sign_in(client, world.referrer)
    assert "/change" not in client.get(f"/referrer/referrals/{referral.id}").get_data(
        as_text=True)
    refused = post(client, f"/referrer/referrals/{referral.id}/change",
                   {"phone": "07700 900777"})
    assert refused.status_code == 409
    assert "withdrawn" in " ".join(error_messages(refused))


def test_another_organisation_gets_404(client, world: World) -> None:  # type: ignore[no-untyped-def]
    referral = f.referral(world.organisation)
    db.session.commit()
    sign_in(client, world.other_referrer)
    assert client.get(f"/referrer/referrals/{referral.id}/change").status_code == 404
