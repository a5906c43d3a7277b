"""Supporting documents sent with a referral: the record of each one. The bytes live outside
the database, in the document store (``documents/storage.py``), under ``storage_key``."""
from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.referral import Referral
from referral_service.models.types import UTCDateTime, new_uuid


class ScanStatus(StrEnum):
    """What the virus scanner said. An infected file is refused and never kept, so it has no
    status here."""

    NOT_SCANNED = "not_scanned"  # no scanner is configured (CLAMD_SOCKET unset)
    SCAN_FAILED = "scan_failed"  # a scanner is configured but did not answer in time
    CLEAN = "clean"


class ReferralDocument(Model):
    __tablename__ = "referral_documents"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    referral_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("referrals.id"))
    # A random name in the store: never the uploaded name, which is kept for display only.
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    media_type: Mapped[str] = mapped_column(sa.String(100))  # found from the content
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_by_client_id: Mapped[str | None] = mapped_column(sa.String(64))
    uploaded_by_label: Mapped[str] = mapped_column(sa.String(254))
    # "referrer" or "council": whose side sent it, as the other side sees it.
    uploaded_by_side: Mapped[str] = mapped_column(sa.String(10))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    scan_status: Mapped[str] = mapped_column(sa.String(12))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    referral: Mapped[Referral] = relationship()

    __table_args__ = (
        sa.CheckConstraint("uploaded_by_side IN ('referrer', 'council')",
                           name="uploaded_by_side"),
        sa.CheckConstraint("scan_status IN ('not_scanned', 'scan_failed', 'clean')",
                           name="scan_status"),
        sa.Index("ix_referral_documents_referral_uploaded", "referral_id", "uploaded_at"),
    )

    @property
    def scan(self) -> ScanStatus:
        return ScanStatus(self.scan_status)
