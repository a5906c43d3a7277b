"""What a referrer may change after sending: the release or discharge date, and how to reach the
person. One function for the partner API (PATCH) and the referrer's page.

A changed date moves the contact deadline (``deadlines.contact_due_by``, the date learnt now)
while no contact attempt has been recorded, and the reminders that hang on it.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from referral_service import clock
from referral_service.domain import audit, deadlines, events, intake
from referral_service.domain.errors import PermissionDenied, TransitionRefused
from referral_service.extensions import db
from referral_service.models import EventType, Organisation, Referral

# The person's contact fields in the submitted shape, and the columns each one fills.
_PERSON_COLUMNS = {
    "phone": ("person_phone",),
    "email": ("person_email",),
    "address": ("address_line1", "address_line2", "address_town", "address_postcode"),
    "no_fixed_abode": ("no_fixed_abode",),
    "preferred_contact_method": ("preferred_contact_method",),
    "safe_contact": ("safe_sms", "safe_voicemail", "safe_email", "safe_letter",
                     "safe_contact_instructions"),
}
# Checks the person's details as a whole, as at intake, and returns them loaded; raises
# ValidationFailed with ``person.<field>`` keys. The caller passes the schema layer's
# ``schemas.referral.load_changed_person`` (domain does not import schemas).
PersonCheck = Callable[[dict[str, Any]], dict[str, Any]]


def change_details(referral: Referral, changes: dict[str, Any], *, organisation: Organisation,
                   actor: audit.Actor, check_person: PersonCheck) -> list[str]:
    """Apply ``changes`` (as ``ReferralChangeSchema`` loads them); flush; return what changed.

    Refused for a referral another organisation made, or one no longer open. The person's
    details after the change must pass the same rules as at intake (a way to reach them;
    a preferred route marked safe). Audited with the fields changed and, for the date and the
    deadline, from and to (contact details' values stay out of the audit trail).
    """
    if referral.referring_organisation_id != organisation.id:
        raise PermissionDenied("Only the organisation that made a referral can change it.")
    if not referral.is_open:
        raise TransitionRefused(
            f"This referral is {referral.status.value.replace('_', ' ')}, so its details can no "
            "longer be changed. Send the council a note, or make a new referral.")
    changed: list[str] = []
    details: dict[str, Any] = {}
    person_changes = changes.get("person") or {}
    if person_changes:
        changed += _change_person(referral, person_changes, check_person)
    if "release_or_discharge_date" in changes:
        new_date = changes["release_or_discharge_date"]
        old_date = referral.release_or_discharge_date
        if new_date != old_date:
            changed.append("release_or_discharge_date")
            details["release_or_discharge_date"] = {"from": _iso(old_date), "to": _iso(new_date)}
            details.update(_move_deadline(referral, new_date))
    if changed:
        audit.record(actor, "referral.details_changed", subject_type="referral",
                     subject_id=referral.id, referral=referral, fields=changed, **details)
        # The reminders hanging on the date and deadline are planned again by the expansion.
        events.record(referral, EventType.CHANGED, fields=changed,
                      deadline_moved="contact_due_by" in details)
        db.session.flush()
    return changed


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _change_person(referral: Referral, person_changes: dict[str, Any],
                   check_person: PersonCheck) -> list[str]:
    current = intake.submission_of(referral)["person"]
    merged = check_person({**_as_input(current), **_as_input(person_changes)})
    before = {column: getattr(referral, column)
              for columns in _PERSON_COLUMNS.values() for column in columns}
    address = merged["address"] or {}
    safe = merged["safe_contact"]
    referral.person_phone = merged["phone"]
    referral.person_email = merged["email"]
    referral.address_line1 = address.get("line1")
    referral.address_line2 = address.get("line2")
    referral.address_town = address.get("town")
    referral.address_postcode = address.get("postcode")
    referral.no_fixed_abode = merged["no_fixed_abode"]
    referral.preferred_contact_method = merged["preferred_contact_method"]
    referral.safe_sms, referral.safe_voicemail = safe["sms"], safe["voicemail"]
    referral.safe_email, referral.safe_letter = safe["email"], safe["letter"]
    referral.safe_contact_instructions = safe["instructions"]
    return [f"person.{name}" for name, columns in _PERSON_COLUMNS.items()
            if any(getattr(referral, column) != before[column] for column in columns)]


def _as_input(person: dict[str, Any]) -> dict[str, Any]:
    """Values in the shape the schema loads: dates as text (everything else loads as it is)."""
    return {key: value.isoformat() if isinstance(value, date) else value
            for key, value in person.items()}


def _move_deadline(referral: Referral, new_date: date | None) -> dict[str, Any]:
    """The new date and a deadline worked out again (until a first attempt). The reminders to
    match are planned by the expansion of the ``referral.changed`` event."""
    referral.release_or_discharge_date = new_date
    moved: dict[str, Any] = {}
    if referral.first_contact_attempt_at is None:
        now = clock.now()
        became_urgent = deadlines.is_urgent(
            at_risk_of_rough_sleeping_tonight=referral.at_risk_of_rough_sleeping_tonight,
            release_or_discharge_date=new_date, received_at=now)
        due = deadlines.contact_due_by(
            referral.received_at, urgent=referral.urgent,
            policy=intake.policy_for(referral.authority),
            release_or_discharge_date=new_date, date_known_at=now)
        # Urgent stays urgent: a referral once urgent keeps its flag and its same-day deadline.
        referral.urgent = referral.urgent or became_urgent
        if due != referral.contact_due_by:
            moved["contact_due_by"] = {"from": referral.contact_due_by.isoformat(),
                                       "to": due.isoformat()}
            referral.contact_due_by = due
    return moved
