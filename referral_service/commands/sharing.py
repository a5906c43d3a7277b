"""``referrals share …``: see a case's MARAC/MAPPA shares, and revoke one at once (for example
when a panel's system is compromised out of hours)."""
from __future__ import annotations

import uuid

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from referral_service import clock
from referral_service.commands.common import CommandRefused, emit, json_option, refusals
from referral_service.domain import panels, sharing
from referral_service.extensions import db
from referral_service.models import CaseShare, Referral, User


def share_json(found: CaseShare) -> dict[str, object]:
    return {"id": str(found.id), "referral": found.referral.reference,
            "panel": found.panel.name, "panel_type": found.panel.type.value,
            "state": found.state, "lawful_basis": found.lawful_basis,
            "lawful_basis_title": panels.basis_title(found.lawful_basis),
            "next_meeting_on": found.next_meeting_on.isoformat(),
            "expires_at": found.expires_at.isoformat(), "shared_by": found.shared_by.email,
            "shared_at": found.shared_at.isoformat(),
            "revoked_at": found.revoked_at.isoformat() if found.revoked_at else None,
            "revoked_by": found.revoked_by.email if found.revoked_by else None}


def _referral(reference: str) -> Referral:
    found = db.session.scalar(select(Referral).where(
        Referral.reference == reference.strip().upper()))
    if found is None:
        raise CommandRefused(f"No referral has the reference '{reference}'.")
    return found


@click.group("share", help="MARAC and MAPPA shares of a case.")
def share_group() -> None:
    pass


@share_group.command("list")
@click.option("--referral", "reference", required=True, help="The reference, e.g. DTR-7K3M9Q.")
@json_option
@with_appcontext
@refusals
def share_list(reference: str, as_json: bool) -> None:
    found = sharing.shares_for(_referral(reference))
    lines = [f"{s.id}  {s.state:8} {s.panel.name} until {clock.long_date(sharing.last_day(s))}"
             for s in found]
    emit(as_json, {"items": [share_json(s) for s in found]},
         "\n".join(lines) if lines else f"{reference} has not been shared with a panel.")


@share_group.command("revoke")
@click.option("--share", "share_id", required=True, help="The share's id (see share list).")
@click.option("--by", "by_email", required=True,
              help="Email of the officer or team leader revoking it.")
@click.option("--reason", help="Why, for the record (up to 500 characters).")
@json_option
@with_appcontext
@refusals
def share_revoke(share_id: str, by_email: str, reason: str | None, as_json: bool) -> None:
    by = db.session.scalar(select(User).where(func.lower(User.email) == by_email.strip().lower()))
    if by is None:
        raise CommandRefused(f"No user has the email '{by_email}'.")
    try:
        found = db.session.get(CaseShare, uuid.UUID(share_id))
    except ValueError:
        found = None
    if found is None:
        raise CommandRefused(f"No share has the id '{share_id}'.")
    already = found.revoked_at is not None
    sharing.revoke(found, by=by, reason=reason)
    db.session.commit()
    emit(as_json, {**share_json(found), "already_revoked": already},
         ("Already revoked: " if already else "Revoked: ")
         + f"{found.referral.reference} is no longer shared with {found.panel.name}.")


def register(group: click.Group) -> None:
    group.add_command(share_group)
