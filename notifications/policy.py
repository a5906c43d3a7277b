"""The safety rules for messages to applicants, enforced in one place.

- Only by a route the person consented to and has not withdrawn (models/consent.py).
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

from sqlalchemy import Select, bindparam, func, literal_column, select

from notifications import quiet_hours
from referral_service.clock import LONDON
from referral_service.extensions import db
from referral_service.models import (
    Audience,
    Channel,
    MessageStatus,
    OutboxMessage,
    Referral,
    SmsOptOut,
)
from referral_service.models.consent import REFUSALS, ConsentScope, consented_to
from referral_service.models.enums import SUPPORT_NEEDS
from referral_service.models.types import UTCDateTime
from referral_service.validation import is_mobile_e164

DAILY_CAP = 3
# Words that must never reach an applicant's phone or inbox: someone else may read it.
REVEALING = re.compile(
    r"\b(homeless\w*|evict\w*|abus\w*|domestic|violen\w*|marac|mappa|refuge|prison|"
    r"probation|offend\w*|licence|hospital|discharg\w*|mental|rough sleep\w*|"
    r"section 21|arrears|" + "|".join(re.escape(n.replace("_", " ")) for n in SUPPORT_NEEDS)
    # The same in Welsh, with the mutated forms a sentence puts them in ("yn ddigartref").
    + r"|[dn]?dd?igartref\w*|ngh?artref|[cg]?h?am-?drin|[td]?h?rais|[cg]?h?arch?ar\w*|"
    r"ngharchar\w*|[h]?ysbyty|lloches|prawf|rhyddhau|ryddhau|iechyd meddwl|"
    r"[oô]l-ddyledion|cysgu allan|troi allan"
    + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Decision:
    send: bool
    reason: str | None = None
    not_before: datetime | None = None


def applicant_address(referral: Referral, channel: Channel) -> tuple[str | None, str | None]:
    """(address, None) when the route is safe and consented to, or (None, why not)."""
    if not consented_to(referral, ConsentScope.REFERRAL):
        return None, REFUSALS[ConsentScope.REFERRAL]
    scope = ConsentScope.TEXTS if channel is Channel.SMS else ConsentScope.EMAIL
    if not consented_to(referral, scope):
        return None, REFUSALS[scope]
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


@dataclass(frozen=True)
class ApplicantFacts:
    """What the safety checks need from the database about one applicant, read at once."""

    phone_opted_out: bool  # the person's phone number texted STOP
    sent_today: int


def check_applicant_message(referral: Referral, channel: Channel, to: str, body: str,
                            now: datetime, facts: ApplicantFacts | None = None) -> Decision:
    """``facts`` from ``applicant_facts`` saves the look-ups (one query, not two per route)."""
    if REVEALING.search(body):
        return Decision(False, "The text could reveal the person's circumstances.")
    if facts is None or (channel is Channel.SMS and to != referral.person_phone):
        facts = applicant_facts(referral, now, phone=to if channel is Channel.SMS else None)
    if channel is Channel.SMS and facts.phone_opted_out:
        return Decision(False, "The person has opted out of text messages (STOP).")
    if facts.sent_today >= DAILY_CAP:
        return Decision(False, f"Daily limit of {DAILY_CAP} messages to this person reached.")
    return Decision(True, not_before=quiet_hours.next_send_time(now))


# A refusal that another route may not share: an opted-out number may still have a safe email.
ROUTE_SPECIFIC = ("The person has opted out of text messages (STOP).",)


def _facts_statement() -> Select[bool, int]:
    opted_out = select(SmsOptOut.phone).where(SmsOptOut.phone == bindparam("phone")).exists()
    # Messages to this person (by any of their addresses) created since London midnight,
    # suppressed ones aside: the cap is per person, not per phone or inbox. An absent address
    # is bound as NULL, which matches nothing.
    sent = (
        select(func.count())
        .select_from(OutboxMessage)
        # A constant in the SQL, not a bound value: a generic plan (what a prepared statement
        # runs after its fifth use) can then use the partial index on applicant messages.
        .where(OutboxMessage.audience == literal_column(f"'{Audience.APPLICANT.value}'"))
        .where(OutboxMessage.to_address.in_([bindparam("phone_address"), bindparam("email")]))
        .where(OutboxMessage.status != MessageStatus.SUPPRESSED)
        .where(OutboxMessage.created_at >= bindparam("midnight", type_=UTCDateTime))
        .scalar_subquery()
    )
    return select(opted_out, sent)


# Built once, values bound: it runs for every referral received.
_FACTS = _facts_statement()


def applicant_facts(referral: Referral, now: datetime, *,
                    phone: str | None = None) -> ApplicantFacts:
    """Whether ``phone`` (default: the person's phone) opted out, and how many messages the
    person has had today: one query."""
    midnight = now.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    row = db.session.execute(_FACTS, {
        "phone": phone or referral.person_phone, "phone_address": referral.person_phone,
        "email": referral.person_email, "midnight": midnight}).one()
    return ApplicantFacts(phone_opted_out=bool(row[0]), sent_today=int(row[1] or 0))


def sent_today(referral: Referral, now: datetime) -> int:
    """Messages to this person created since London midnight (see ``applicant_facts``)."""
    return applicant_facts(referral, now).sent_today
