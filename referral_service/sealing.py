"""Sealing secrets the service must read back (partner webhook signing secrets).

AES-256-GCM with a key derived (HKDF-SHA256) from the app's ``SECRET_KEY`` for this one
purpose; the subscription's id is the associated data, so a sealed value copied onto another
row does not open. Changing ``SECRET_KEY`` makes sealed secrets unreadable: the partners then
create their subscriptions again (docs/webhooks.md).
"""
from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

PURPOSE = b"referral-service webhook secrets v1"
NONCE_BYTES = 12


class Unsealable(ValueError):
    """The sealed value does not open with this key (SECRET_KEY changed, or tampered)."""


def _key() -> bytes:
    secret_key = str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key)


def seal(clear: str, bound_to: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_key()).encrypt(nonce, clear.encode(), bound_to.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(sealed: str, bound_to: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(_key()).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                      bound_to.encode()).decode()
    except (InvalidTag, ValueError) as error:
        raise Unsealable("the sealed secret does not open with this SECRET_KEY") from error
