"""Checking a person's email and password, with lockout after repeated failures (audited).

Free of Flask requests: the sign-in view calls :func:`authenticate` and commits once.
Messages never say whether an email address has an account, except that a locked account says
it is locked (the person needs to know to wait, and the lock is audited for the team).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from sqlalchemy import case, func, literal, or_, select, update

from referral_service import clock
from referral_service.domain import admin, audit
from referral_service.domain.errors import DomainError, ValidationFailed
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
    if not counted_check(user, actor, lambda: admin.verify_password(user, attempt.password)):
        raise SignInRefused(WRONG_DETAILS)
    return user


def confirm_password(user: User, password: str, *, ip_address: str | None) -> None:
    """The signed-in person's password asked again before a change that weakens their sign-in;
    counted as a sign-in attempt is. ValidationFailed (on ``password``) when it is not right."""
    if not password:
        raise ValidationFailed({"password": ["Enter your password."]})
    try:
        right = counted_check(user, audit.Actor.for_user(user, ip_address),
                              lambda: admin.verify_password(user, password))
    except SignInRefused as locked:
        raise ValidationFailed({"password": [locked.message]}) from locked
    if not right:
        raise ValidationFailed({"password": [
            "The password is not right. Enter the password you sign in with."]})


def counted_check(user: User, actor: audit.Actor, check: Callable[[], bool]) -> bool:
    """Run ``check`` (a password or a second-factor code) as one counted attempt: True when
    it passed, False when it failed, :class:`SignInRefused` when the account is locked (before,
    or by this failure).

    The attempt is counted before the check, in one ``UPDATE … RETURNING`` that also refuses a
    locked account. Parallel attempts each get their own count (a read-then-write lost most of
    them, so a burst never locked), and no more than ``MAX_FAILURES`` are checked in a window.
    On PostgreSQL the row stays locked until the request commits, so the attempts at one
    account are decided one after another."""
    if not _count_attempt(user):
        audit.record(actor, "user.sign_in_refused_locked", subject_type="user",
                     subject_id=user.id)
        db.session.flush()
        raise SignInRefused(LOCKED)
    if check():
        user.failed_sign_ins, user.failed_sign_ins_since, user.locked_until = 0, None, None
        db.session.flush()
        return True
    audit.record(actor, "user.sign_in_failed", subject_type="user", subject_id=user.id,
                 failures=user.failed_sign_ins)
    if user.failed_sign_ins >= MAX_FAILURES:
        user.locked_until = clock.now() + LOCK_FOR
        user.failed_sign_ins, user.failed_sign_ins_since = 0, None
        audit.record(actor, "user.locked", subject_type="user", subject_id=user.id,
                     until=user.locked_until.isoformat())
        db.session.flush()
        raise SignInRefused(LOCKED)
    db.session.flush()
    return False


def _count_attempt(user: User) -> bool:
    """Add one attempt to the user's count (a new window when the last one has passed), unless
    the account is locked or has used its attempts; False then. When counted, ``user`` is
    reloaded from the row as updated, so what another request committed meanwhile is seen."""
    now = clock.now()
    new_window = or_(User.failed_sign_ins_since.is_(None),
                     User.failed_sign_ins_since <= now - FAILURE_WINDOW)
    counted = db.session.execute(
        update(User)
        .where(User.id == user.id,
               or_(User.locked_until.is_(None), User.locked_until <= now),
               or_(new_window, User.failed_sign_ins < MAX_FAILURES))
        .values(failed_sign_ins=case((new_window, 1), else_=User.failed_sign_ins + 1),
                failed_sign_ins_since=case(
                    (new_window, literal(now, User.failed_sign_ins_since.type)),
                    else_=User.failed_sign_ins_since))
        .returning(User)
        .execution_options(populate_existing=True, synchronize_session=False)).scalar()
    return counted is not None


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
