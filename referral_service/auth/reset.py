"""Password reset by an emailed one-time link.

The link carries 32 random bytes; only their SHA-256 digest is stored, so the table alone cannot
be used to reset anyone's password. A link works once, for 30 minutes, and asking again or
using one cancels the others. The email goes through the outbox like every other message (in
development it appears at /dev/outbox). Asking never says whether the address has an account.
Setting a new password also unlocks the account and ends every session the person had.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select, update

from notifications import outbox, templates
from referral_service.auth import accounts
from referral_service.domain import admin, audit, clock
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import Audience, PasswordResetToken, Role, User
from referral_service.models.oauth import digest

LIFETIME = timedelta(minutes=30)
AUDIENCE = {Role.OFFICER: Audience.OFFICER, Role.TEAM_LEADER: Audience.TEAM_LEADER,
            Role.PARTNER: Audience.REFERRER, Role.PANEL_LEAD: Audience.REFERRER,
            Role.ADMIN: Audience.OFFICER}


def _cancel_outstanding(user: User) -> None:
    db.session.execute(update(PasswordResetToken)
                       .where(PasswordResetToken.user_id == user.id,
                              PasswordResetToken.used_at.is_(None))
                       .values(used_at=clock.now()))


def request_reset(email: str, *, link_for: object, ip_address: str | None) -> None:
    """Email a reset link to the account with this address, if there is an active one.
    ``link_for(raw_token)`` builds the absolute URL of the reset page."""
    user = accounts.find_by_email(email)
    if user is None or not user.active:
        return
    _cancel_outstanding(user)
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=digest(raw), created_at=now,
                                      expires_at=now + LIFETIME))
    url = link_for(raw)  # type: ignore[operator]
    outbox.to_person(None, user, event="password_reset", template="password_reset",
                     audience=AUDIENCE[user.role], text=templates.Text(
                         subject="Reset your password: Duty to Refer referrals",
                         body=(f"Someone asked to reset the password for {user.email}.\n\n"
                               f"To choose a new password, open this link within 30 minutes:\n"
                               f"{url}\n\nThe link works once. If you did not ask, ignore this "
                               "email: your password has not changed.")))
    audit.record(audit.Actor.for_user(user, ip_address), "user.password_reset_requested",
                 subject_type="user", subject_id=user.id)
    db.session.flush()


def valid_token(raw: str) -> PasswordResetToken | None:
    """The unused, unexpired token for this link, or None."""
    if not raw or len(raw) > 100:
        return None
    token = db.session.scalar(select(PasswordResetToken).where(
        PasswordResetToken.token_hash == digest(raw)))
    if token is None or token.used_at is not None or not token.user.active:
        return None
    if clock.as_utc(token.expires_at) <= clock.now():
        return None
    return token


def complete_reset(raw: str, password: str, confirm: str, *,
                   ip_address: str | None) -> User:
    token = valid_token(raw)
    if token is None or not _consume(token):
        raise ValidationFailed({"token": [
            "This link has expired or has already been used. Ask for a new one."]})
    errors: dict[str, list[str]] = {}
    if len(password) < admin.MIN_PASSWORD_LENGTH:
        errors["password"] = [
            f"Use a password of at least {admin.MIN_PASSWORD_LENGTH} characters."]
    elif password != confirm:
        errors["confirm"] = ["The passwords do not match."]
    if errors:
        raise ValidationFailed(errors)  # the caller rolls back: the link is not used up
    user = token.user
    user.password_hash = admin.hash_password(password)
    user.failed_sign_ins, user.failed_sign_ins_since, user.locked_until = 0, None, None
    user.session_version += 1  # every session signed in with the old password ends
    _cancel_outstanding(user)
    audit.record(audit.Actor.for_user(user, ip_address), "user.password_reset",
                 subject_type="user", subject_id=user.id)
    db.session.flush()
    return user


def _consume(token: PasswordResetToken) -> bool:
    """Mark the token used if it is still unused and unexpired: a compare-and-set, so of two
    requests with one link at the same moment only one sets a password."""
    now = clock.now()
    used = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == token.id, PasswordResetToken.used_at.is_(None),
               PasswordResetToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]
