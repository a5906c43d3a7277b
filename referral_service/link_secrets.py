"""The secrets in one-time links (password reset, a transfer to a council not on the service).

256 bits from the app's ``SECRET_KEY`` and the link's id, for one purpose only: the database keeps
only their digest, and the link is made only when its email is handed to the provider
(``notifications.one_time_links``). Here, below both, so the domain code that issues a link and
the sender that writes it agree without the domain importing anything of notifications.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from flask import current_app


def _secret(purpose: str, link_id: uuid.UUID) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(key, f"{purpose}:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def reset_secret(token_id: uuid.UUID) -> str:
    """The secret in the reset link for this token (what the person's browser sends back)."""
    return _secret("password-reset", token_id)


def transfer_secret(link_id: uuid.UUID) -> str:
    """The secret in a transfer link (what the receiving council's browser sends back)."""
    return _secret("external-transfer", link_id)
