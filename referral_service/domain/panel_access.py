"""Panels reading the cases shared with them, and the record of every such read.

A panel lead (web) or a panel's API client sees only cases shared with its own panel, only while
the share is live, and only its panel type's fields (``redaction.py``). Every list, view and
export writes exactly one access record, and so does every refused read (expired, revoked, not
shared, shared with another panel, no such case), so "who has seen this case" is complete.

Refusals raise :class:`CaseNotShared` after adding their record: the caller keeps it although
its response is a 404 (``unit_of_work.commit_refusal()``), so the refusal is on the record.
"""
from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from referral_service import clock
from referral_service.domain import audit, redaction, sharing
from referral_service.domain.errors import NotFound, PermissionDenied, ValidationFailed
from referral_service.domain.reports.export import safe_cell
from referral_service.extensions import db
from referral_service.models import (
    AccessAction,
    CaseAccessRecord,
    CaseShare,
    OAuthClient,
    Organisation,
    OrganisationType,
    PanelAction,
    Referral,
    Role,
    User,
)
from referral_service.validation import without_control_characters

ACTION_MAX = 2000
USER_AGENT_MAX = 300
NOT_SHARED = "No case with that id is shared with your panel."


class CaseNotShared(NotFound):
    """Uniform to the reader (404), whatever the reason; the reason is in the access record."""


@dataclass(frozen=True)
class Viewer:
    """A panel lead or a panel's API client, with where the request came from."""

    organisation: Organisation
    actor: audit.Actor
    channel: str
    user: User | None = None
    user_agent: str | None = None

    @property
    def panel_type(self) -> OrganisationType:
        return self.organisation.type

    @classmethod
    def panel_lead(cls, user: User, *, ip_address: str | None = None,
                   user_agent: str | None = None) -> Viewer:
        organisation = user.organisation
        if (user.role is not Role.PANEL_LEAD or not user.active or organisation is None
                or not organisation.type.is_panel):
            raise PermissionDenied("Only MARAC and MAPPA panel leads see shared cases.")
        return cls(organisation, audit.Actor.for_user(user, ip_address), "web", user,
                   _clip(user_agent))

    @classmethod
    def panel_client(cls, client: OAuthClient, *, ip_address: str | None = None,
                     user_agent: str | None = None) -> Viewer:
        if not client.organisation.type.is_panel:
            raise PermissionDenied("Only MARAC and MAPPA panel systems read shared cases.")
        return cls(client.organisation, audit.Actor.for_client(client.client_id, ip_address),
                   "api", None, _clip(user_agent))


@dataclass(frozen=True)
class SharedCase:
    share: CaseShare
    referral: Referral
    document: dict[str, Any]
    actions: list[PanelAction] = field(default_factory=list)

    @property
    def panel_type(self) -> OrganisationType:
        return self.share.panel.type


def _clip(user_agent: str | None) -> str | None:
    # Control characters dropped: a NUL cannot be stored on PostgreSQL (the read was a 500).
    return without_control_characters(user_agent or "")[:USER_AGENT_MAX] or None


def _record(viewer: Viewer, action: AccessAction, **columns: Any) -> CaseAccessRecord:
    entry = CaseAccessRecord(
        occurred_at=clock.now(), actor_type=viewer.actor.type, user_id=viewer.actor.user_id,
        client_id=viewer.actor.client_id, actor_label=viewer.actor.label,
        organisation_id=viewer.organisation.id, action=action, channel=viewer.channel,
        ip_address=viewer.actor.ip_address, user_agent=viewer.user_agent, **columns)
    db.session.add(entry)
    return entry


def live_shares(organisation: Organisation) -> list[CaseShare]:
    # The list shows each share's case and who shared it: loaded in two more queries, not
    # two per case (a panel may have dozens of live cases).
    return list(db.session.scalars(
        select(CaseShare).where(CaseShare.panel_organisation_id == organisation.id,
                                CaseShare.revoked_at.is_(None),
                                CaseShare.expires_at > clock.now())
        .options(selectinload(CaseShare.referral), selectinload(CaseShare.shared_by))
        .order_by(CaseShare.next_meeting_on, CaseShare.shared_at, CaseShare.id)))


def list_cases(viewer: Viewer) -> list[SharedCase]:
    """The cases live-shared with the viewer's panel, soonest meeting first, each with only the
    list's fields; one access record names them all."""
    found = [SharedCase(s, s.referral, redaction.redact(s.referral, viewer.panel_type,
                                                        only=redaction.LIST_FIELDS))
             for s in live_shares(viewer.organisation)]
    _record(viewer, AccessAction.LIST,
            listed_referral_ids=[str(case.referral.id) for case in found])
    db.session.flush()
    return found


def _refusal(viewer: Viewer, referral: Referral | None) -> tuple[str, CaseShare | None]:
    if referral is None:
        return "not_found", None
    shares = sharing.shares_for(referral)
    own = [s for s in shares if s.panel_organisation_id == viewer.organisation.id]
    if own:
        return ("revoked" if own[0].revoked_at is not None else "expired"), own[0]
    if any(s.is_live() for s in shares):
        return "other_panel", None
    return "not_shared", None


def _live_share(viewer: Viewer, referral_id: object) -> tuple[CaseShare, Referral]:
    """The viewer's live share of the case, or a refusal recorded and raised."""
    try:
        key = referral_id if isinstance(referral_id, uuid.UUID) else uuid.UUID(str(referral_id))
    except (ValueError, TypeError, AttributeError):
        key = None
    referral = db.session.get(Referral, key) if key else None
    if referral is not None:
        now = clock.now()
        for candidate in sharing.shares_for(referral):
            if (candidate.panel_organisation_id == viewer.organisation.id
                    and candidate.is_live(now)):
                return candidate, referral
    reason, share = _refusal(viewer, referral)
    _record(viewer, AccessAction.REFUSED, refusal=reason,
            referral_id=referral.id if referral else None, share_id=share.id if share else None,
            requested_id=str(referral_id)[:64])
    db.session.flush()
    raise CaseNotShared(NOT_SHARED)


def actions_for(viewer_org: Organisation, referral: Referral) -> list[PanelAction]:
    """The actions this panel added to the case (never another panel's), oldest first."""
    return list(db.session.scalars(
        select(PanelAction).join(CaseShare, PanelAction.share_id == CaseShare.id)
        .where(PanelAction.referral_id == referral.id,
               CaseShare.panel_organisation_id == viewer_org.id)
        .order_by(PanelAction.created_at, PanelAction.id)))


def read_case(viewer: Viewer, referral_id: object) -> SharedCase:
    """One case as the viewer's panel may see it; one access record, view or refused."""
    share, referral = _live_share(viewer, referral_id)
    _record(viewer, AccessAction.VIEW, referral_id=referral.id, share_id=share.id)
    db.session.flush()
    return SharedCase(share, referral, redaction.redact(referral, viewer.panel_type),
                      actions_for(viewer.organisation, referral))


def add_action(viewer: Viewer, referral_id: object, text: str | None) -> PanelAction:
    """A panel lead notes an action on a live-shared case; the housing officer sees it."""
    if viewer.user is None:
        raise PermissionDenied("Panel actions are added by a panel lead, signed in.")
    # The share first: a refused attempt is recorded even when the text is wrong too.
    share, referral = _live_share(viewer, referral_id)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": ["Write the action or note for the housing officer."]})
    if len(text) > ACTION_MAX:
        raise ValidationFailed({"text": [f"Keep it to {ACTION_MAX} characters or fewer."]})
    action = PanelAction(share=share, referral_id=referral.id, author=viewer.user, text=text,
                         created_at=clock.now())
    db.session.add(action)
    db.session.flush()
    audit.record(viewer.actor, "panel_action.added", subject_type="panel_action",
                 subject_id=action.id, referral=referral, share=str(share.id),
                 panel=str(viewer.organisation.id))
    return action


# --- the housing officer's view of the accesses ---------------------------------------------

# A list read just before a revocation can be recorded just after it (the revoke's clock is
# read before it commits): a list's window runs this long past the share's end.
LIST_SLACK = timedelta(hours=1)


def _listed_while_live(share: CaseShare) -> sa.ColumnElement[bool]:
    """The panel's lists made while this share was live: only those can have shown the case.
    (organisation, occurred_at) is indexed, so this reads those lists and no others."""
    ended = share.expires_at if share.revoked_at is None else min(share.revoked_at,
                                                                   share.expires_at)
    record = CaseAccessRecord
    return and_(record.organisation_id == share.panel_organisation_id,
                record.occurred_at >= share.shared_at, record.occurred_at < ended + LIST_SLACK)


def access_log(referral: Referral, *, by: User) -> list[CaseAccessRecord]:
    """Every recorded access to this case, newest first: its views, refusals and exports, and
    the panel lists it appeared in."""
    sharing.require_staff(by, referral)
    condition = CaseAccessRecord.referral_id == referral.id
    windows = [_listed_while_live(s) for s in sharing.shares_for(referral)]
    if windows:
        condition = or_(condition, and_(CaseAccessRecord.action == AccessAction.LIST,
                                        or_(*windows)))
    wanted = str(referral.id)
    return [entry for entry in db.session.scalars(
        select(CaseAccessRecord).where(condition)
        .order_by(CaseAccessRecord.occurred_at.desc(), CaseAccessRecord.id))
        if entry.action is not AccessAction.LIST or wanted in (entry.listed_referral_ids or [])]


CSV_COLUMNS = ("occurred_at", "who", "actor_type", "organisation", "channel", "action",
               "refusal", "case_reference", "share_id", "ip_address", "user_agent")


def export_access_log(referral: Referral, *, by: User, ip_address: str | None = None,
                      user_agent: str | None = None) -> str:
    """The case's access log as CSV, for a team leader; the export is itself recorded."""
    if by.role is not Role.TEAM_LEADER:
        raise PermissionDenied("Only a team leader can export a case's access log.")
    entries = access_log(referral, by=by)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        # A user agent is whatever the caller sent: no cell may run as a formula.
        writer.writerow([safe_cell(v) for v in (
            _iso(entry.occurred_at), entry.actor_label, entry.actor_type.value,
            entry.organisation.name if entry.organisation else "", entry.channel,
            entry.action.value, entry.refusal, referral.reference, entry.share_id,
            entry.ip_address, entry.user_agent)])
    actor = audit.Actor.for_user(by, ip_address)
    db.session.add(CaseAccessRecord(
        occurred_at=clock.now(), actor_type=actor.type, user_id=by.id, actor_label=actor.label,
        organisation_id=None, action=AccessAction.EXPORT, channel="web",
        referral_id=referral.id, ip_address=ip_address, user_agent=_clip(user_agent)))
    audit.record(actor, "case_access_log.exported", subject_type="referral",
                 subject_id=referral.id, referral=referral, rows=len(entries))
    db.session.flush()
    return out.getvalue()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
