"""Who is acting, and the one function that writes an audit event for what they did."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from referral_service import rowbatch
from referral_service.models import ActorType, AuditEvent, Referral, User


@dataclass(frozen=True)
class Actor:
    """The user, partner API client or part of the system behind a change."""

    type: ActorType
    label: str
    user_id: uuid.UUID | None = None
    client_id: str | None = None
    ip_address: str | None = None

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls(ActorType.SYSTEM, f"system:{component}")

    @classmethod
    def for_user(cls, user: User, ip_address: str | None = None) -> Actor:
        return cls(ActorType.USER, user.email, user_id=user.id, ip_address=ip_address)

    @classmethod
    def for_client(cls, client_id: str, ip_address: str | None = None) -> Actor:
        return cls(ActorType.CLIENT, f"client:{client_id}", client_id=client_id,
                   ip_address=ip_address)


def record(
    actor: Actor,
    action: str,
    *,
    subject_type: str,
    subject_id: object,
    referral: Referral | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits it with the change).

    Inside ``rowbatch.collecting()`` it is written with the batch, at its end."""
    return rowbatch.new(
        AuditEvent,
        actor_type=actor.type,
        actor_user_id=actor.user_id,
        actor_client_id=actor.client_id,
        actor_label=actor.label,
        ip_address=actor.ip_address,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        referral=referral,
        from_status=from_status,
        to_status=to_status,
        details=_json_safe(details),
    )


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
