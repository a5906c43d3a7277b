"""What a referrer may see happen to their referral: never officers' private notes.

Built from the audit trail (the record of what happened) and the notes exchanged with the
council, so the two can never disagree.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from referral_service.domain import consent, sharing
from referral_service.domain.staff_entry import StaffEntry
from referral_service.extensions import db
from referral_service.models import (
    AuditEvent,
    ConsentScope,
    ContactAttempt,
    InboundSms,
    OutboxMessage,
    Outcome,
    Referral,
    ReferralMessage,
    User,
    WithdrawnBy,
)

_STATUS_WORDS = {
    "accepted": ("accepted", "The named officer accepted the referral."),
    "contact_attempted": ("contact_attempted", "The council tried to contact the person."),
    "contacted": ("contact_made", "The council made contact with the person."),
    "withdrawn": ("withdrawn", "The referral was withdrawn by the referring organisation."),
    "unassigned": ("in_team_queue", "The referral is in the team queue for an officer to claim."),
}


# Where events share an instant (a frozen clock, as in the demo loader's ``clock.travel``, or a
# coarse one), the audit ids (random UUIDs) gave a random order: "officer named" could come
# before "received". Ties are broken in the order things happen to a referral.
_ORDER = {"received": 0, "officer_named": 1, "in_team_queue": 1, "accepted": 2,
          "contact_attempted": 3, "contact_made": 4, "closed": 5, "withdrawn": 5,
          "transferred": 5, "consent_withdrawn": 4, "transfer_opened": 6, "transfer_received": 7,
          "message": 8}


@dataclass(frozen=True)
class Entry:
    at: datetime
    type: str
    description: str


def _officer_name(officer_id: str | None) -> str | None:
    if not officer_id:
        return None
    officer = db.session.get(User, uuid.UUID(officer_id))
    return officer.name if officer else None


# A keyed-in referral's channel, as the timeline says it (``Referral.source``).
_KEYED_IN_WORDS = {"email": "by email", "phone": "by phone", "letter": "by letter",
                   "in_person": "in person"}


def _received_words(referral: Referral) -> str:
    came_from = referral.transferred_from
    if referral.source.keyed_in:
        keyed_by = referral.keyed_in_by
        return (f"Received by {referral.authority.name} {_KEYED_IN_WORDS[referral.source.value]}"
                f" from {referral.referring_organisation.name}; keyed in"
                + (f" by {keyed_by.name}." if keyed_by is not None else "."))
    if came_from is None:
        return f"Received by {referral.authority.name}."
    return (f"Received by {referral.authority.name} by transfer from "
            f"{came_from.authority.name} (earlier reference {came_from.reference}).")


def _transferred_words(referral: Referral) -> str:
    """Both references, so that whoever reads it can follow the person to the new council."""
    to = referral.transferred_to_authority
    name = to.name if to is not None else "another housing authority"
    elsewhere = referral.external_transfer
    if elsewhere is not None:
        return (f"Transferred to {elsewhere.council_name}, which does not take referrals through "
                "this service: its housing options team was emailed a secure link.")
    made_there = referral.transferred_to
    if made_there is None:
        return f"Transferred to {name}, which does not take referrals through this service."
    return f"Transferred to {name} (new reference {made_there.reference})."


def _consent_words(details: dict[str, object]) -> str:
    scope = consent.SCOPE_WORDS[ConsentScope(str(details["scope"]))]
    by = consent.BY_WORDS[WithdrawnBy(str(details["withdrawn_by"]))]
    return f"Consent to {scope} withdrawn by {by}."


def for_referrer(referral: Referral) -> list[Entry]:
    entries: list[Entry] = []
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.referral_id == referral.id)
        .order_by(AuditEvent.occurred_at, AuditEvent.id)
    )
    last_attempt_reported = False
    for event in events:
        details = event.details or {}
        if event.action == "referral.received":
            entries.append(Entry(event.occurred_at, "received",
                                 _received_words(referral)))
        elif event.action in {"referral.transition", "referral.reassigned"} and (
                event.to_status == "assigned" or event.action == "referral.reassigned"):
            name = _officer_name(details.get("officer_id"))
            entries.append(Entry(event.occurred_at, "officer_named",
                                 f"Named officer: {name}." if name else "An officer was named."))
        elif event.action == "consent.withdrawn":
            entries.append(Entry(event.occurred_at, "consent_withdrawn", _consent_words(details)))
        elif event.action == "referral.transition" and event.to_status == "closed":
            outcome = Outcome(details["outcome"]).value.replace("_", " ")
            entries.append(Entry(event.occurred_at, "closed", f"Closed. Outcome: {outcome}."))
        elif event.action == "referral.transition" and event.to_status == "transferred":
            entries.append(Entry(event.occurred_at, "transferred", _transferred_words(referral)))
        elif event.action == "referral.transfer_link_viewed" and details.get("first"):
            entries.append(Entry(event.occurred_at, "transfer_opened",
                                 f"{details.get('to_council')} opened the secure link."))
        elif event.action == "referral.transfer_received":
            entries.append(Entry(event.occurred_at, "transfer_received",
                                 f"{details.get('to_council')} marked the referral received "
                                 f"({details.get('received_by')})."))
        elif event.action == "referral.transition" and event.to_status in _STATUS_WORDS:
            if event.to_status == "contact_attempted":
                # Repeated attempts are one line for the referrer: the detail is the officer's.
                if last_attempt_reported:
                    continue
                last_attempt_reported = True
            kind, words = _STATUS_WORDS[event.to_status]
            entries.append(Entry(event.occurred_at, kind, words))
    for message in db.session.scalars(
        select(ReferralMessage).where(ReferralMessage.referral_id == referral.id)
    ):
        who = "You" if message.author_side == "referrer" else referral.authority.name
        entries.append(Entry(message.created_at, "message", f"{who} sent a note."))
    return sorted(entries, key=lambda entry: (entry.at, _ORDER.get(entry.type, 6)))


def for_staff(referral: Referral) -> list[StaffEntry]:
    """Everything officers see on a referral: status changes, every message with its delivery
    status (and why one was suppressed), the person's replies, and notes with the referrer."""
    entries = [
        StaffEntry(e.at, e.type, e.description) for e in for_referrer(referral)
        if e.type != "message"
    ]
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.referral_id == referral.id)
    ):
        who = message.audience.value.replace("_", " ")
        status = message.status.value
        entries.append(StaffEntry(
            message.created_at, f"message_{status}",
            f"{message.channel.value.upper()} to the {who}: {status}"
            + (f" ({message.status_reason})" if message.status_reason else ""),
            message.subject or message.body))
    for reply in db.session.scalars(
        select(InboundSms).where(InboundSms.referral_id == referral.id)
    ):
        entries.append(StaffEntry(reply.received_at, f"sms_{reply.kind}",
                                  "Text from the person", reply.body))
    for attempt in db.session.scalars(
        select(ContactAttempt).where(ContactAttempt.referral_id == referral.id)
    ):
        outcome = "contact made" if attempt.successful else (
            attempt.result.value.replace("_", " ") if attempt.result else "no answer")
        entries.append(StaffEntry(attempt.attempted_at, "contact_attempt",
                                  f"{attempt.channel.value.replace('_', ' ')}: {outcome}",
                                  attempt.notes))
    for note in db.session.scalars(
        select(ReferralMessage).where(ReferralMessage.referral_id == referral.id)
    ):
        entries.append(StaffEntry(note.created_at, "note",
                                  f"Note from the {note.author_side}", note.body))
    # MARAC/MAPPA shares, revocations and panel actions: staff only, never the referrer.
    entries.extend(sharing.staff_timeline(referral))
    return sorted(entries, key=lambda entry: entry.at)
