"""Password reset by an emailed one-time link.

The link carries a 32-byte secret made from the token's id and the secret key; only its SHA-256
digest is stored, and the outbox row holds a placeholder, not the link (which is made only at
send time: notifications.one_time_links). So neither the tables nor the outbox can be used to
reset anyone's password. A link works once, for 30 minutes, and asking again or using one
cancels the others. The email goes through ``notify`` like every other message. Asking never
says whether the address has an account.
Setting a new password also unlocks the account and ends every session the person had.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from notifications import one_time_links
from notifications.outbox import notify
from referral_service import clock
from referral_service.auth import accounts
from referral_service.domain import admin, audit
from referral_service.domain.errors import ValidationFailed
from referral_service.extensions import db
from referral_service.models import PasswordResetToken, User
from referral_service.models.oauth import digest

LIFETIME = timedelta(minutes=30)


def _cancel_outstanding(user: User) -> None:
    db.session.execute(update(PasswordResetToken)
                       .where(PasswordResetToken.user_id == user.id,
                              PasswordResetToken.used_at.is_(None))
                       .values(used_at=clock.now()))


def request_reset(email: str, *, ip_address: str | None) -> None:
    """Email a reset link to the account with this address, if there is an active one."""
    user = accounts.find_by_email(email)
    if user is None or not user.active:
        return
    _cancel_outstanding(user)
    token_id = uuid.uuid4()
    now = clock.now()
    db.session.add(PasswordResetToken(
        id=token_id, user_id=user.id, created_at=now, expires_at=now + LIFETIME,
        token_hash=digest(one_time_links.reset_secret(token_id))))
    notify("password_reset", None, user=user, reset_token_id=token_id)
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
