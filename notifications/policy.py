"""The safety rules for messages to applicants, enforced in one place.

- Only by a route the referrer marked safe (and SMS only to a mobile).
- Never to a number that texted STOP.
- Never between 21:00 and 08:00 London time: deferred to 08:00, not dropped.
- At most DAILY_CAP messages to one applicant in a London day.
- Nothing that reveals their circumstances (a last check on the text itself).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from referral_service.domain import deadlines
from referral_service.domain.clock import LONDON
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    MessageStatus,
    OutboxMessage,
    Referral,
    SmsOptOut,
)
from referral_service.schemas.referral import SUPPORT_NEEDS
from referral_service.validation import is_mobile_e164

DAILY_CAP = 3
# Words that must never reach an applicant's phone or inbox: someone else may read it.
REVEALING = re.compile(
    r"\b(homeless\w*|evict\w*|abus\w*|domestic|violen\w*|marac|mappa|refuge|prison|"
    r"probation|offend\w*|licence|hospital|discharg\w*|mental|rough sleep\w*|"
    r"section 21|arrears|" + "|".join(re.escape(n.replace("_", " ")) for n in SUPPORT_NEEDS)
    + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str | None = None
    not_before: datetime | None = None


def applicant_address(referral: Referral, channel: Channel) -> tuple[str | None, str | None]:
    """(address, None) when the route is safe, or (None, why not)."""
    if channel is Channel.SMS:
        if not referral.safe_sms:
            return None, "Text messages are not marked safe for this person."
        if not referral.person_phone or not is_mobile_e164(referral.person_phone):
            return None, "No mobile number to text."
        return referral.person_phone, None
    if not referral.safe_email:
        return None, "Email is not marked safe for this person."
    if not referral.person_email:
        return None, "No email address."
    return referral.person_email, None


def check_applicant_message(referral: Referral, channel: Channel, to: str, body: str,
                            now: datetime) -> Decision:
    if REVEALING.search(body):
        return Decision(False, "The text could reveal the person's circumstances.")
    if channel is Channel.SMS and db.session.get(SmsOptOut, to) is not None:
        return Decision(False, "The person has opted out of text messages (STOP).")
    if sent_today(referral, now) >= DAILY_CAP:
        return Decision(False, f"Daily limit of {DAILY_CAP} messages to this person reached.")
    return Decision(True, not_before=deadlines.next_send_time(now))


# A refusal that another route may not share: an opted-out number may still have a safe email.
ROUTE_SPECIFIC = ("The person has opted out of text messages (STOP).",)


def sent_today(referral: Referral, now: datetime) -> int:
    """Messages to this person (by any of their addresses) created since London midnight,
    suppressed ones aside: the cap is per person, not per phone or inbox."""
    midnight = now.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    addresses = [a for a in (referral.person_phone, referral.person_email) if a]
    if not addresses:
        return 0
    return db.session.scalar(
        select(func.count(OutboxMessage.id))
        .where(OutboxMessage.audience == Audience.APPLICANT)
        .where(OutboxMessage.to_address.in_(addresses))
        .where(OutboxMessage.status != MessageStatus.SUPPRESSED)
        .where(OutboxMessage.created_at >= midnight)
    ) or 0
