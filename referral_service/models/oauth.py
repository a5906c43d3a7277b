"""OAuth 2.0 clients of partner systems, and the access tokens issued to them.

Secrets and tokens are stored only as SHA-256 digests: they are long random values (256 bits),
so a fast digest is as safe as a slow password hash here and keeps every API call cheap.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from referral_service import clock
from referral_service.extensions import Model
from referral_service.models.org import Organisation
from referral_service.models.types import UTCDateTime, json_type, new_uuid


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class OAuthClient(Model):
    """A partner system: belongs to exactly one organisation, whose type its referrals record."""

    __tablename__ = "oauth_clients"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("organisations.id"),
                                                       index=True)
    scopes: Mapped[list[str]] = mapped_column(json_type(), default=list)
    secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # During rotation the previous secret keeps working until it expires: no downtime.
    previous_secret_hash: Mapped[str | None] = mapped_column(sa.String(64))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Public keys for private_key_jwt (RFC 7523): a JWKS document.
    jwks: Mapped[dict[str, Any] | None] = mapped_column(json_type())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    organisation: Mapped[Organisation] = relationship()

    # --- what authlib asks of a client -------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        if self.revoked_at is not None:
            return False
        given = digest(client_secret)
        if self.secret_hash and hmac.compare_digest(given, self.secret_hash):
            return True
        return bool(
            self.previous_secret_hash
            and self.previous_secret_expires_at is not None
            and self.previous_secret_expires_at > clock.now()
            and hmac.compare_digest(given, self.previous_secret_hash)
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.revoked_at is not None:
            return False
        if method in {"client_secret_basic", "client_secret_post"}:
            return self.secret_hash is not None
        if method == "private_key_jwt":
            return bool(self.jwks)
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials" and self.revoked_at is None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Scope validity is checked before a token is made (unknown or ungranted scopes are
        ``invalid_scope``); no scope asked for means every scope the client was given."""
        if not scope:
            return " ".join(sorted(self.scopes))
        return " ".join(sorted(set(scope.split()) & set(self.scopes)))

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def get_default_redirect_uri(self) -> None:
        return None


class OAuthToken(Model):
    __tablename__ = "oauth_tokens"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        sa.ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(sa.String(200), default="")
    # Indexed for the scheduler's purge of tokens expired or revoked long ago.
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    expires_in: Mapped[int] = mapped_column(default=3600)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    client: Mapped[OAuthClient] = relationship()

    @property
    def expires_at(self) -> datetime:
        return self.issued_at + timedelta(seconds=self.expires_in)

    # --- what authlib asks of a token --------------------------------------------------------

    def check_client(self, client: OAuthClient) -> bool:
        return self.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.client.revoked_at is not None


class UsedClientAssertion(Model):
    """``jti`` of private_key_jwt assertions already used, to refuse a replayed assertion."""

    __tablename__ = "oauth_used_assertions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_uuid)
    client_id: Mapped[str] = mapped_column(sa.String(64))
    jti: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (sa.UniqueConstraint("client_id", "jti"),)
