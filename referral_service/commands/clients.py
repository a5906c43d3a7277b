"""``referrals client …``: partner API clients (OAuth 2.0 client credentials)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from referral_service.commands.common import CommandRefused, emit, json_option, refusals
from referral_service.commands.org import CLI_ACTOR
from referral_service.domain import clients
from referral_service.extensions import db
from referral_service.models import OAuthClient


def client_json(client: OAuthClient) -> dict[str, object]:
    return {"client_id": client.client_id, "name": client.name,
            "organisation": client.organisation.name, "scopes": client.scopes,
            "private_key_jwt": bool(client.jwks), "client_secret": client.secret_hash is not None,
            "revoked": client.revoked_at is not None}


@click.group("client", help="Partner systems that call the API.")
def client_group() -> None:
    pass


@client_group.command("add")
@click.option("--org", "organisation_name", required=True, help="The organisation's name.")
@click.option("--scopes", required=True, help='e.g. "referrals:write referrals:read"')
@click.option("--name", help="A label for this system, e.g. 'nDelius integration'.")
@click.option("--jwks", "jwks_path", type=click.Path(dir_okay=False, path_type=Path),
              help="File with the client's public JWKS, for private_key_jwt.")
@click.option("--no-secret", is_flag=True, help="Only private_key_jwt: no client secret.")
@json_option
@with_appcontext
@refusals
def client_add(organisation_name: str, scopes: str, name: str | None, jwks_path: Path | None,
               no_secret: bool, as_json: bool) -> None:
    jwks = None
    if jwks_path is not None:
        try:
            jwks = json.loads(jwks_path.read_text())
        except (OSError, ValueError) as error:
            raise CommandRefused(f"Could not read a JSON JWKS from {jwks_path}.") from error
    issued = clients.create_client(
        organisation_name=organisation_name, scopes=scopes.replace(",", " ").split(),
        name=name, jwks=jwks, with_secret=not no_secret, actor=CLI_ACTOR)
    db.session.commit()
    emit(as_json, {**client_json(issued.client), "client_secret": issued.client_secret},
         f"Added API client for {issued.client.organisation.name}.\n"
         f"  client_id:     {issued.client.client_id}\n"
         + (f"  client_secret: {issued.client_secret}\n"
            "Copy the secret now: it is stored only as a hash and cannot be shown again."
            if issued.client_secret else "  (no secret: private_key_jwt only)"))


@client_group.command("rotate-secret")
@click.option("--client-id", required=True)
@click.option("--grace-hours", type=int, default=24, show_default=True,
              help="How long the old secret keeps working (0: stop it now).")
@json_option
@with_appcontext
@refusals
def client_rotate(client_id: str, grace_hours: int, as_json: bool) -> None:
    issued = clients.rotate_secret(client_id, grace_hours=grace_hours, actor=CLI_ACTOR)
    db.session.commit()
    emit(as_json, {"client_id": client_id, "client_secret": issued.client_secret,
                   "previous_secret_valid_until": issued.client.previous_secret_expires_at},
         f"New secret for {client_id}: {issued.client_secret}\n"
         + (f"The old secret works until {issued.client.previous_secret_expires_at:%Y-%m-%d %H:%M} "
            "UTC." if issued.client.previous_secret_expires_at else
            "The old secret no longer works."))


@client_group.command("revoke")
@click.option("--client-id", required=True)
@json_option
@with_appcontext
@refusals
def client_revoke(client_id: str, as_json: bool) -> None:
    client = clients.revoke(client_id, actor=CLI_ACTOR)
    db.session.commit()
    emit(as_json, client_json(client),
         f"Revoked {client_id}: it gets no new tokens and its tokens are refused from now on.")


@client_group.command("list")
@json_option
@with_appcontext
def client_list(as_json: bool) -> None:
    found = db.session.scalars(select(OAuthClient).order_by(OAuthClient.created_at)).all()
    emit(as_json, {"items": [client_json(c) for c in found]},
         "\n".join(f"{c.client_id}  {c.organisation.name}  {' '.join(c.scopes)}"
                   + ("  (revoked)" if c.revoked_at else "") for c in found)
         or "No API clients yet.")


def register(group: click.Group) -> None:
    group.add_command(client_group)
