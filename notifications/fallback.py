"""After a permanent SMS failure: email instead if that route is safe; otherwise tell the
officer the person could not be reached by text."""
from __future__ import annotations

from integrations.ports import OPTED_OUT, PermanentError
from notifications import outbox, policy, templates
from referral_service import clock
from referral_service.extensions import db
from referral_service.models import Audience, Channel, OutboxMessage, SmsOptOut


def after_permanent_failure(message: OutboxMessage, error: PermanentError) -> None:
    referral = message.referral
    if referral is None or message.channel is not Channel.SMS:
        return
    if message.audience is not Audience.APPLICANT:
        return
    if error.kind == OPTED_OUT and db.session.get(SmsOptOut, message.to_address) is None:
        # The provider knows the number opted out (perhaps before we existed): remember it,
        # by the provider's code for it.
        db.session.add(SmsOptOut(phone=message.to_address, keyword=str(error.code or OPTED_OUT),
                                 opted_out_at=clock.now()))
    address, _ = policy.applicant_address(referral, Channel.EMAIL)
    if address is not None:
        outbox.to_applicant(referral, event=message.event, template=message.template,
                            text=templates.Text("A message from your council", message.body),
                            channels=[Channel.EMAIL])
        return
    officer = referral.named_officer
    if officer is not None:
        outbox.to_person(referral, officer, event="sms_unreachable", template="sms_unreachable",
                         audience=Audience.OFFICER, text=templates.officer_reminder(
                             "sms_unreachable", officer.name, referral.reference,
                             referral.contact_due_by))
