"""``referrals authority …`` and ``referrals org …``."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from referral_service.commands.common import emit, json_option, refusals
from referral_service.domain import admin, audit, branding
from referral_service.domain.errors import NotFound
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, OrganisationType

CLI_ACTOR = audit.Actor.system("cli")


def authority_json(authority: Authority) -> dict[str, object]:
    return {"id": str(authority.id), "code": authority.code, "name": authority.name,
            "team_phone": authority.team_phone, "team_email": authority.team_email,
            "participating": authority.participating,
            "contact_working_days": authority.contact_working_days,
            "release_days_before": authority.release_days_before}


def organisation_json(organisation: Organisation) -> dict[str, object]:
    return {"id": str(organisation.id), "name": organisation.name,
            "type": organisation.type.value, "ods_code": organisation.ods_code}


@click.group("authority", help="Housing authorities that receive referrals.")
def authority_group() -> None:
    pass


@authority_group.command("add")
@click.option("--code", required=True, help="GSS code, e.g. E07000241.")
@click.option("--name", required=True)
@click.option("--team-phone")
@click.option("--team-email")
@click.option("--contact-working-days", type=click.IntRange(0, 20), default=2, show_default=True,
              help="First contact attempt due within this many working days.")
@click.option("--release-days-before", type=click.IntRange(0, 20), default=5, show_default=True,
              help="With a release or discharge date: contact due this many working days before.")
@click.option("--not-participating", is_flag=True,
              help="Known council that does not take referrals here (a transfer target only).")
@json_option
@with_appcontext
@refusals
def authority_add(code: str, name: str, team_phone: str | None, team_email: str | None,
                  contact_working_days: int, release_days_before: int, not_participating: bool,
                  as_json: bool) -> None:
    result = admin.create_authority(code=code, name=name, team_phone=team_phone,
                                    team_email=team_email,
                                    contact_working_days=contact_working_days,
                                    release_days_before=release_days_before,
                                    participating=not not_participating, actor=CLI_ACTOR)
    db.session.commit()
    authority = result.record
    verb = "Added" if result.created else "Already set up, unchanged:"
    emit(as_json, {**authority_json(authority), "created": result.created},
         f"{verb} authority {authority.code} {authority.name}.")


def _authority(code: str) -> Authority:
    authority = db.session.scalar(select(Authority).where(Authority.code == code.strip().upper()))
    if authority is None:
        raise NotFound(f"No authority has the code '{code}'.")
    return authority


@authority_group.command("set-release-days")
@click.option("--code", required=True, help="The authority's GSS code.")
@click.option("--days", type=click.IntRange(0, 20), required=True,
              help="Contact due this many working days before a release or discharge date.")
@json_option
@with_appcontext
@refusals
def authority_set_release_days(code: str, days: int, as_json: bool) -> None:
    authority = _authority(code)
    changed = admin.set_release_days_before(authority, days, actor=CLI_ACTOR)
    db.session.commit()
    emit(as_json, {**authority_json(authority), "changed": changed},
         f"{authority.code}: contact due {days} working day(s) before a release or discharge"
         + ("." if changed else " (unchanged)."))


@authority_group.command("team-email")
@click.argument("code")
@click.argument("address")
@json_option
@with_appcontext
@refusals
def authority_team_email(code: str, address: str, as_json: bool) -> None:
    """Set the team mailbox: referrals landing in the team queue are told to it (urgent ones at
    once, others in a digest every ARRIVAL_DIGEST_MINUTES), and referrers see it."""
    authority = _authority(code)
    changed = admin.set_team_email(authority, address, actor=CLI_ACTOR)
    db.session.commit()
    emit(as_json, {**authority_json(authority), "changed": changed},
         f"{authority.code}: team mailbox {authority.team_email}"
         + ("." if changed else " (unchanged)."))


@authority_group.command("list")
@json_option
@with_appcontext
def authority_list(as_json: bool) -> None:
    authorities = db.session.scalars(select(Authority).order_by(Authority.name)).all()
    emit(as_json, {"items": [authority_json(a) for a in authorities]},
         "\n".join(f"{a.code}  {a.name}" + ("" if a.participating else "  (not participating)")
                   for a in authorities) or "No authorities yet.")


@authority_group.command("branding")
@click.option("--code", required=True, help="The authority's GSS code, e.g. E07000241.")
@click.option("--display-name", help="The council's name as its staff see it in the header and "
              "page titles, e.g. \"Welwyn Hatfield Borough Council\" (default: its name).")
@click.option("--accessibility-url", help="Its accessibility statement (https://…).")
@click.option("--privacy-url", help="Its privacy notice (https://…).")
@click.option("--contact-url", help="Its contact page (https://…).")
@json_option
@with_appcontext
@refusals
def authority_branding(code: str, display_name: str | None, accessibility_url: str | None,
                       privacy_url: str | None, contact_url: str | None, as_json: bool) -> None:
    """What the council's own staff see instead of GOV.UK's branding: set the options given
    (an empty value clears one); with none, show what is set."""
    result = branding.set_authority_branding(
        code=code, display_name=display_name, accessibility_url=accessibility_url,
        privacy_url=privacy_url, contact_url=contact_url, actor=CLI_ACTOR)
    db.session.commit()
    authority = result.authority
    settings = branding.as_dict(authority)
    shown = "\n".join(f"  {name}: {value or '(not set)'}" for name, value in settings.items())
    verb = f"Changed {', '.join(result.changed)}" if result.changed else "Unchanged"
    emit(as_json, {"code": authority.code, "name": authority.name, **settings,
                   "changed": result.changed},
         f"{verb}: authority {authority.code} {authority.name}.\n{shown}")


@click.group("org", help="Referring organisations and MARAC/MAPPA panels.")
def org_group() -> None:
    pass


@org_group.command("add")
@click.option("--name", required=True)
@click.option("--type", "org_type", required=True,
              help="One of: " + ", ".join(t.value for t in OrganisationType))
@click.option("--ods-code", help="NHS Organisation Data Service code, where there is one.")
@json_option
@with_appcontext
@refusals
def org_add(name: str, org_type: str, ods_code: str | None, as_json: bool) -> None:
    result = admin.create_organisation(name=name, type=org_type, ods_code=ods_code,
                                       actor=CLI_ACTOR)
    db.session.commit()
    organisation = result.record
    verb = "Added" if result.created else "Already set up, unchanged:"
    emit(as_json, {**organisation_json(organisation), "created": result.created},
         f"{verb} organisation {organisation.name} ({organisation.type.value}).")


@org_group.command("list")
@json_option
@with_appcontext
def org_list(as_json: bool) -> None:
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    emit(as_json, {"items": [organisation_json(o) for o in organisations]},
         "\n".join(f"{o.name}  ({o.type.value})" for o in organisations) or "No organisations yet.")


def register(group: click.Group) -> None:
    group.add_command(authority_group)
    group.add_command(org_group)
