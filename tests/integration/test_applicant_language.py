"""Applicant messages in the person's language: Welsh for "cy", English for anything without a
complete set. Read from the outbox rows the real intake and casework write; officers, team
leaders and referrers are always written to in English.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from notifications import templates
from referral_service.domain import casework
from referral_service.models import (
    Audience,
    Channel,
    ContactAttemptResult,
    ContactChannel,
    MessageStatus,
    OutboxMessage,
    Referral,
)
from tests import factories as f

MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # due Wednesday 25, 17:00
CONSENT = {"recorded_at": "2026-01-05T10:00:00Z"}
EMAIL_ONLY = {"sms": False, "voicemail": False, "email": True, "letter": False,
              "instructions": None}


@pytest.fixture
def council(db_session) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with time_machine.travel(MONDAY_10AM, tick=False):
        authority = f.authority(name="Caerdydd", team_phone="029 2087 2087")
        f.officer(authority, name="Jo Smith")
        yield f.organisation()


def referred(org: Any, language: str | None, **person: Any) -> Referral:
    return f.referral(org, person=f.unique_person(language=language, **person), consent=CONSENT)


def applicant_rows(referral: Referral, event: str) -> list[OutboxMessage]:
    f.expanded()  # the events so far, as the worker expands them after commit
    return list(f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == referral.id, OutboxMessage.audience == Audience.APPLICANT,
        OutboxMessage.event == event)))


def test_a_welsh_speaker_is_texted_in_welsh_and_the_referrer_in_english(council) -> None:  # type: ignore[no-untyped-def]
    case = referred(council, "cy")
    [sms] = applicant_rows(case, "referral_received")
    assert (sms.channel, sms.status) == (Channel.SMS, MessageStatus.QUEUED)
    assert sms.body == (f"Cyngor Caerdydd: Bydd Jo o'n swyddfa yn cysylltu erbyn Mer 25 Tach, "
                        f"5yp. Cyf: {case.reference}. Atebwch yma neu ffoniwch +442920872087.")
    assert templates.sms_segments(sms.body) == 1
    [ack] = f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == case.id, OutboxMessage.audience == Audience.REFERRER))
    assert "Caerdydd Council has received your referral" in ack.body
    officer = f.db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.referral_id == case.id, OutboxMessage.audience == Audience.OFFICER)).first()
    assert officer is not None and officer.subject == f"New referral {case.reference} for you"


def test_a_welsh_speaker_who_prefers_email_is_emailed_in_welsh(council) -> None:  # type: ignore[no-untyped-def]
    case = referred(council, "cy-GB", email="person@example.org",
                    preferred_contact_method="email", safe_contact=EMAIL_ONLY)
    [email] = applicant_rows(case, "referral_received")
    assert (email.channel, email.to_address) == (Channel.EMAIL, "person@example.org")
    assert email.body.startswith("Cyngor Caerdydd: Bydd Jo o'n swyddfa yn cysylltu")


def test_a_failed_contact_attempt_and_a_new_officer_are_told_in_welsh(council) -> None:  # type: ignore[no-untyped-def]
    case = referred(council, "cy")
    jo = case.named_officer
    casework.accept(case, jo)
    casework.record_contact_attempt(case, jo, channel=ContactChannel.PHONE,
                                    result=ContactAttemptResult.NO_ANSWER)
    [failed] = applicant_rows(case, "contact_attempt_failed")
    assert failed.body.startswith("Cyngor Caerdydd: Ceisiodd Jo gael gafael arnoch heddiw")
    sam = f.officer(case.authority, name="Sam Jones")
    casework.reassign(case, sam, f.team_leader(case.authority), reason="Jo is on leave")
    [changed] = applicant_rows(case, "officer_changed")
    assert changed.body.startswith("Cyngor Caerdydd: Sam yw eich cyswllt newydd")


@pytest.mark.parametrize("language", ["en", "pl", None])
def test_english_and_languages_without_a_set_get_english(council, language: str | None) -> None:  # type: ignore[no-untyped-def]
    case = referred(council, language)
    [sms] = applicant_rows(case, "referral_received")
    assert sms.body.startswith("Caerdydd Council: Jo from our team will contact you by "
                               "Wed 25 Nov, 5pm.")
