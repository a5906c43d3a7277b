"""One line of the officers' timeline of a referral: its own module because the timeline
(``domain.timeline``) and the sharing rules (``domain.sharing``, which adds shares and panel
actions to it) both build them, and the timeline imports the sharing rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StaffEntry:
    at: datetime
    type: str
    description: str
    detail: str | None = None
