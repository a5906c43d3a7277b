"""A transfer to a council that does not take referrals through this service (issue 15.3).

The officer names the council, its code when known, and its housing options team's secure email
address; the referral is closed here as ``transferred`` and the council is emailed a one-time
link (``notifications.one_time_links``: 256 bits made from the secret key and the link's id at
send time; only the digest is stored). The link opens one page, for this referral only, where
the council reads what it needs and marks the referral received; after that, or once it
expires (``TRANSFER_LINK_LIFETIME_DAYS``), it no longer works. Every view is audited on the
referral (it shows personal data); the first one and the receipt are shown to the referrer and
to the sending council. The officer may send a new link: the old one stops working at once.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from flask import current_app
from sqlalchemy import select, update

from referral_service import clock, link_secrets
from referral_service.domain import audit, casework, events, transfer_history
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.domain.staff_entry import StaffEntry
from referral_service.extensions import db
from referral_service.models import (
    ActorType,
    Authority,
    EventType,
    ExternalTransfer,
    Referral,
    ReferralStatus,
    User,
)
from referral_service.models.oauth import digest
from referral_service.validation import EMAIL_MESSAGE, ValidationError, normalise_email

# ONS/GSS codes of English, Welsh, Scottish and Northern Irish local authorities.
_CODE = re.compile(r"^[EWSN]\d{8}$")


@dataclass(frozen=True)
class Destination:
    name: str
    code: str | None
    email: str
    known: Authority | None  # the service's own record of it, when it has one


def _lifetime() -> timedelta:
    return timedelta(days=int(current_app.config.get("TRANSFER_LINK_LIFETIME_DAYS", 14)))


def _secure_domains() -> tuple[str, ...]:
    return tuple(current_app.config.get("TRANSFER_EMAIL_DOMAINS") or ())


def destination(name: str, code: str, email: str) -> Destination:
    """The council as the officer typed it, checked: the name, a code in the GSS form (and not
    one of the councils on the service: those are chosen from the list), and a secure address."""
    errors: dict[str, list[str]] = {}
    name, code = (name or "").strip(), (code or "").strip().upper()
    if not name:
        errors["council_name"] = ["Enter the name of the council."]
    elif len(name) > 200:
        errors["council_name"] = ["The council's name must be 200 characters or fewer."]
    known = None
    if code:
        if not _CODE.match(code):
            errors["council_code"] = [
                "Enter the local authority code like E06000032, or leave it blank."]
        else:
            known = db.session.scalar(select(Authority).where(Authority.code == code))
            if known is not None and known.participating:
                errors["council_code"] = [
                    f"{known.name} takes referrals through this service: choose it from the "
                    "list of housing authorities instead."]
    address = ""
    try:
        address = normalise_email(email or "")
    except ValidationError:
        errors["council_email"] = [EMAIL_MESSAGE]
    domains = _secure_domains()
    if address and domains and not address.lower().endswith(
            tuple("@" + d for d in domains) + tuple("." + d for d in domains)):
        errors["council_email"] = [
            "Enter a secure council email address, ending " + " or ".join(domains) + "."]
    if errors:
        raise ValidationFailed(errors)
    return Destination(name, code or None, address, known)


def transfer(referral: Referral, to: Destination, by: User, *, reason: str, person_agreed: bool,
             ip_address: str | None = None) -> ExternalTransfer:
    """Close the referral here as transferred, and email the council its one-time link."""
    actor = casework.record_transfer(referral, by, reason=reason, person_agreed=person_agreed,
                                     ip_address=ip_address, to_authority=to.code,
                                     to_council=to.name, not_on_service=True)
    if to.known is not None:
        referral.transferred_to_authority = to.known
    now = clock.now()
    moved = ExternalTransfer(referral=referral, council_name=to.name, council_code=to.code,
                             email=to.email, sent_by=by, created_at=now, links_sent=0,
                             secret_digest="", link_sent_at=now, link_expires_at=now)
    db.session.add(moved)
    _send_link(moved, by, actor)
    db.session.flush()
    return moved


def send_new_link(referral: Referral, by: User, *, ip_address: str | None = None
                  ) -> ExternalTransfer:
    """A new link to the same address; the old one stops working at once."""
    moved = referral.external_transfer
    if moved is None or referral.status is not ReferralStatus.TRANSFERRED:
        raise ValidationFailed({"link": ["This referral was not transferred to a council "
                                         "outside the service."]})
    casework.require_case_worker(by, referral)
    if moved.received_at is not None:
        raise ValidationFailed({"link": [f"{moved.council_name} has already marked it "
                                         "received: it needs no new link."]})
    _send_link(moved, by, audit.Actor.for_user(by, ip_address))
    db.session.flush()
    return moved


def _send_link(moved: ExternalTransfer, by: User, actor: audit.Actor) -> None:
    link_id = uuid.uuid4()
    now = clock.now()
    moved.secret_digest = digest(link_secrets.transfer_secret(link_id))
    moved.link_sent_at, moved.link_expires_at = now, now + _lifetime()
    moved.links_sent = (moved.links_sent or 0) + 1
    moved.sent_by = by
    referral = moved.referral
    # The email goes when the worker expands the event (notifications.expansion).
    events.record(referral, EventType.TRANSFER_LINK_SENT, link_id=link_id)
    audit.record(actor, "referral.transfer_link_sent", subject_type="referral",
                 subject_id=referral.id, referral=referral, to_council=moved.council_name,
                 expires_at=moved.link_expires_at.isoformat(), link_number=moved.links_sent)


class LinkState(Enum):
    OPEN = "open"
    GONE = "gone"        # expired, or used (the referral was marked received): 410
    UNKNOWN = "unknown"  # never issued (or replaced: its digest is no longer kept): 404


def find(raw: str) -> tuple[LinkState, ExternalTransfer | None]:
    """The transfer this link opens, if it still works."""
    if not raw or len(raw) > 100:
        return LinkState.UNKNOWN, None
    moved = db.session.scalar(select(ExternalTransfer).where(
        ExternalTransfer.secret_digest == digest(raw)))
    if moved is None:
        return LinkState.UNKNOWN, None
    if moved.received_at is not None or clock.as_utc(moved.link_expires_at) <= clock.now():
        return LinkState.GONE, None
    return LinkState.OPEN, moved


def _link_actor(moved: ExternalTransfer, ip_address: str | None) -> audit.Actor:
    # Nobody signs in: the holder of the link sent to this council's address.
    return audit.Actor(ActorType.SYSTEM, f"transfer-link:{moved.council_name}"[:200],
                       ip_address=ip_address)


@dataclass(frozen=True)
class Shown:
    referral: Referral
    transfer: ExternalTransfer
    earlier: list[StaffEntry]


def view(moved: ExternalTransfer, ip_address: str | None) -> Shown:
    """What the council sees (the referral, and its timeline without private notes); each
    view audited, the first one stamped."""
    referral = moved.referral
    first = moved.first_opened_at is None
    if first:
        moved.first_opened_at = clock.now()
    audit.record(_link_actor(moved, ip_address), "referral.transfer_link_viewed",
                 subject_type="referral", subject_id=referral.id, referral=referral,
                 to_council=moved.council_name, first=first)
    db.session.flush()
    return Shown(referral, moved, list(reversed(transfer_history.shared_entries(referral))))


def mark_received(moved: ExternalTransfer, received_by: str, ip_address: str | None) -> None:
    """The council says it has the referral; the link is used up (a compare-and-set: two
    clicks at once record one receipt)."""
    name = (received_by or "").strip()
    if not name:
        raise ValidationFailed({"received_by": ["Enter your name."]})
    if len(name) > 200:
        raise ValidationFailed({"received_by": ["Your name must be 200 characters or fewer."]})
    now = clock.now()
    done = db.session.execute(
        update(ExternalTransfer)
        .where(ExternalTransfer.id == moved.id, ExternalTransfer.received_at.is_(None))
        .values(received_at=now, received_by_name=name)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise PermissionDenied("This referral has already been marked received.")
    db.session.refresh(moved)
    referral = moved.referral
    audit.record(_link_actor(moved, ip_address), "referral.transfer_received",
                 subject_type="referral", subject_id=referral.id, referral=referral,
                 to_council=moved.council_name, received_by=name)
    db.session.flush()
