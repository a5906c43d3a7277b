"""Every message the service sends, in one place: plain, short, kind.

Applicant messages never mention why the person was referred, their address, support needs or
risks: someone else may read their phone. A test checks every applicant template against the
words that would give that away.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from referral_service.clock import LONDON

GSM_SEGMENT = 160
GSM_CONCAT_SEGMENT = 153


@dataclass(frozen=True)
class Text:
    subject: str | None
    body: str


def when(moment: datetime) -> str:
    """'Wed 25 Nov, 5pm' in London time."""
    local = moment.astimezone(LONDON)
    hour = local.strftime("%I").lstrip("0")
    minutes = "" if local.minute == 0 else local.strftime(":%M")
    return f"{local:%a} {local.day} {local:%b}, {hour}{minutes}{local.strftime('%p').lower()}"


def sms_segments(body: str) -> int:
    """How many SMS segments a GSM-7 body takes (Unicode would double the cost; we avoid it)."""
    length = len(body)
    return 1 if length <= GSM_SEGMENT else -(-length // GSM_CONCAT_SEGMENT)


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.strip() else full_name


# --- to the applicant ---------------------------------------------------------------------

def applicant_received(council: str, officer: str | None, team_phone: str | None,
                       due: datetime, reference: str) -> Text:
    who = f"{first_name(officer)} from our team" if officer else "Someone from our team"
    phone = f" or call {team_phone}" if team_phone else ""
    # Short forms ("Your ref is", "Reply here"): the longer wording ran to 162+ characters, two
    # SMS segments, with a long council name, a team phone and no officer named yet.
    return Text(None, f"{council} Council: {who} will contact you by {when(due)}. "
                      f"Your ref is {reference}. Reply here{phone}.")


def applicant_officer_changed(council: str, officer: str, team_phone: str | None,
                              reference: str) -> Text:
    phone = f" Call {team_phone} or reply here." if team_phone else " Reply here."
    return Text(None, f"{council} Council: {first_name(officer)} is now your contact "
                      f"(ref {reference}).{phone}")


def applicant_contact_failed(council: str, officer: str | None, team_phone: str | None,
                             reference: str) -> Text:
    who = first_name(officer) if officer else "We"
    phone = f"call {team_phone} or reply" if team_phone else "reply"
    # Not "when it is safe to talk": to someone else reading the phone that hints at abuse.
    return Text(None, f"{council} Council: {who} tried to reach you today (ref {reference}). "
                      f"Please {phone} when you are free to talk.")


# --- to officers and team leaders ---------------------------------------------------------

def officer_assigned(officer: str, reference: str, due: datetime, urgent: bool) -> Text:
    urgency = "URGENT: " if urgent else ""
    return Text(f"{urgency}New referral {reference} for you",
                f"Hello {first_name(officer)},\n\nReferral {reference} has been routed to you. "
                f"First contact attempt due by {when(due)}.\n\nOpen it in the referral service to "
                "accept it and see the safe-contact instructions.")


def officer_reminder(kind: str, officer: str, reference: str, due: datetime) -> Text:
    lines = {
        "accept_overdue": ("Referral {ref} is waiting for you to accept it",
                           "Referral {ref} has not been accepted yet. Contact is due by {due}."),
        "deadline_approaching": ("Contact due soon: {ref}",
                                 "The first contact attempt on {ref} is due by {due}."),
        "deadline_missed": ("Contact deadline missed: {ref}",
                            "No contact attempt has been recorded on {ref}; it was due by {due}. "
                            "Your team leader has been told."),
        "release_tomorrow": ("Release or discharge tomorrow: {ref}",
                             "The person on referral {ref} is released or discharged tomorrow."),
        "sms_unreachable": ("Could not text the person on {ref}",
                            "A text message to the person on {ref} could not be delivered, and "
                            "no other safe route is recorded. Please try another way."),
        "sms_delivery_unknown": ("Check whether a text reached the person on {ref}",
                                 "A text to the person on {ref} may or may not have been sent "
                                 "(a sending process stopped, or Twilio did not answer). It "
                                 "will not be sent again automatically; contact them another "
                                 "way if needed."),
        "email_delivery_unknown": ("Check whether an email reached the person on {ref}",
                                   "An email to the person on {ref} may or may not have arrived "
                                   "(the mail server did not confirm it). It will not be sent "
                                   "again automatically; contact them another way if needed."),
        "reply_received": ("Reply from the person on {ref}",
                           "The person on {ref} replied by text. Read it on the referral's "
                           "timeline."),
    }
    subject, body = lines[kind]
    values = {"ref": reference, "due": when(due)}
    return Text(subject.format(**values),
                f"Hello {first_name(officer)},\n\n" + body.format(**values))


def team_leader_escalation(kind: str, reference: str, officer: str | None,
                           due: datetime) -> Text:
    owner = officer or "the team queue"
    what = ("has not been accepted" if kind == "accept_overdue"
            else "has no contact attempt")
    return Text(f"Escalation: {reference} {what}",
                f"Referral {reference} ({owner}) {what}. Contact was due by {when(due)}.")


def password_reset(email: str, link: str) -> Text:
    """``link`` is a placeholder until sending (notifications.one_time_links)."""
    return Text("Reset your password: Duty to Refer referrals",
                f"Someone asked to reset the password for {email}.\n\n"
                f"To choose a new password, open this link within 30 minutes:\n{link}\n\n"
                "The link works once. If you did not ask, ignore this email: your password has "
                "not changed.")


# --- to the referrer ----------------------------------------------------------------------

def referrer_acknowledgement(referrer: str, reference: str, council: str,
                             officer: str | None, due: datetime) -> Text:
    owner = f"The named officer is {officer}." if officer else (
        "It is in the team queue; an officer will be named shortly.")
    return Text(f"Referral received: {reference}",
                f"Hello {first_name(referrer)},\n\n{council} Council has received your referral. "
                f"Its reference is {reference}. {owner} First contact with the person is due by "
                f"{when(due)}.\n\nQuote the reference if you contact the council about it.")


def referrer_update(referrer: str, reference: str, council: str, what: str) -> Text:
    return Text(f"Update on referral {reference}",
                f"Hello {first_name(referrer)},\n\n{council} Council: {what}\n\n"
                f"Reference {reference}.")
