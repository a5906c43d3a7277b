"""``referrals user …``: accounts, and officers' absences."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from referral_service.commands.common import CommandRefused, emit, json_option, refusals
from referral_service.commands.org import CLI_ACTOR
from referral_service.domain import admin, casework
from referral_service.extensions import db
from referral_service.models import Authority, Role, User

ABSENCE_REASON_MAX_LENGTH = 100


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").replace(",", " ").split() if part]


def user_json(user: User) -> dict[str, object]:
    return {"id": str(user.id), "email": user.email, "name": user.name, "role": user.role.value,
            "authority": user.authority.code if user.authority else None,
            "organisation": user.organisation.name if user.organisation else None,
            "specialisms": user.specialisms, "patches": user.patches,
            "capacity": user.capacity, "active": user.active,
            "can_sign_in_with_password": user.password_hash is not None}


@click.group("user", help="People who sign in: officers, team leaders, referrers, panel leads.")
def user_group() -> None:
    pass


@user_group.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--authority", "authority_code", help="Authority code (officers, team leaders).")
@click.option("--org", "organisation_name", help="Organisation name (referrers, panel leads).")
@click.option("--specialisms", help="Comma-separated, e.g. offending_history,prison_release.")
@click.option("--patches", help="Postcode areas or districts, e.g. AL7,AL8 or SG.")
@click.option("--capacity", type=int, help="Most open referrals at once (officers; default 25).")
@click.option("--password", help="At least 12 characters. Stored only as an argon2 hash.")
@json_option
@with_appcontext
@refusals
def user_add(email: str, name: str, role: str, authority_code: str | None,
             organisation_name: str | None, specialisms: str | None, patches: str | None,
             capacity: int | None, password: str | None, as_json: bool) -> None:
    result = admin.create_user(
        email=email, name=name, role=role, authority_code=authority_code,
        organisation_name=organisation_name, specialisms=_split(specialisms),
        patches=_split(patches), capacity=capacity, password=password, actor=CLI_ACTOR)
    db.session.commit()
    user = result.record
    verb = "Added" if result.created else "Already set up, unchanged:"
    emit(as_json, {**user_json(user), "created": result.created},
         f"{verb} {user.role.value} {user.email}.")


@user_group.command("list")
@click.option("--authority", "authority_code")
@json_option
@with_appcontext
def user_list(authority_code: str | None, as_json: bool) -> None:
    query = select(User).order_by(User.role, User.email)
    if authority_code:
        query = query.join(Authority, User.authority_id == Authority.id).where(
            Authority.code == authority_code.upper())
    users = db.session.scalars(query).all()
    emit(as_json, {"items": [user_json(u) for u in users]},
         "\n".join(f"{u.role.value:12} {u.email}" for u in users) or "No users yet.")


@user_group.command("absent")
@click.option("--email", required=True, help="The officer's email.")
@click.option("--from", "starts_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "ends_on", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--reason", help="e.g. annual leave, sickness (no medical detail).")
@click.option("--reassign", is_flag=True, help="Route the officer's open referrals again now.")
@json_option
@with_appcontext
@refusals
def user_absent(email: str, starts_on: datetime, ends_on: datetime, reason: str | None,
                reassign: bool, as_json: bool) -> None:
    officer = db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if officer is None:
        raise CommandRefused(f"No user has the email {email}.")
    if reason is not None and len(reason) > ABSENCE_REASON_MAX_LENGTH:
        # officer_absences.reason is VARCHAR(100): refuse clearly rather than let PostgreSQL
        # raise an unhandled DataError (a traceback) or SQLite store more than the column holds.
        raise CommandRefused("Check the values given.", errors={"reason": [
            f"Use at most {ABSENCE_REASON_MAX_LENGTH} characters."]})
    absence, moved = casework.record_absence(
        officer, starts_on=starts_on.date(), ends_on=ends_on.date(), actor=CLI_ACTOR,
        reason=reason, reassign_open=reassign)
    db.session.commit()
    # record_absence returns every open referral it looked at. Accepted work for which no other
    # officer was free stays with this officer (audited as referral.reassignment_needed), so it
    # must not be reported as routed again: it is listed apart, for a team leader to move.
    rerouted = [r for r in moved if r.named_officer_id != officer.id]
    still_held = [r for r in moved if r.named_officer_id == officer.id]
    emit(as_json,
         {"officer": officer.email, "starts_on": absence.starts_on.isoformat(),
          "ends_on": absence.ends_on.isoformat(),
          "rerouted": [r.reference for r in rerouted],
          "needs_reassignment": [r.reference for r in still_held]},
         f"Recorded {officer.email} absent {absence.starts_on} to {absence.ends_on}"
         + (f"; {len(rerouted)} open referrals routed again" if reassign else "")
         + (f"; {len(still_held)} still with them, for a team leader to reassign"
            if still_held else "") + ".")


def register(group: click.Group) -> None:
    group.add_command(user_group)
