"""What the receiving council sees of a referral's time at the council that transferred it.

The person's history goes with them (Code of Guidance: no one should have to tell their story
twice), but not the other council's officers' private notes: contact attempts' notes are left
out, and so are MARAC/MAPPA shares and panel actions (shared under that council's own lawful
basis, never with another). Each look is audited on the earlier referral, so the council that
held it can see who read its record.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from referral_service.domain import audit, timeline
from referral_service.domain.staff_entry import StaffEntry
from referral_service.models import Referral

# Entries kept from the other council's staff timeline only without their detail (the note).
_PRIVATE_DETAIL = frozenset({"contact_attempt"})
# Entries never shown to another council.
_NOT_SHARED = frozenset({"case_shared", "case_share_revoked", "panel_action"})


@dataclass(frozen=True)
class EarlierTimeline:
    authority_name: str
    reference: str
    entries: list[StaffEntry]


def for_receiving_council(referral: Referral, viewer: audit.Actor) -> EarlierTimeline | None:
    """The earlier referral's timeline, newest first, for a referral made by transfer (None for
    any other); records that ``viewer`` read it."""
    earlier = referral.transferred_from
    if earlier is None:
        return None
    entries = shared_entries(earlier)
    audit.record(viewer, "referral.earlier_timeline_viewed", subject_type="referral",
                 subject_id=earlier.id, referral=earlier, viewed_from=referral.reference)
    return EarlierTimeline(earlier.authority.name, earlier.reference, list(reversed(entries)))


def shared_entries(earlier: Referral) -> list[StaffEntry]:
    """The staff timeline, oldest first, as another council may see it (also a council not on
    the service, through its transfer link: ``domain.external_transfers``)."""
    return [
        replace(entry, detail=None) if entry.type in _PRIVATE_DETAIL else entry
        for entry in timeline.for_staff(earlier) if entry.type not in _NOT_SHARED
    ]
