"""Setting how a council's own staff see the service: its display name and footer links.

A council's service must not present itself as GOV.UK, so each authority names itself in the
header and titles and links its own accessibility statement, privacy notice and contact page.
Validated as a whole (one refusal names every bad field, and nothing changes), audited.
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy import select

from referral_service import validation
from referral_service.domain import audit
from referral_service.domain.errors import NotFound, ValidationFailed
from referral_service.extensions import db
from referral_service.models import Authority

NAME_MAX_LENGTH = 200  # authorities.display_name is VARCHAR(200)
# Field name -> the words for it in a footer link.
LINKS: dict[str, str] = {
    "accessibility_url": "Accessibility statement",
    "privacy_url": "Privacy notice",
    "contact_url": "Contact",
}
FIELDS = ("display_name", *LINKS)
UNSET = ""  # passed for a field: clear it (the header falls back to the authority's name)


@dataclass(frozen=True)
class Changed:
    authority: Authority
    changed: list[str]  # the fields whose value changed, in FIELDS order


def as_dict(authority: Authority) -> dict[str, str | None]:
    return {name: getattr(authority, name) for name in FIELDS}


def set_authority_branding(*, code: str, actor: audit.Actor,
                           **wanted: str | None) -> Changed:
    """Set the fields given (``None``: leave it; ``""``: clear it) on authority ``code``."""
    unknown = set(wanted) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a branding field: {sorted(unknown)}")
    authority = db.session.scalar(
        select(Authority).where(Authority.code == (code or "").strip().upper()))
    if authority is None:
        raise NotFound(f"No authority has the code {code!r}: see `referrals authority list`.")
    errors: dict[str, list[str]] = {}
    values: dict[str, str | None] = {}
    for name in FIELDS:
        given = wanted.get(name)
        if given is None:
            continue
        try:
            values[name] = _checked(name, given)
        except ValidationError as error:
            messages = error.messages
            errors[name] = [str(m) for m in messages] if isinstance(messages, list) else [
                str(messages)]
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in values.items() if getattr(authority, name) != value]
    for name in changed:
        setattr(authority, name, values[name])
    if changed:
        db.session.flush()
        audit.record(actor, "authority.branding_changed", subject_type="authority",
                     subject_id=authority.id, fields=changed)
    return Changed(authority, changed)


def _checked(name: str, given: str) -> str | None:
    value = given.strip()
    if value == UNSET:
        return None
    if name == "display_name":
        validation.check_plain_text(value)
        if len(value) > NAME_MAX_LENGTH:
            raise ValidationError(f"Use at most {NAME_MAX_LENGTH} characters.")
        return value
    return validation.check_https_url(value)
