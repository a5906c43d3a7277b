"""Setting up authorities, organisations and people: validated, idempotent, audited."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from marshmallow import ValidationError
from sqlalchemy import func, select

from referral_service import validation
from referral_service.domain import audit, routing
from referral_service.domain.errors import Conflict, ValidationFailed
from referral_service.extensions import db
from referral_service.models import Authority, Organisation, OrganisationType, Role, User
from referral_service.models.enums import SUPPORT_NEEDS

# English local housing authorities: unitary (E06), district (E07), metropolitan (E08) and London
# borough (E09) GSS codes. Section 213B applies in England only.
AUTHORITY_CODE = re.compile(r"E0[6-9]\d{6}")
SPECIALISMS = frozenset(SUPPORT_NEEDS) | frozenset(routing.EXTRA_SPECIALISMS)
MIN_PASSWORD_LENGTH = 12
DEFAULT_OFFICER_CAPACITY = 25
NAME_MAX_LENGTH = 200  # authorities.name, organisations.name and users.name are VARCHAR(200)

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Created:
    """The record, and whether this call made it (False: it already existed, unchanged)."""

    record: Any
    created: bool


def _field(errors: dict[str, list[str]], name: str, check: Any, value: Any) -> Any:
    """Run one validator, collecting its message under ``name`` instead of stopping."""
    if value is None or value == "":
        return None
    try:
        return check(value)
    except ValidationError as error:
        errors[name] = [str(m) for m in error.messages] if isinstance(error.messages, list) else [
            str(error.messages)]
        return None


def _require(errors: dict[str, list[str]], name: str, value: str | None, message: str,
             max_length: int = NAME_MAX_LENGTH) -> str:
    value = (value or "").strip()
    if not value:
        errors[name] = [message]
    elif len(value) > max_length:
        # Refused here with a message, not left to the database: PostgreSQL raises on an
        # over-long VARCHAR (an unhandled DataError and a traceback at the CLI), SQLite stores it.
        errors[name] = [f"Use at most {max_length} characters."]
    return value


def create_authority(*, code: str, name: str, team_phone: str | None = None,
                     team_email: str | None = None, contact_working_days: int = 2,
                     release_days_before: int = 5, participating: bool = True,
                     actor: audit.Actor) -> Created:
    errors: dict[str, list[str]] = {}
    code = (code or "").strip().upper()
    if not AUTHORITY_CODE.fullmatch(code):
        errors["code"] = ["Enter the authority's GSS code for England, like E07000241."]
    name = _require(errors, "name", name, "Enter the authority's name.")
    phone = _field(errors, "team_phone", validation.normalise_uk_phone, team_phone)
    email = _field(errors, "team_email", validation.normalise_email, team_email)
    if not 0 <= contact_working_days <= 20:
        errors["contact_working_days"] = ["Enter a number of working days from 0 to 20."]
    if not 0 <= release_days_before <= 20:
        errors["release_days_before"] = ["Enter a number of working days from 0 to 20."]
    if errors:
        raise ValidationFailed(errors)
    wanted = {"name": name, "team_phone": phone, "team_email": email,
              "contact_working_days": contact_working_days,
              "release_days_before": release_days_before, "participating": participating}
    existing = db.session.scalar(select(Authority).where(Authority.code == code))
    if existing is not None:
        return _same_or_conflict(existing, wanted, f"An authority with code {code}")
    authority = Authority(code=code, **wanted)
    db.session.add(authority)
    db.session.flush()
    audit.record(actor, "authority.created", subject_type="authority", subject_id=authority.id,
                 code=code)
    return Created(authority, True)


def set_release_days_before(authority: Authority, days: int, *, actor: audit.Actor) -> bool:
    """Change how many working days before a release or discharge date contact is due.

    Applies to referrals received (or whose date changes) from now on. Returns whether it changed.
    """
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 20:
        raise ValidationFailed({"release_days_before": [
            "Enter a number of working days from 0 to 20."]})
    before = authority.release_days_before
    if before == days:
        return False
    authority.release_days_before = days
    audit.record(actor, "authority.release_days_before_changed", subject_type="authority",
                 subject_id=authority.id, code=authority.code,
                 release_days_before={"from": before, "to": days})
    db.session.flush()
    return True


def set_team_email(authority: Authority, address: str, *, actor: audit.Actor) -> bool:
    """Set the team mailbox (arrival alerts go there; referrers see it). Returns whether it
    changed."""
    errors: dict[str, list[str]] = {}
    email = _field(errors, "team_email", validation.normalise_email, address)
    if not email and not errors:
        errors["team_email"] = ["Enter the team's email address, like housing@council.example."]
    if errors:
        raise ValidationFailed(errors)
    before = authority.team_email
    if before == email:
        return False
    authority.team_email = email
    audit.record(actor, "authority.team_email_changed", subject_type="authority",
                 subject_id=authority.id, code=authority.code)
    db.session.flush()
    return True


def create_organisation(*, name: str, type: str, ods_code: str | None = None,
                        actor: audit.Actor) -> Created:
    errors: dict[str, list[str]] = {}
    name = _require(errors, "name", name, "Enter the organisation's name.")
    try:
        org_type = OrganisationType((type or "").strip())
    except ValueError:
        errors["type"] = ["Choose one of: " + ", ".join(t.value for t in OrganisationType) + "."]
    ods = (ods_code or "").strip().upper() or None
    if ods is not None and not re.fullmatch(r"[A-Z0-9]{3,10}", ods):
        errors["ods_code"] = ["An ODS code is 3 to 10 letters and digits, like RWH or 8HV48."]
    if errors:
        raise ValidationFailed(errors)
    wanted = {"type": org_type, "ods_code": ods}
    existing = db.session.scalar(
        select(Organisation).where(func.lower(Organisation.name) == name.lower())
    )
    if existing is not None:
        return _same_or_conflict(existing, wanted, f"An organisation called '{existing.name}'")
    organisation = Organisation(name=name, **wanted)
    db.session.add(organisation)
    db.session.flush()
    audit.record(actor, "organisation.created", subject_type="organisation",
                 subject_id=organisation.id, type=org_type.value)
    return Created(organisation, True)


def create_user(*, email: str, name: str, role: str, authority_code: str | None = None,
                organisation_name: str | None = None, specialisms: list[str] | None = None,
                patches: list[str] | None = None, capacity: int | None = None,
                password: str | None = None, actor: audit.Actor) -> Created:
    errors: dict[str, list[str]] = {}
    email_value = _field(errors, "email", validation.normalise_email, (email or "").strip())
    if not (email or "").strip():
        errors["email"] = ["Enter the person's work email address."]
    name = _require(errors, "name", name, "Enter the person's name.")
    try:
        role_value: Role | None = Role((role or "").strip())
    except ValueError:
        role_value = None
        errors["role"] = ["Choose one of: " + ", ".join(r.value for r in Role) + "."]
    authority = organisation = None
    if role_value is not None:
        authority, organisation = _home(errors, role_value, authority_code, organisation_name)
    specialisms = sorted({s.strip() for s in specialisms or [] if s.strip()})
    unknown = [s for s in specialisms if s not in SPECIALISMS]
    if unknown:
        errors["specialisms"] = [f"Not a recognised specialism: {', '.join(unknown)}."]
    patches = sorted({p.strip().upper() for p in patches or [] if p.strip()})
    bad_patches = [p for p in patches if not re.fullmatch(r"[A-Z]{1,2}(\d[A-Z\d]?)?", p)]
    if bad_patches:
        errors["patches"] = [f"Not a postcode area or district: {', '.join(bad_patches)}."]
    if role_value is not Role.OFFICER and (specialisms or patches or capacity is not None):
        errors.setdefault("role", []).append(
            "Specialisms, patches and capacity are for officers only.")
    if capacity is not None and not 0 <= capacity <= 500:
        errors["capacity"] = ["Enter a caseload capacity from 0 to 500."]
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [f"Use a password of at least {MIN_PASSWORD_LENGTH} characters."]
    if errors:
        raise ValidationFailed(errors)
    assert role_value is not None and email_value is not None
    if role_value is Role.OFFICER and capacity is None:
        capacity = DEFAULT_OFFICER_CAPACITY
    wanted = {"name": name, "role": role_value,
              "authority_id": authority.id if authority else None,
              "organisation_id": organisation.id if organisation else None,
              "specialisms": specialisms, "patches": patches, "capacity": capacity}
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email_value.lower()))
    if existing is not None:
        return _same_or_conflict(existing, wanted, f"A user with email {email_value}")
    user = User(email=email_value, **wanted)
    if password is not None:
        user.password_hash = _hasher.hash(password)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.created", subject_type="user", subject_id=user.id,
                 role=role_value.value)
    return Created(user, True)


def hash_password(password: str) -> str:
    """The argon2id hash to store for a new password (web password reset)."""
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except Exception:  # argon2 raises several kinds for a mismatch or a corrupt hash
        return False


def _home(errors: dict[str, list[str]], role: Role, authority_code: str | None,
          organisation_name: str | None) -> tuple[Authority | None, Organisation | None]:
    authority = organisation = None
    if authority_code and organisation_name:
        errors["authority"] = ["Give an authority or an organisation, not both."]
        return None, None
    if authority_code:
        authority = db.session.scalar(
            select(Authority).where(Authority.code == authority_code.strip().upper()))
        if authority is None:
            errors["authority"] = [f"No authority has the code '{authority_code}'."]
    if organisation_name:
        organisation = db.session.scalar(
            select(Organisation).where(
                func.lower(Organisation.name) == organisation_name.strip().lower()))
        if organisation is None:
            errors["org"] = [f"No organisation is called '{organisation_name}'."]
    if role.belongs_to_authority and authority is None and "authority" not in errors:
        errors["authority"] = [
            "Officers and team leaders belong to an authority: give --authority."]
    if role.belongs_to_organisation and organisation is None and "org" not in errors:
        errors["org"] = ["Referrers and panel leads belong to an organisation: give --org."]
    if role.belongs_to_authority and organisation_name:
        errors["org"] = ["Officers and team leaders belong to an authority, not an organisation."]
    if role.belongs_to_organisation and authority_code:
        errors["authority"] = ["Referrers and panel leads belong to an organisation."]
    if role is Role.PANEL_LEAD and organisation is not None and not organisation.type.is_panel:
        errors["org"] = ["A panel lead belongs to a MARAC or MAPPA panel organisation."]
    if role is Role.PARTNER and organisation is not None and organisation.type.is_panel:
        errors["org"] = ["A referrer belongs to a referring organisation, not a panel."]
    return authority, organisation


def _same_or_conflict(existing: Any, wanted: dict[str, Any], what: str) -> Created:
    """Idempotent create: the same details again is a no-op; different details are refused."""
    differing = sorted(key for key, value in wanted.items() if getattr(existing, key) != value)
    if differing:
        raise Conflict(f"{what} already exists with a different {', '.join(differing)}. "
                       "Nothing was changed.", differing=differing)
    return Created(existing, False)
