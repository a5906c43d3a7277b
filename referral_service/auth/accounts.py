"""Checking a person's email and password, with lockout after repeated failures (audited).

Free of Flask requests: the sign-in view calls :func:`authenticate` and commits once.
Messages never say whether an email address has an account, except that a locked account says
it is locked (the person needs to know to wait, and the lock is audited for the team).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import func, select

from referral_service.domain import admin, audit, clock
from referral_service.domain.errors import DomainError
from referral_service.extensions import db
from referral_service.models import User

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_FOR = timedelta(minutes=15)
WRONG_DETAILS = "Enter a correct email address and password."
LOCKED = ("This account is locked for 15 minutes after too many wrong passwords. "
          "Try again later, or reset your password.")
# Verified against when no account matches, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = PasswordHasher().hash("not-a-password-of-anyone")


class SignInRefused(DomainError):
    """Wrong details or a locked account: shown to the person as it is."""


@dataclass(frozen=True)
class Attempt:
    email: str
    password: str
    ip_address: str | None = None


def find_by_email(email: str) -> User | None:
    wanted = (email or "").strip().lower()
    if not wanted:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == wanted))


def is_locked(user: User) -> bool:
    return user.locked_until is not None and clock.as_utc(user.locked_until) > clock.now()


def authenticate(attempt: Attempt) -> User:
    """The user whose password this is, or :class:`SignInRefused`. Flushes counters and audit
    events; the caller commits even on refusal, so failures are counted."""
    user = find_by_email(attempt.email)
    if user is None or not user.active or not user.password_hash:
        admin.verify_password(User(password_hash=_DUMMY_HASH), attempt.password)
        raise SignInRefused(WRONG_DETAILS)
    actor = audit.Actor.for_user(user, attempt.ip_address)
    if is_locked(user):
        audit.record(actor, "user.sign_in_refused_locked", subject_type="user",
                     subject_id=user.id)
        db.session.flush()
        raise SignInRefused(LOCKED)
    if not admin.verify_password(user, attempt.password):
        count_failure(user, actor)
        db.session.flush()
        raise SignInRefused(LOCKED if is_locked(user) else WRONG_DETAILS)
    user.failed_sign_ins = 0
    user.failed_sign_ins_since = None
    user.locked_until = None
    db.session.flush()
    return user


def count_failure(user: User, actor: audit.Actor) -> None:
    """A wrong password or second-factor code: counted towards the lock."""
    now = clock.now()
    since = clock.as_utc(user.failed_sign_ins_since) if user.failed_sign_ins_since else None
    if since is None or now - since > FAILURE_WINDOW:
        user.failed_sign_ins, user.failed_sign_ins_since = 0, now
    user.failed_sign_ins += 1
    audit.record(actor, "user.sign_in_failed", subject_type="user", subject_id=user.id,
                 failures=user.failed_sign_ins)
    if user.failed_sign_ins >= MAX_FAILURES:
        user.locked_until = now + LOCK_FOR
        user.failed_sign_ins, user.failed_sign_ins_since = 0, None
        audit.record(actor, "user.locked", subject_type="user", subject_id=user.id,
                     until=user.locked_until.isoformat())


def record_rate_limited(user: User, ip_address: str | None, *, page: str, limit: str) -> None:
    """Too many attempts from one address (or at one email address): refused before any check,
    and audited as a failed sign-in is. Nothing about the account changes."""
    audit.record(audit.Actor.for_user(user, ip_address), "user.sign_in_rate_limited",
                 subject_type="user", subject_id=user.id, page=page, limit=limit)


def record_sign_in(user: User, ip_address: str | None, *, method: str) -> None:
    audit.record(audit.Actor.for_user(user, ip_address), "user.signed_in", subject_type="user",
                 subject_id=user.id, method=method)


def record_sign_out(user: User, ip_address: str | None) -> None:
    audit.record(audit.Actor.for_user(user, ip_address), "user.signed_out", subject_type="user",
                 subject_id=user.id)
