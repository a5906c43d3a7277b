"""The optional TOTP second factor (RFC 6238, authenticator apps), and the authority setting
that makes it mandatory for its officers and team leaders.

Enrolment stores a new secret unconfirmed; only a correct code from the person's app confirms
it. A code is accepted once (the time step used is kept, by a compare-and-set that parallel
requests cannot both pass), from the previous, current or next 30-second step (clock drift).
Wrong codes count towards the same lock as wrong passwords, and are counted the same way.
"""
from __future__ import annotations

import hmac

import pyotp
import segno
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from referral_service import clock
from referral_service.auth import accounts
from referral_service.domain import audit
from referral_service.domain.errors import PermissionDenied, ValidationFailed
from referral_service.extensions import db
from referral_service.models import Authority, AuthoritySignInPolicy, Role, User

ISSUER = "Duty to Refer referrals"
STAFF = frozenset({Role.OFFICER, Role.TEAM_LEADER})


def enabled(user: User) -> bool:
    return user.totp_secret is not None and user.totp_confirmed_at is not None


def policy_for(authority_id: object) -> AuthoritySignInPolicy | None:
    return db.session.get(AuthoritySignInPolicy, authority_id) if authority_id else None


def required_for(user: User) -> bool:
    """The person's authority makes the second factor mandatory for its staff."""
    policy = policy_for(user.authority_id) if user.role in STAFF else None
    return bool(policy and policy.totp_required)


def set_required(authority: Authority, required: bool, *, by: User,
                 ip_address: str | None = None) -> None:
    if by.role is not Role.TEAM_LEADER or by.authority_id != authority.id:
        raise PermissionDenied("Only a team leader of this authority can change this.")
    policy = policy_for(authority.id)
    if policy is None:
        policy = AuthoritySignInPolicy(authority_id=authority.id)
        db.session.add(policy)
    policy.totp_required = required
    policy.updated_at = clock.now()
    audit.record(audit.Actor.for_user(by, ip_address), "authority.totp_policy_changed",
                 subject_type="authority", subject_id=authority.id, required=required)
    db.session.flush()


def begin_enrolment(user: User) -> str:
    """A new secret for the person to add to their app (not in force until confirmed)."""
    if enabled(user):
        raise ValidationFailed({"code": ["A second factor is already set up."]})
    if user.totp_secret is not None:
        return user.totp_secret  # the page was reloaded: keep the secret already scanned
    user.totp_secret = pyotp.random_base32()
    user.totp_confirmed_at = None
    user.totp_last_step = None
    db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    assert user.totp_secret is not None
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(user: User) -> str:
    """The otpauth:// URI as an SVG QR code (paths only: no script, no style attribute)."""
    return str(segno.make(provisioning_uri(user), error="m").svg_inline(
        scale=4, dark="#0b0c0c", light="#ffffff"))


def _matching_step(secret: str, code: str) -> int | None:
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(clock.now())
    for step in (now_step - 1, now_step, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_code(user: User, code: str, *, ip_address: str | None) -> None:
    """Accept the code once, or raise ValidationFailed (counted towards the lock)."""
    if user.totp_secret is None:
        raise ValidationFailed({"code": ["Set up your authenticator app first."]})
    secret = user.totp_secret
    try:
        accepted = accounts.counted_check(
            user, audit.Actor.for_user(user, ip_address),
            lambda: _use_step(user, _matching_step(secret, code)))
    except accounts.SignInRefused as locked:
        raise ValidationFailed({"code": [locked.message]}) from locked
    if not accepted:
        raise ValidationFailed({"code": [
            "Enter the 6-digit code your authenticator app shows now."]})


def _use_step(user: User, step: int | None) -> bool:
    """Mark the code's time step used, unless it (or a later one) already was: a
    compare-and-set, so two requests with the same code cannot both succeed."""
    if step is None:
        return False
    used = db.session.execute(
        update(User)
        .where(User.id == user.id,
               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False))
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def confirm_enrolment(user: User, code: str, *, ip_address: str | None) -> None:
    check_code(user, code, ip_address=ip_address)
    user.totp_confirmed_at = clock.now()
    audit.record(audit.Actor.for_user(user, ip_address), "user.totp_enabled",
                 subject_type="user", subject_id=user.id)
    db.session.flush()


def remove(user: User, *, password: str, code: str, ip_address: str | None) -> None:
    """Take the app off the account, once the person proves it is them again: their password,
    or, for an account without one (signing in through an identity provider), a code from the
    app. A wrong one counts towards the lock, as at sign-in."""
    if required_for(user):
        raise PermissionDenied("Your authority requires a second factor for its staff.")
    if user.password_hash:
        accounts.confirm_password(user, password, ip_address=ip_address)
    else:
        check_code(user, code, ip_address=ip_address)
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    audit.record(audit.Actor.for_user(user, ip_address), "user.totp_removed",
                 subject_type="user", subject_id=user.id)
    db.session.flush()


def users_with_policy(authority_id: object) -> list[User]:
    """Staff of the authority without a second factor yet (shown to team leaders)."""
    return [u for u in db.session.scalars(select(User).where(
        User.authority_id == authority_id, User.role.in_(list(STAFF)), User.active.is_(True))
        .order_by(User.name)) if not enabled(u)]
