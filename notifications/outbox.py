"""``notify``: who is told what when something happens to a referral (or to an account).

Called when a referral's domain event is expanded (``notifications.expansion``), so the safety
rules run then, close to sending. It decides who is told what (the table in ``_MESSAGES``),
applies the safety rules to anything for the applicant, and writes outbox rows in the caller's
transaction. Rows that must not be sent are still written, as ``suppressed`` with the reason, so
officers can see what did not go and why.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from notifications import one_time_links, policy, templates
from referral_service import clock, rowbatch
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Authority,
    Channel,
    ExternalTransfer,
    MessageStatus,
    OutboxMessage,
    Referral,
    ReferralStatus,
    Role,
    User,
    WebhookSubscription,
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
           expires_at: datetime | None = None, once_key: str | None = None) -> OutboxMessage:
    now = clock.now()
    first = not_before or now
    sends = _sends_now(status, first, now)
    # Receiving a referral: one INSERT for all its messages, at the end (rowbatch).
    message = rowbatch.new(
        OutboxMessage, id=uuid.uuid4(), referral=referral, event=event, template=template,
        audience=audience, channel=channel, to_address=to, subject=text.subject, body=text.body,
        status=status, status_reason=reason, not_before=first, expires_at=expires_at,
        enqueued_at=now if sends else None, created_at=now, once_key=once_key)
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
    """By email; suppressed, with the reason, when a keyed-in referral gave no email for the
    referrer (a phone call or a letter): the officer sees it on the timeline."""
    if not referral.referrer_email:
        return _queue(referral, event=event, template=template, audience=Audience.REFERRER,
                      channel=Channel.EMAIL, to="-", text=text,
                      status=MessageStatus.SUPPRESSED,
                      reason="No email address was given for the referrer.")
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


def _officer_named(referral: Referral, *, officer_id: object = None,
                   previous_officer_id: object = None, **_: object) -> None:
    # The officer the event named (another may hold the referral by the time it is expanded).
    officer = (db.session.get(User, uuid.UUID(str(officer_id))) if officer_id
               else referral.named_officer)
    if officer is None:
        return
    to_person(referral, officer, event="officer_named", template="officer_assigned",
              audience=Audience.OFFICER,
              text=templates.officer_assigned(officer.name, referral.reference,
                                              referral.contact_due_by, referral.urgent))
    # The applicant hears of a new officer only if they had been told of another one.
    if previous_officer_id and str(previous_officer_id) != str(officer.id):
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


def _referrer_told(status: str, what: str) -> Callable[..., None]:
    def tell(referral: Referral, **details: object) -> None:
        # The event's details name the authority a transfer went to (by its code); a council
        # not on the service is named on the referral's external transfer.
        moved_to = referral.transferred_to_authority or (db.session.scalar(
            select(Authority).where(Authority.code == details["to_authority"]))
            if details.get("to_authority") else None)
        outside = referral.external_transfer
        words = what.format(outcome=str(details.get("outcome", "")).replace("_", " "),
                            to_authority=moved_to.name if moved_to else (
                                outside.council_name if outside is not None else ""))
        # By the event's status, not the referral's: it may have moved on since.
        to_referrer(referral, event=f"referrer_{status}", template="referrer_update",
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


def _webhook_failing(_: None, *, subscription: WebhookSubscription) -> None:
    """To the subscription's contact, else the organisation's active partner accounts."""
    addresses = [subscription.contact_email] if subscription.contact_email else list(
        db.session.scalars(select(User.email).where(
            User.organisation_id == subscription.organisation_id, User.role == Role.PARTNER,
            User.active.is_(True))))
    text = templates.webhook_failing(urlsplit(subscription.url).hostname or "-")
    for address in addresses:
        _queue(None, event="webhook_failing", template="webhook_failing",
               audience=Audience.REFERRER, channel=Channel.EMAIL, to=address, text=text)


def _transfer_link(referral: Referral, *, link_id: str, **_: object) -> None:
    """The council not on the service is sent a one-time link (the row holds a placeholder).
    Its housing options team is council staff: the officers' audience."""
    moved = db.session.scalars(
        select(ExternalTransfer).where(ExternalTransfer.referral_id == referral.id)).one()
    to_council, email, expires_at = moved.council_name, moved.email, moved.link_expires_at
    _queue(referral, event="transfer_link", template="external_transfer",
           audience=Audience.OFFICER, channel=Channel.EMAIL, to=email,
           text=templates.external_transfer(
               referral.authority.name, to_council, referral.reference,
               one_time_links.transfer_link_placeholder(uuid.UUID(link_id)), expires_at))


# --- arrivals in the team queue, notes, escalations (issue 15.5) ---------------------------

TEAM_ARRIVAL = "team_arrival"                # urgent: to the team mailbox at once
TEAM_ARRIVAL_HELD = "team_arrival_held"      # waits for the digest (notifications.team_digest)
TEAM_ARRIVAL_DIGEST = "team_arrival_digest"  # the held row that carries the digest
# Arrivals this close to a release or discharge date are urgent (London dates).
ARRIVAL_URGENT_RELEASE_DAYS = 2


def _link(path: str) -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]) + path


def team_queue_link() -> str:
    return _link("/casework/queue")


def arrival_is_urgent(referral: Referral, now: datetime) -> bool:
    """At risk of sleeping rough tonight, or released or discharged within 2 days."""
    if referral.at_risk_of_rough_sleeping_tonight:
        return True
    release = referral.release_or_discharge_date
    return release is not None and release <= (
        now.astimezone(clock.LONDON).date() + timedelta(days=ARRIVAL_URGENT_RELEASE_DAYS))


def next_digest_at(now: datetime) -> datetime:
    """The end of the digest slot ``now`` is in: every arrival in one slot shares it, so the
    digest job finds them due together and sends one email."""
    slot = timedelta(minutes=int(current_app.config.get("ARRIVAL_DIGEST_MINUTES", 30)))
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return epoch + ((now - epoch) // slot + 1) * slot


def _landed_in_team_queue(referral: Referral, *, queued: bool = True, **_: object) -> None:
    """Tell the team mailbox (the authority's ``team_email``), once ever per referral: at once
    when urgent, otherwise in the next digest. A referral that comes back to the queue is not
    told of again (``once_key``, unique). ``queued``: a received referral's event says whether
    routing left it in the queue (a referral.queued event always did)."""
    if not queued:
        return
    mailbox = referral.authority.team_email
    if not mailbox:
        return
    key = f"team_arrival:{referral.id}"
    if rowbatch.current() is None and db.session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.once_key == key)) is not None:
        return
    now = clock.now()
    text = templates.team_arrival(referral.reference, referral.contact_due_by, team_queue_link())
    if arrival_is_urgent(referral, now):
        _queue(referral, event="landed_in_team_queue", template=TEAM_ARRIVAL,
               audience=Audience.OFFICER, channel=Channel.EMAIL, to=mailbox, text=text,
               once_key=key)
    else:  # the digest job writes the words when it gathers the slot's arrivals
        _queue(referral, event="landed_in_team_queue", template=TEAM_ARRIVAL_HELD,
               audience=Audience.OFFICER, channel=Channel.EMAIL, to=mailbox, text=text,
               not_before=next_digest_at(now), once_key=key)


def _note_posted(referral: Referral, *, side: str, **_: object) -> None:
    """A note by the referrer tells the named officer (the team mailbox while nobody is
    named); a note by the council tells the referrer. The email says only that there is a
    note and where to sign in."""
    if side == "referrer":
        text = templates.new_note(referral.reference,
                                  _link(f"/casework/referrals/{referral.id}"))
        officer = referral.named_officer
        if officer is not None and referral.status is not ReferralStatus.UNASSIGNED:
            to_person(referral, officer, event="note_posted", template="note_for_officer",
                      audience=Audience.OFFICER, text=text)
        elif referral.authority.team_email:
            _queue(referral, event="note_posted", template="note_for_team",
                   audience=Audience.OFFICER, channel=Channel.EMAIL,
                   to=referral.authority.team_email, text=text)
    else:
        to_referrer(referral, event="note_posted", template="note_for_referrer",
                    text=templates.new_note(referral.reference,
                                            _link(f"/referrer/referrals/{referral.id}")))


def escalation_digest(leader: User,
                      items: list[tuple[str, str, str | None, datetime]]) -> OutboxMessage:
    """One email to a team leader for every escalation one scheduler tick found."""
    return to_person(None, leader, event="escalation_digest", template="escalation_digest",
                     audience=Audience.TEAM_LEADER,
                     text=templates.escalation_digest(leader.name, items))


_MESSAGES: dict[str, Callable[..., None]] = {
    "referral_received": _received,
    "officer_named": _officer_named,
    "contact_attempt_failed": _contact_failed,
    "contact_made": _referrer_told("contacted", "the council has made contact with the person."),
    "closed": _referrer_told("closed", "the referral is closed. Outcome: {outcome}."),
    "withdrawn": _referrer_told("withdrawn", "your withdrawal of the referral has been recorded."),
    "transferred": _referrer_told("transferred", "the referral has been transferred to another "
                                  "housing authority ({to_authority})."),
    "consent_withdrawn": _consent_withdrawn,
    "password_reset": _password_reset,
    "webhook_failing": _webhook_failing,
    "transfer_link": _transfer_link,
    "landed_in_team_queue": _landed_in_team_queue,
    "note_posted": _note_posted,
}


def notify(event: str, referral: Referral | None, **details: object) -> None:
    """Write the messages ``event`` causes, in the caller's transaction (nothing is sent yet).

    For a referral this is called by the expansion of its domain events
    (``notifications.expansion.EVENT_MESSAGES`` names the handlers here, with the event's data
    as ``details``), never by the domain. ``referral`` is None for messages about a person's own
    account (password reset, which ``auth.reset`` notifies directly)."""
    _MESSAGES[event](referral, **details)
