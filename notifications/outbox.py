"""``notify``: the one function domain code calls to have people told about a referral.

It decides who is told what (the table in ``_MESSAGES``), applies the safety rules to anything
for the applicant, and writes outbox rows in the caller's transaction. Rows that must not be sent
are still written, as ``suppressed`` with the reason, so officers can see what did not go and why.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from notifications import one_time_links, policy, templates
from referral_service import clock, rowbatch
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Authority,
    Channel,
    MessageStatus,
    OutboxMessage,
    Referral,
    Role,
    User,
)

# Whom a message about a person's own account is for, by their role.
AUDIENCE_OF_ROLE = {Role.OFFICER: Audience.OFFICER, Role.TEAM_LEADER: Audience.TEAM_LEADER,
                    Role.PARTNER: Audience.REFERRER, Role.PANEL_LEAD: Audience.REFERRER,
                    Role.ADMIN: Audience.OFFICER}
# Time-sensitive applicant texts are pointless a day late (Twilio's validity period too).
APPLICANT_TEXT_LIFETIME = timedelta(hours=24)


def _queue(referral: Referral | None, *, event: str, template: str, audience: Audience,
           channel: Channel, to: str, text: templates.Text,
           status: MessageStatus = MessageStatus.QUEUED, reason: str | None = None,
           not_before: datetime | None = None,
           expires_at: datetime | None = None) -> OutboxMessage:
    now = clock.now()
    first = not_before or now
    sends = _sends_now(status, first, now)
    # Receiving a referral: one INSERT for all its messages, at the end (rowbatch).
    message = rowbatch.new(
        OutboxMessage, id=uuid.uuid4(), referral=referral, event=event, template=template,
        audience=audience, channel=channel, to_address=to, subject=text.subject, body=text.body,
        status=status, status_reason=reason, not_before=first, expires_at=expires_at,
        enqueued_at=now if sends else None, created_at=now)
    if sends:
        # Sent as soon as the transaction commits (notifications.runtime); the scheduler
        # tick is the safety net for anything the broker loses.
        db.session.info.setdefault(PENDING_KEY, []).append(message.id)
    return message


# The ids of rows to hand to the broker when the session's transaction commits: the listener
# that does it is ``notifications.runtime``'s, above everything that sends.
PENDING_KEY = "notifications.outbox.pending"


def _never() -> bool:
    return False


# Whether a row queued now would be worked at once (a broker and a worker are there to take it);
# set by notifications.runtime.configure. Until then rows wait for the scheduler tick.
_delivers_now: Callable[[], bool] = _never


def hand_over_with(delivers_now: Callable[[], bool]) -> None:
    """Tell the outbox how to know whether rows can be handed over when their transaction
    commits (``notifications.runtime`` does, when it configures the broker)."""
    global _delivers_now
    _delivers_now = delivers_now


def _sends_now(status: MessageStatus, not_before: datetime, now: datetime) -> bool:
    return status is MessageStatus.QUEUED and not_before <= now and _delivers_now()


def to_applicant(referral: Referral, *, event: str, template: str, text: templates.Text,
                 channels: list[Channel] | None = None) -> OutboxMessage:
    """By the preferred safe route (SMS first unless email is preferred), or suppressed."""
    now = clock.now()
    order = channels or [Channel.SMS, Channel.EMAIL]
    if channels is None and referral.preferred_contact_method == "email":
        order = [Channel.EMAIL, Channel.SMS]
    reasons: list[str] = []
    refused: tuple[Channel, str] | None = None
    facts: policy.ApplicantFacts | None = None  # read once, for whichever route is tried first
    for channel in order:
        address, why_not = policy.applicant_address(referral, channel)
        if address is None:
            reasons.append(why_not or "")
            continue
        facts = facts or policy.applicant_facts(referral, now)
        decision = policy.check_applicant_message(referral, channel, address, text.body, now,
                                                  facts)
        if decision.send:
            return _queue(referral, event=event, template=template, audience=Audience.APPLICANT,
                          channel=channel, to=address, text=text, not_before=decision.not_before,
                          expires_at=now + APPLICANT_TEXT_LIFETIME)
        reasons.append(decision.reason or "")
        refused = refused or (channel, address)
        if decision.reason not in policy.ROUTE_SPECIFIC:
            break  # the same refusal would hold on any route (content, daily cap)
    channel, address = refused or (order[0], "-")
    return _queue(referral, event=event, template=template, audience=Audience.APPLICANT,
                  channel=channel, to=address, text=text, status=MessageStatus.SUPPRESSED,
                  reason=" ".join(r for r in reasons if r) or "No safe route to the person.")


def to_person(referral: Referral | None, user: User, *, event: str, template: str,
              audience: Audience, text: templates.Text) -> OutboxMessage:
    return _queue(referral, event=event, template=template, audience=audience,
                  channel=Channel.EMAIL, to=user.email, text=text)


def to_referrer(referral: Referral, *, event: str, template: str,
                text: templates.Text) -> OutboxMessage:
    return _queue(referral, event=event, template=template, audience=Audience.REFERRER,
                  channel=Channel.EMAIL, to=referral.referrer_email, text=text)


def team_leaders(referral: Referral) -> list[User]:
    return list(db.session.scalars(
        select(User).where(User.authority_id == referral.authority_id,
                           User.role == Role.TEAM_LEADER, User.active.is_(True))))


# --- who is told what ---------------------------------------------------------------------

def _received(referral: Referral, **_: object) -> None:
    officer = referral.named_officer
    council = referral.authority.name
    to_referrer(referral, event="referral_received", template="referrer_acknowledgement",
                text=templates.referrer_acknowledgement(
                    referral.referrer_name, referral.reference, council,
                    officer.name if officer else None, referral.contact_due_by))
    to_applicant(referral, event="referral_received", template="applicant_received",
                 text=templates.applicant_received(
                     council, officer.name if officer else None, referral.authority.team_phone,
                     referral.contact_due_by, referral.reference, referral.language))


def _officer_named(referral: Referral, *, previous_officer_id: object = None,
                   **_: object) -> None:
    officer = referral.named_officer
    if officer is None:
        return
    to_person(referral, officer, event="officer_named", template="officer_assigned",
              audience=Audience.OFFICER,
              text=templates.officer_assigned(officer.name, referral.reference,
                                              referral.contact_due_by, referral.urgent))
    if previous_officer_id:
        to_applicant(referral, event="officer_changed", template="applicant_officer_changed",
                     text=templates.applicant_officer_changed(
                         referral.authority.name, officer.name, referral.authority.team_phone,
                         referral.reference, referral.language))


def _contact_failed(referral: Referral, **_: object) -> None:
    officer = referral.named_officer
    to_applicant(referral, event="contact_attempt_failed", template="applicant_contact_failed",
                 text=templates.applicant_contact_failed(
                     referral.authority.name, officer.name if officer else None,
                     referral.authority.team_phone, referral.reference, referral.language))


def _referrer_told(what: str) -> Callable[..., None]:
    def tell(referral: Referral, **details: object) -> None:
        # The transfer is notified from inside the transition, before the referral records
        # where it went: the code in the event's details names the authority.
        moved_to = referral.transferred_to_authority or (db.session.scalar(
            select(Authority).where(Authority.code == details["to_authority"]))
            if details.get("to_authority") else None)
        words = what.format(outcome=str(details.get("outcome", "")).replace("_", " "),
                            to_authority=moved_to.name if moved_to else "")
        to_referrer(referral, event=f"referrer_{referral.status.value}", template="referrer_update",
                    text=templates.referrer_update(referral.referrer_name, referral.reference,
                                                   referral.authority.name, words))
    return tell


def _consent_withdrawn(referral: Referral, *, scope: str, withdrawn_by: str,
                       **_: object) -> None:
    """The named officer (unless they recorded it), and the referrer when someone else did and
    the referral stays open (a closed one tells the referrer through "closed")."""
    words = {"referral": "the referral", "texts": "text messages", "email": "email",
             "panel_sharing": "sharing with MARAC or MAPPA panels"}[scope]
    line = f"the person has withdrawn consent to {words}."
    officer = referral.named_officer
    if officer is not None and withdrawn_by != "officer":
        to_person(referral, officer, event="consent_withdrawn", template="referrer_update",
                  audience=Audience.OFFICER, text=templates.referrer_update(
                      officer.name, referral.reference, referral.authority.name, line))
    if withdrawn_by != "referrer" and scope != "referral":
        to_referrer(referral, event="consent_withdrawn", template="referrer_update",
                    text=templates.referrer_update(referral.referrer_name, referral.reference,
                                                   referral.authority.name, line))


def _password_reset(_: None, *, user: User, reset_token_id: uuid.UUID) -> None:
    # The row holds a placeholder, not the link: it is made only at send time.
    to_person(None, user, event="password_reset", template="password_reset",
              audience=AUDIENCE_OF_ROLE[user.role],
              text=templates.password_reset(
                  user.email, one_time_links.reset_link_placeholder(reset_token_id)))


_MESSAGES: dict[str, Callable[..., None]] = {
    "referral_received": _received,
    "officer_named": _officer_named,
    "contact_attempt_failed": _contact_failed,
    "contact_made": _referrer_told("the council has made contact with the person."),
    "closed": _referrer_told("the referral is closed. Outcome: {outcome}."),
    "withdrawn": _referrer_told("your withdrawal of the referral has been recorded."),
    "transferred": _referrer_told("the referral has been transferred to another housing "
                                  "authority ({to_authority})."),
    "consent_withdrawn": _consent_withdrawn,
    "password_reset": _password_reset,
}


def notify(event: str, referral: Referral | None, **details: object) -> None:
    """Write the messages ``event`` causes, in the caller's transaction (nothing is sent yet).
    ``referral`` is None for messages about a person's own account (password reset)."""
    _MESSAGES[event](referral, **details)
