"""Messages to applicants, officers, team leaders and referrers: the transactional outbox.

A message row is written in the same transaction as the change that causes it; a worker sends
it later, claiming it with a compare-and-set so that a retry never sends twice.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, enum_column_type, new_uuid


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Audience(StrEnum):
    APPLICANT = "applicant"
    OFFICER = "officer"
    TEAM_LEADER = "team_leader"
    REFERRER = "referrer"


class MessageStatus(StrEnum):
    QUEUED = "queued"          # waiting to be sent (possibly not before a time: quiet hours)
    SENDING = "sending"        # claimed by a worker
    SENT = "sent"              # accepted by the provider
    DELIVERED = "delivered"    # the provider says it arrived
    FAILED = "failed"          # permanently refused, or given up after retries
    SUPPRESSED = "suppressed"  # never sent, on purpose (unsafe route, opted out, daily cap)


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"))
    channel: Mapped[Channel] = mapped_column(enum_column_type(Channel, "message_channel"))
    audience: Mapped[Audience] = mapped_column(enum_column_type(Audience, "message_audience"))
    # What caused it, e.g. "referral_received"; with the template, for the timeline and reports.
    event: Mapped[str] = mapped_column(sa.String(64))
    template: Mapped[str] = mapped_column(sa.String(64))
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str | None] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[MessageStatus] = mapped_column(
        enum_column_type(MessageStatus, "message_status"), default=MessageStatus.QUEUED)
    # Why it was suppressed or failed, in words an officer can act on.
    status_reason: Mapped[str | None] = mapped_column(sa.String(300))
    # Not before this instant: quiet hours defer applicant messages, retries back off.
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Time-sensitive messages lose their point after this (Twilio's validity period).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was last handed to the broker: the scheduler re-enqueues only rows the broker
    # seems to have lost, not every queued row on every tick.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    # Twilio SIDs are 34 characters; an email Message-ID carries our domain: room for both.
    provider_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    provider_status: Mapped[str | None] = mapped_column(sa.String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now,
                                                 onupdate=clock.now)
    # A message that must go at most once ever (e.g. "team_arrival:<referral id>": the team
    # mailbox hears of a referral once): unique, so a second writer's insert fails.
    once_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)

    referral: Mapped[Referral | None] = relationship()

    __table_args__ = (
        # The scheduler's "what is due" query, and the stuck-in-sending sweep.
        sa.Index("ix_outbox_messages_status_not_before", "status", "not_before"),
        sa.Index("ix_outbox_messages_referral_created", "referral_id", "created_at"),
        # Delivery figures per referral cohort (domain/reports), from the index alone.
        sa.Index("ix_outbox_messages_referral_channel_status", "referral_id", "channel",
                 "status"),
        # The applicant daily cap, counted for every referral received (notifications.policy).
        sa.Index("ix_outbox_messages_applicant_to_created", "to_address", "created_at",
                 postgresql_where=sa.text("audience = 'applicant'"),
                 sqlite_where=sa.text("audience = 'applicant'")),
    )


class SmsOptOut(Model):
    """A number that texted STOP: no SMS goes to it until it texts START."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    keyword: Mapped[str] = mapped_column(sa.String(20))


class Reminder(Model):
    """Something that must happen later about a referral: the scheduler finds due rows by an
    indexed query, so losing the broker loses nothing."""

    __tablename__ = "reminders"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    # accept_overdue, deadline_approaching, deadline_missed, release_tomorrow, release_day
    kind: Mapped[str] = mapped_column(sa.String(40))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("referral_id", "kind"),
        sa.Index("ix_reminders_done_due", "done_at", "due_at"),
    )


class InboundSms(Model):
    """A text from a person: a reply lands on their referral's timeline; STOP/START change
    their opt-out. The body is theirs: stored for the officer, never logged."""

    __tablename__ = "inbound_sms"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    provider_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    from_phone: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    # "reply", "opt_out" or "opt_in"
    kind: Mapped[str] = mapped_column(sa.String(10))
    referral_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("referrals.id"),
                                                          index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    referral: Mapped[Referral | None] = relationship()
