"""Which account a verified OpenID Connect identity signs in to (free of Flask requests).

The provider's ``iss`` + ``sub`` name a person for good; an email address does not (it can be
changed, or handed to someone else, at the provider). So the first sign-in finds the account by
an address the provider says it has verified, and binds the account to that ``iss`` + ``sub``
(audited); every later sign-in finds the account by ``iss`` + ``sub`` alone, whatever address
the provider now sends. A bound account is never taken over by another ``sub`` claiming its
address. Nobody gets an account by signing in, and a disabled or locked account cannot sign in
this way either. The caller commits once, refusals included (their audit events count).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from referral_service.auth import accounts
from referral_service.domain import audit
from referral_service.domain.errors import DomainError
from referral_service.extensions import db
from referral_service.models import User

# OpenID Connect Core §2: ``sub`` is at most 255 ASCII characters; ``iss`` fits the same column.
MAX_CLAIM_LENGTH = 255
NO_ACCOUNT = ("There is no account for that email address here. Ask your team leader to add "
              "you, or sign in with your email address and password.")
NO_IDENTITY = ("Your organisation's sign-in did not say who you are. Try again, or sign in "
               "with your email address and password.")
NO_EMAIL = "Your organisation's sign-in did not say your email address."
UNVERIFIED = ("Your organisation's sign-in has not verified your email address, so it cannot "
              "be used to find your account. Ask your IT team to verify it, or sign in with "
              "your email address and password.")
LINKED_ELSEWHERE = ("This account is already linked to a different sign-in at your "
                    "organisation. Sign in with your email address and password, or ask your "
                    "team leader for help.")


class OidcRefused(DomainError):
    """The answer did not name a usable identity, or nobody here may sign in with it."""


@dataclass(frozen=True)
class Identity:
    """What the provider's verified id_token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool


def identity_from(claims: dict[str, Any] | None) -> Identity:
    """The id_token's claims (signature, issuer, audience, expiry and nonce already checked by
    authlib), refused unless ``iss`` and ``sub`` are short printable ASCII text: they are stored
    and looked up as they are."""
    claims = claims or {}
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not (_plain_text(issuer) and _plain_text(subject)):
        raise OidcRefused(NO_IDENTITY)
    email = claims.get("email")
    return Identity(issuer=str(issuer), subject=str(subject),
                    email=email if isinstance(email, str) and email.isprintable() else None,
                    # Only a JSON true counts: missing, false or "true" are not a verification.
                    email_verified=claims.get("email_verified") is True)


def _plain_text(value: object) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= MAX_CLAIM_LENGTH and value.isascii()
            and value.isprintable())


def user_for(claims: dict[str, Any] | None, ip_address: str | None = None) -> User:
    """The account this identity signs in to, bound to it on first use; or :class:`OidcRefused`.
    Flushes the binding and audit events; the caller commits."""
    identity = identity_from(claims)
    user = _bound_to(identity)
    if user is None:
        user = _by_verified_email(identity)
    if not user.active:
        raise OidcRefused(NO_ACCOUNT)
    actor = audit.Actor.for_user(user, ip_address)
    if user.oidc_subject is not None and not _is_bound_to(user, identity):
        _refuse_other_identity(user, identity, actor)
    if accounts.is_locked(user):
        audit.record(actor, "user.sign_in_refused_locked", subject_type="user",
                     subject_id=user.id, method="oidc")
        db.session.flush()
        raise OidcRefused(accounts.LOCKED)
    if user.oidc_subject is None:
        _bind(user, identity, actor)
    return user


def _bound_to(identity: Identity) -> User | None:
    return db.session.scalar(select(User).where(User.oidc_issuer == identity.issuer,
                                                User.oidc_subject == identity.subject))


def _is_bound_to(user: User, identity: Identity) -> bool:
    return (user.oidc_issuer, user.oidc_subject) == (identity.issuer, identity.subject)


def _by_verified_email(identity: Identity) -> User:
    if not identity.email:
        raise OidcRefused(NO_EMAIL)
    if not identity.email_verified:
        raise OidcRefused(UNVERIFIED)
    user = accounts.find_by_email(identity.email)
    if user is None:
        raise OidcRefused(NO_ACCOUNT)
    return user


def _refuse_other_identity(user: User, identity: Identity, actor: audit.Actor) -> None:
    """Someone else at the provider now has this account's address: audited for the team."""
    audit.record(actor, "user.oidc_sign_in_refused_other_identity", subject_type="user",
                 subject_id=user.id, issuer=identity.issuer, subject=identity.subject)
    db.session.flush()
    raise OidcRefused(LINKED_ELSEWHERE)


def _bind(user: User, identity: Identity, actor: audit.Actor) -> None:
    """Bind only an account nobody has bound meanwhile (compare-and-set), and an identity no other
    account holds (the unique index): two first sign-ins at once cannot both win."""
    try:
        with db.session.begin_nested():
            bound = db.session.execute(
                update(User)
                .where(User.id == user.id, User.oidc_subject.is_(None))
                .values(oidc_issuer=identity.issuer, oidc_subject=identity.subject)
                .execution_options(synchronize_session=False))
    except IntegrityError:
        raise OidcRefused(LINKED_ELSEWHERE) from None
    db.session.refresh(user, ["oidc_issuer", "oidc_subject"])
    if bound.rowcount != 1:  # type: ignore[attr-defined]
        if _is_bound_to(user, identity):
            return  # the same person's other tab won: nothing more to record
        _refuse_other_identity(user, identity, actor)
    audit.record(actor, "user.oidc_linked", subject_type="user", subject_id=user.id,
                 issuer=identity.issuer, subject=identity.subject)
    db.session.flush()
