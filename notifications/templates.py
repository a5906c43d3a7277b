"""Every message the service sends, in one place: plain, short, kind.

Applicant messages never mention why the person was referred, their address, support needs or
risks: someone else may read their phone. Their words are data, per language
(``notifications.applicant_wording``, and a council's own files: ``notifications.languages``);
everything else here is English. A test checks every applicant template against the
words that would give that away.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifications import languages
from notifications.applicant_wording import ENGLISH, DateWords
from referral_service.clock import LONDON

# GSM 03.38: the basic set costs one septet a character, the extension set two. Anything else
# (Welsh "â", "ŵ", "ŷ"; curly quotes; emoji) makes the whole text UCS-2, in UTF-16 code units.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM_SEGMENT = 160
GSM_CONCAT_SEGMENT = 153
UCS2_SEGMENT = 70
UCS2_CONCAT_SEGMENT = 67


@dataclass(frozen=True)
class Text:
    subject: str | None
    body: str


def when(moment: datetime, dates: DateWords = ENGLISH.dates) -> str:
    """'Wed 25 Nov, 5pm' in London time ('Mer 25 Tach, 5yp' with Welsh ``dates``). Written
    from the language's own words, not the system locale, which servers rarely have."""
    local = moment.astimezone(LONDON)
    hour = str(local.hour % 12 or 12)
    minutes = "" if local.minute == 0 else f":{local.minute:02d}"
    half = dates.am if local.hour < 12 else dates.pm
    return (f"{dates.days[local.weekday()]} {local.day} {dates.months[local.month - 1]}, "
            f"{hour}{minutes}{half}")


def is_gsm7(body: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in body)


def sms_segments(body: str) -> int:
    """How many SMS segments ``body`` takes: GSM-7 (160, or 153 each when joined) if every
    character is in the GSM set, else UCS-2 (70, or 67 each when joined)."""
    if is_gsm7(body):
        length = sum(2 if c in GSM_EXTENSION else 1 for c in body)
        single, joined = GSM_SEGMENT, GSM_CONCAT_SEGMENT
    else:
        length = len(body.encode("utf-16-le")) // 2
        single, joined = UCS2_SEGMENT, UCS2_CONCAT_SEGMENT
    return 1 if length <= single else -(-length // joined)


def first_name(full_name: str) -> str:
    return full_name.split()[0] if full_name.strip() else full_name


# --- to the applicant, in their language (notifications.applicant_wording) ----------------

def _applicant(template: str, language: str | None, *, council: str, officer: str | None,
               team_phone: str | None, reference: str, due: datetime | None = None) -> Text:
    wording = languages.wording_for(language)
    variant = ("officer" if officer else "team") + ("_phone" if team_phone else "")
    values = {"council": council, "reference": reference,
              "officer": first_name(officer) if officer else None, "team_phone": team_phone,
              "due": when(due, wording.dates) if due else None}
    return Text(None, wording.templates[template][variant].format(**values))


def applicant_received(council: str, officer: str | None, team_phone: str | None,
                       due: datetime, reference: str, language: str | None = None) -> Text:
    return _applicant("applicant_received", language, council=council, officer=officer,
                      team_phone=team_phone, reference=reference, due=due)


def applicant_officer_changed(council: str, officer: str, team_phone: str | None,
                              reference: str, language: str | None = None) -> Text:
    return _applicant("applicant_officer_changed", language, council=council, officer=officer,
                      team_phone=team_phone, reference=reference)


def applicant_contact_failed(council: str, officer: str | None, team_phone: str | None,
                             reference: str, language: str | None = None) -> Text:
    return _applicant("applicant_contact_failed", language, council=council, officer=officer,
                      team_phone=team_phone, reference=reference)


def applicant_release_day(council: str, officer: str | None, team_phone: str | None,
                          reference: str, language: str | None = None) -> Text:
    """The morning of the release or discharge date, never saying so: who can help today."""
    return _applicant("applicant_release_day", language, council=council, officer=officer,
                      team_phone=team_phone, reference=reference)


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


def team_arrival(reference: str, due: datetime, link: str) -> Text:
    """An urgent referral in the team queue, to the team mailbox: the reference and a link,
    nothing about the person (a shared mailbox)."""
    return Text(f"URGENT: referral {reference} is in the team queue",
                f"Referral {reference} is in the team queue with no officer named. It is "
                f"urgent: first contact is due by {when(due)}.\n\nSign in to claim it:\n{link}")


def team_arrival_digest(arrivals: list[tuple[str, datetime]], link: str) -> Text:
    """Non-urgent arrivals in the team queue since the last digest: references and deadlines."""
    count = len(arrivals)
    lines = "\n".join(f"- {reference}: contact due by {when(due)}" for reference, due in arrivals)
    noun = "referral is" if count == 1 else "referrals are"
    return Text(f"{count} new {noun.split()[0]} in the team queue",
                f"{count} new {noun} in the team queue with no officer named:\n\n{lines}\n\n"
                f"Sign in to claim them:\n{link}")


def new_note(reference: str, link: str) -> Text:
    """A note from the other side: the reference and where to sign in, never the note itself."""
    return Text(f"New note on referral {reference}",
                f"There is a new note on referral {reference}.\n\nSign in to read it:\n{link}")


def escalation_digest(leader: str, items: list[tuple[str, str, str | None, datetime]]) -> Text:
    """Every escalation one scheduler tick found for one team leader, in one email: (kind,
    reference, officer, due) each."""
    lines = []
    for kind, reference, officer, due in items:
        what = "not accepted" if kind == "accept_overdue" else "no contact attempt"
        lines.append(f"- {reference} ({officer or 'the team queue'}): {what}; contact was due "
                     f"by {when(due)}")
    count = len(items)
    needs = "1 referral needs" if count == 1 else f"{count} referrals need"
    return Text(f"Escalation: {needs} attention",
                f"Hello {first_name(leader)},\n\n" + "\n".join(lines))


def password_reset(email: str, link: str) -> Text:
    """``link`` is a placeholder until sending (notifications.one_time_links)."""
    return Text("Reset your password: Duty to Refer referrals",
                f"Someone asked to reset the password for {email}.\n\n"
                f"To choose a new password, open this link within 30 minutes:\n{link}\n\n"
                "The link works once. If you did not ask, ignore this email: your password has "
                "not changed.")


def webhook_failing(host: str) -> Text:
    return Text("Your webhook is failing: Duty to Refer referrals",
                f"For 24 hours your organisation's webhook at {host} has not accepted the "
                "updates we sent it, so we have stopped sending new ones.\n\n"
                "Once it is working, delete the subscription and create it again through the "
                "API; the deliveries it missed are listed there, and every referral can still "
                "be read with GET /api/v1/referrals.")


def external_transfer(from_council: str, to_council: str, reference: str, link: str,
                      expires: datetime) -> Text:
    """To a council not on the service: no personal data in the email, only the link (a
    placeholder until sending: notifications.one_time_links)."""
    return Text(f"Duty to Refer referral transferred to you: {reference}",
                f"Hello {to_council} housing options team,\n\n"
                f"{from_council} Council has transferred a Duty to Refer referral ({reference}) "
                f"to you. The person agreed to be referred to you.\n\n"
                f"See the referral and mark it received here before {when(expires)}:\n{link}\n\n"
                "The link is for your team only: do not forward it. Every visit is recorded. "
                f"If it has expired, ask {from_council} Council to send a new one.")


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
