"""A referral being written on the web form, kept between its question pages.

Answers are kept here, server-side, rather than in the session cookie: a signed cookie is
readable by anyone holding it (signed, not encrypted), would carry personal data about the
browser's history, and is limited to 4 KB (a reason alone may be 5,000 characters). One draft per
referrer: signing in again after a session ends resumes it, so no timeout loses what was typed
(WCAG 2.2, 2.2.5 Re-authenticating). Submitting or abandoning the referral deletes the row.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.types import UTCDateTime, json_type, new_uuid


class ReferralDraft(Model):
    __tablename__ = "referral_drafts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    # The answers as typed, keyed by form field name: shown back as entered, loaded by the
    # referral schema only on each page's Continue and on submit.
    answers: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # Question pages the referrer has answered: errors show only on pages already seen.
    answered: Mapped[list[str]] = mapped_column(json_type(), default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Indexed for the scheduler's purge of stale drafts.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
