"""One-time links (password reset, a transfer to a council not on the service) that never rest
in the outbox.

The outbox row holds a placeholder naming the reset token, never the link. The link is made only
when the message is handed to its provider: its secret is an HMAC of the token's id under the
app's ``SECRET_KEY``, and only the secret's digest is stored with the token. So no outbox row,
database copy or development outbox page holds a link that works, before or after sending:
making one needs the secret key, which is not in the database. (Changing ``SECRET_KEY`` voids
links not yet used; people ask again.)
"""
from __future__ import annotations

import re
import uuid

from flask import current_app

from referral_service.link_secrets import reset_secret, transfer_secret

# The reset page's path (referral_service.web.password's blueprint).
RESET_PATH = "/password-reset/"
_RESET_LINK = re.compile(r"\[\[password-reset-link:([0-9a-f-]{36})\]\]")
# The page a council not on the service opens (referral_service.web.transfer_link).
TRANSFER_PATH = "/transfer-link/"
_TRANSFER_LINK = re.compile(r"\[\[transfer-link:([0-9a-f-]{36})\]\]")
# Only these templates' placeholders are filled: text that anyone else put in a message (a
# referrer's name, say) can never be turned into a working link. Each template fills only its
# own kind of link.
TEMPLATES = frozenset({"password_reset", "external_transfer"})
SHOWN_INSTEAD = "[a one-time password reset link: sent in the email, never shown]"
TRANSFER_SHOWN_INSTEAD = "[a secure transfer link: sent in the email, never shown]"
__all__ = ["reset_secret", "transfer_secret"]  # made in referral_service.link_secrets


def reset_link_placeholder(token_id: uuid.UUID) -> str:
    return f"[[password-reset-link:{token_id}]]"


def transfer_link_placeholder(link_id: uuid.UUID) -> str:
    return f"[[transfer-link:{link_id}]]"


def for_sending(template: str, body: str) -> str:
    """The body with its working links, to hand to the provider (and to nothing else)."""
    if template not in TEMPLATES:
        return body
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    if template == "external_transfer":
        return _TRANSFER_LINK.sub(
            lambda found: base + TRANSFER_PATH + transfer_secret(uuid.UUID(found.group(1))),
            body)
    return _RESET_LINK.sub(
        lambda found: base + RESET_PATH + reset_secret(uuid.UUID(found.group(1))), body)


def for_showing(body: str) -> str:
    """The body as people may read it in the service: placeholders say a link was sent."""
    return _TRANSFER_LINK.sub(TRANSFER_SHOWN_INSTEAD, _RESET_LINK.sub(SHOWN_INSTEAD, body))
