"""Short referral references that people can read out on the phone: DTR-7K3M9Q."""
from __future__ import annotations

import secrets

from sqlalchemy import select

from referral_service.extensions import db
from referral_service.models import Referral

# No 0/O or 1/I (misread), nor U/V (confused on a bad line): 30 symbols, 6 places, ~729 million.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZ"
PREFIX = "DTR-"
LENGTH = 6


def new_reference() -> str:
    """A reference not yet used. The unique constraint is the final guard against a race."""
    while True:
        reference = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        taken = db.session.scalar(select(Referral.id).where(Referral.reference == reference))
        if taken is None:
            return reference


def normalise_reference(text: str) -> str:
    """What a person typed or said, as stored: case, spaces and a missing prefix forgiven."""
    cleaned = "".join(text.split()).upper()
    if not cleaned.startswith(PREFIX):
        cleaned = PREFIX + cleaned.removeprefix("DTR")
    return cleaned
