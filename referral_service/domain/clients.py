"""Partner API clients: created for one organisation, secrets shown once, rotated without
downtime, revoked at once."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy import func, select, update

from referral_service import clock
from referral_service import scopes as scope_names
from referral_service.domain import audit
from referral_service.domain.errors import DomainError, NotFound, ValidationFailed
from referral_service.extensions import db
from referral_service.models import OAuthClient, OAuthToken, Organisation
from referral_service.models.oauth import digest

MAX_GRACE_HOURS = 24 * 14


@dataclass(frozen=True)
class IssuedSecret:
    client: OAuthClient
    client_secret: str | None


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def check_jwks(jwks: Any) -> dict[str, Any]:
    """A public JWKS with at least one signing key and no private key material."""
    try:
        key_set = KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ValidationFailed({"jwks": ["Give a JWKS document: {\"keys\": [...]}."]}) from error
    if not key_set.keys:
        raise ValidationFailed({"jwks": ["The JWKS has no keys."]})
    if any(key.is_private for key in key_set.keys):
        raise ValidationFailed({"jwks": ["Register public keys only: never send a private key."]})
    return {"keys": [key.as_dict(private=False) for key in key_set.keys]}


def create_client(*, organisation_name: str, scopes: list[str], name: str | None = None,
                  jwks: Any = None, with_secret: bool = True, actor: audit.Actor) -> IssuedSecret:
    errors: dict[str, list[str]] = {}
    organisation = db.session.scalar(select(Organisation).where(
        func.lower(Organisation.name) == (organisation_name or "").strip().lower()))
    if organisation is None:
        errors["org"] = [f"No organisation is called '{organisation_name}'."]
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in scope_names.ALL]
    if not wanted:
        errors["scopes"] = ["Give at least one scope: " + ", ".join(scope_names.ALL) + "."]
    elif unknown:
        errors["scopes"] = [f"Not a scope: {', '.join(unknown)}. Choose from: "
                            + ", ".join(scope_names.ALL) + "."]
    elif organisation is not None:
        allowed = (scope_names.FOR_PANELS if organisation.type.is_panel
                   else scope_names.FOR_REFERRERS)
        refused = [s for s in wanted if s not in allowed]
        if refused:
            errors["scopes"] = [
                f"A {organisation.type.value.replace('_', ' ')} organisation cannot have: "
                f"{', '.join(refused)}."]
    keys = None
    if jwks is not None:
        try:
            keys = check_jwks(jwks)
        except ValidationFailed as error:
            errors.update(error.errors)
    if not with_secret and jwks is None:
        errors["jwks"] = ["A client without a secret needs a JWKS for private_key_jwt."]
    if errors:
        raise ValidationFailed(errors)
    assert organisation is not None
    secret = _new_secret() if with_secret else None
    client = OAuthClient(
        client_id="dtr_" + secrets.token_urlsafe(16),
        name=(name or organisation.name).strip()[:200],
        organisation=organisation,
        scopes=wanted,
        secret_hash=digest(secret) if secret else None,
        jwks=keys,
    )
    db.session.add(client)
    db.session.flush()
    audit.record(actor, "oauth_client.created", subject_type="oauth_client",
                 subject_id=client.client_id, organisation=str(organisation.id), scopes=wanted,
                 auth_methods=(["client_secret"] if secret else []) + (["private_key_jwt"]
                                                                       if keys else []))
    return IssuedSecret(client, secret)


def find(client_id: str) -> OAuthClient:
    client = db.session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise NotFound(f"No API client has the id '{client_id}'.")
    return client


def rotate_secret(client_id: str, *, grace_hours: int = 24, actor: audit.Actor) -> IssuedSecret:
    """A new secret now; the old one keeps working for ``grace_hours`` so the partner can deploy
    the new one without an outage (0: the old one stops at once)."""
    if not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise ValidationFailed({"grace_hours": [f"Use 0 to {MAX_GRACE_HOURS} hours."]})
    client = find(client_id)
    if client.revoked_at is not None:
        raise DomainError("This client has been revoked; create a new one.")
    secret = _new_secret()
    if client.secret_hash and grace_hours:
        client.previous_secret_hash = client.secret_hash
        client.previous_secret_expires_at = clock.now() + timedelta(hours=grace_hours)
    else:
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
    client.secret_hash = digest(secret)
    audit.record(actor, "oauth_client.secret_rotated", subject_type="oauth_client",
                 subject_id=client.client_id, grace_hours=grace_hours)
    db.session.flush()
    return IssuedSecret(client, secret)


def revoke(client_id: str, *, actor: audit.Actor) -> OAuthClient:
    """The client can get no new token, and every token it holds is refused from now on."""
    client = find(client_id)
    if client.revoked_at is None:
        now = clock.now()
        client.revoked_at = now
        db.session.execute(update(OAuthToken).where(OAuthToken.client_id == client.client_id,
                                                    OAuthToken.revoked_at.is_(None))
                           .values(revoked_at=now))
        audit.record(actor, "oauth_client.revoked", subject_type="oauth_client",
                     subject_id=client.client_id)
        db.session.flush()
    return client
