"""Council staff's side of MARAC and MAPPA sharing: flag a case, share it with a panel on a lawful
basis until an expiry, revoke the share at once, and see it all on the case's timeline.

What a panel may then see is ``redaction.py``; how panels read (and every read is recorded) is
``panel_access.py``. Each operation checks who is acting, audits, and flushes; the caller commits.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from referral_service import clock
from referral_service.domain import audit, consent, panels
from referral_service.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from referral_service.domain.staff_entry import StaffEntry
from referral_service.extensions import db
from referral_service.models import (
    CaseShare,
    Organisation,
    OrganisationType,
    PanelAction,
    Referral,
    Role,
    User,
)
from referral_service.models.enums import PANEL_TYPES

PURPOSE_MAX = 1000
REVOCATION_REASON_MAX = 500


def require_staff(user: User, referral: Referral) -> None:
    """Officers and team leaders of the referral's own authority share and revoke."""
    if user.role not in {Role.OFFICER, Role.TEAM_LEADER} or not user.active:
        raise PermissionDenied("Only the housing authority's officers and team leaders can "
                               "share cases with a panel.")
    if user.authority_id != referral.authority_id:
        raise PermissionDenied("This referral belongs to another housing authority.")


def is_flagged_for(referral: Referral, panel_type: OrganisationType) -> bool:
    if panel_type is OrganisationType.MARAC:
        return bool(referral.risk_marac)
    if panel_type is OrganisationType.MAPPA:
        return referral.risk_mappa_level is not None
    return False


def end_of_day(day: date) -> datetime:
    """A share "until" a day lasts to the end of that day in England (midnight, London)."""
    return clock.london_to_utc(day + timedelta(days=1))


def default_expiry(next_meeting_on: date) -> date:
    return next_meeting_on + panels.DEFAULT_AFTER_MEETING


# --- flags ------------------------------------------------------------------------------------

def set_flags(referral: Referral, *, by: User, marac: bool, mappa_level: int | None,
              mappa_category: int | None, ip_address: str | None = None) -> bool:
    """Set the case's MARAC flag and MAPPA level and category; True if anything changed.

    A flag cannot be taken off while the case is shared with that kind of panel: revoke first,
    so that no panel keeps a case the council no longer says belongs to it.
    """
    require_staff(by, referral)
    errors: dict[str, list[str]] = {}
    if mappa_level is not None and mappa_level not in (1, 2, 3):
        errors["mappa_level"] = ["MAPPA level is 1, 2 or 3."]
    if mappa_category is not None and mappa_category not in (1, 2, 3, 4):
        errors["mappa_category"] = ["MAPPA category is 1, 2, 3 or 4."]
    if (mappa_level is None) != (mappa_category is None) and not errors:
        missing = "mappa_category" if mappa_category is None else "mappa_level"
        errors[missing] = ["A MAPPA case has both a level (1 to 3) and a category (1 to 4): "
                           "give both, or neither to remove the MAPPA flag."]
    live = {share.panel.type for share in shares_for(referral) if share.is_live()}
    if not marac and OrganisationType.MARAC in live:
        errors["marac"] = ["This case is shared with a MARAC: revoke the share before removing "
                           "the MARAC flag."]
    if mappa_level is None and OrganisationType.MAPPA in live and "mappa_level" not in errors:
        errors["mappa_level"] = ["This case is shared with a MAPPA panel: revoke the share "
                                 "before removing the MAPPA flag."]
    if errors:
        raise ValidationFailed(errors)
    before = {"marac": referral.risk_marac, "mappa_level": referral.risk_mappa_level,
              "mappa_category": referral.risk_mappa_category}
    after = {"marac": bool(marac), "mappa_level": mappa_level, "mappa_category": mappa_category}
    if before == after:
        return False
    referral.risk_marac = bool(marac)
    referral.risk_mappa_level = mappa_level
    referral.risk_mappa_category = mappa_category
    audit.record(audit.Actor.for_user(by, ip_address), "referral.panel_flags_changed",
                 subject_type="referral", subject_id=referral.id, referral=referral,
                 before=before, after=after)
    db.session.flush()
    return True


# --- sharing ----------------------------------------------------------------------------------

def panel_organisations() -> list[Organisation]:
    return list(db.session.scalars(
        select(Organisation).where(Organisation.type.in_(sorted(PANEL_TYPES)))
        .order_by(Organisation.name)))


def _panel(panel_id: object, errors: dict[str, list[str]]) -> Organisation | None:
    try:
        key = panel_id if isinstance(panel_id, uuid.UUID) else uuid.UUID(str(panel_id))
    except (ValueError, TypeError, AttributeError):
        key = None
    panel = db.session.get(Organisation, key) if key else None
    if panel is None or not panel.type.is_panel:
        errors["panel"] = ["Choose the MARAC or MAPPA panel to share this case with."]
        return None
    return panel


def share(referral: Referral, *, by: User, panel_id: object, lawful_basis: str | None,
          purpose: str | None, next_meeting_on: date | None, expires_on: date | None = None,
          ip_address: str | None = None) -> CaseShare:
    """Share the case with a panel until the end of ``expires_on`` (default: 30 days after the
    next meeting), for a stated purpose on a lawful basis from the panel type's list."""
    require_staff(by, referral)
    if not consent.sharing_allowed(referral):
        raise Conflict("The person withdrew consent to sharing this case: it cannot be shared "
                       "with a panel.")
    errors: dict[str, list[str]] = {}
    panel = _panel(panel_id, errors)
    today = clock.today_in_london()
    latest = today + panels.LONGEST_SHARE
    if panel is not None:
        name = panels.PANEL_NAMES[panel.type]
        if not is_flagged_for(referral, panel.type):
            errors["panel"] = [f"Flag the case for {name} before sharing it with a {name} panel."
                               if panel.type is OrganisationType.MARAC else
                               f"Give the case's MAPPA level and category before sharing it "
                               f"with a {name} panel."]
        codes = [basis.code for basis in panels.bases_for(panel.type)]
        if lawful_basis not in codes:
            errors["lawful_basis"] = [f"Choose the lawful basis for sharing with {name}."]
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = ["Say why the panel needs this case, for example "
                             "'Discussion at the January MARAC'."]
    elif len(purpose) > PURPOSE_MAX:
        errors["purpose"] = [f"Keep the purpose to {PURPOSE_MAX} characters or fewer."]
    if next_meeting_on is None:
        errors["next_meeting_on"] = ["Enter the date of the panel's next meeting."]
    elif next_meeting_on < today:
        errors["next_meeting_on"] = ["The next meeting date must be today or in the future."]
    elif next_meeting_on > latest:
        errors["next_meeting_on"] = ["The next meeting must be within a year."]
    if expires_on is None and next_meeting_on is not None:
        expires_on = default_expiry(next_meeting_on)
    if expires_on is not None and "next_meeting_on" not in errors:
        if expires_on < today:
            errors["expires_on"] = ["The expiry date must be today or in the future."]
        elif expires_on > latest:
            errors["expires_on"] = [f"A share can last at most a year: choose "
                                    f"{clock.long_date(latest)} or earlier."]
        elif next_meeting_on is not None and expires_on < next_meeting_on:
            errors["expires_on"] = ["The share must last at least until the next meeting."]
    if not errors and panel is not None:
        current = next((s for s in shares_for(referral)
                        if s.panel_organisation_id == panel.id and s.is_live()), None)
        if current is not None:
            raise Conflict(f"This case is already shared with {panel.name} until "
                           f"{clock.long_date(last_day(current))}. Revoke that share first "
                           "to change its terms.")
    if errors:
        raise ValidationFailed(errors)
    assert panel is not None and expires_on is not None and next_meeting_on is not None
    made = CaseShare(referral=referral, panel=panel, lawful_basis=lawful_basis,
                     purpose=purpose, next_meeting_on=next_meeting_on,
                     expires_at=end_of_day(expires_on), shared_by=by, shared_at=clock.now())
    db.session.add(made)
    db.session.flush()
    audit.record(audit.Actor.for_user(by, ip_address), "case.shared", subject_type="case_share",
                 subject_id=made.id, referral=referral, panel=str(panel.id),
                 panel_type=panel.type.value, lawful_basis=lawful_basis,
                 next_meeting_on=next_meeting_on, expires_at=made.expires_at)
    return made


def find_share(share_id: object, referral: Referral) -> CaseShare:
    try:
        key = share_id if isinstance(share_id, uuid.UUID) else uuid.UUID(str(share_id))
    except (ValueError, TypeError, AttributeError):
        key = None
    found = db.session.get(CaseShare, key) if key else None
    if found is None or found.referral_id != referral.id:
        raise NotFound("This case has no share with that id.")
    return found


def revoke(found: CaseShare, *, by: User, reason: str | None = None,
           ip_address: str | None = None) -> CaseShare:
    """End the share now: the panel's next read is refused. Revoking twice changes nothing."""
    require_staff(by, found.referral)
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > REVOCATION_REASON_MAX:
        raise ValidationFailed({"reason": [
            f"Keep the reason to {REVOCATION_REASON_MAX} characters or fewer."]})
    if found.revoked_at is not None:
        return found
    was = found.state
    found.revoked_at = clock.now()
    found.revoked_by = by
    found.revocation_reason = reason
    audit.record(audit.Actor.for_user(by, ip_address), "case.share_revoked",
                 subject_type="case_share", subject_id=found.id, referral=found.referral,
                 panel=str(found.panel_organisation_id), from_status=was, to_status="revoked")
    db.session.flush()
    return found


def shares_for(referral: Referral) -> list[CaseShare]:
    """Every share the case has had, newest first."""
    return list(db.session.scalars(
        select(CaseShare).where(CaseShare.referral_id == referral.id)
        .order_by(CaseShare.shared_at.desc(), CaseShare.id)))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(clock.LONDON)


def last_day(found: CaseShare) -> date:
    """The last day the share is live (it ends at the midnight after it)."""
    return (_local(found.expires_at) - timedelta(microseconds=1)).date()


# --- the officer's timeline ---------------------------------------------------------------------

def staff_timeline(referral: Referral) -> list[Any]:
    """Shares, revocations and panel actions, for ``timeline.for_staff`` (never the referrer's)."""
    entries: list[StaffEntry] = []
    for found in shares_for(referral):
        entries.append(StaffEntry(
            found.shared_at, "case_shared",
            f"Shared with {found.panel.name} until {clock.long_date(last_day(found))}",
            panels.basis_title(found.lawful_basis)))
        if found.revoked_at is not None:
            entries.append(StaffEntry(found.revoked_at, "case_share_revoked",
                                      f"Share with {found.panel.name} revoked",
                                      found.revocation_reason))
    for action in db.session.scalars(
            select(PanelAction).where(PanelAction.referral_id == referral.id)):
        entries.append(StaffEntry(
            action.created_at, "panel_action",
            f"Action from {action.share.panel.name} ({action.author.name})", action.text))
    return entries


# --- the authority's MARAC and MAPPA cases --------------------------------------------------

FLAGGED_LIST_LIMIT = 200


def flagged_cases(authority_id: uuid.UUID) -> list[tuple[Referral, list[CaseShare]]]:
    """The authority's MARAC- or MAPPA-flagged cases, newest first, each with its live shares."""
    referrals = list(db.session.scalars(
        select(Referral).where(Referral.authority_id == authority_id,
                               Referral.risk_marac.is_(True)
                               | Referral.risk_mappa_level.is_not(None))
        .order_by(Referral.received_at.desc(), Referral.id).limit(FLAGGED_LIST_LIMIT)))
    live: dict[uuid.UUID, list[CaseShare]] = {r.id: [] for r in referrals}
    if referrals:
        for found in db.session.scalars(
                select(CaseShare).where(CaseShare.referral_id.in_(list(live)),
                                        CaseShare.revoked_at.is_(None),
                                        CaseShare.expires_at > clock.now())
                .order_by(CaseShare.shared_at)):
            live[found.referral_id].append(found)
    return [(r, live[r.id]) for r in referrals]
