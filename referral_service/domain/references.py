"""Short referral references that people can read out on the phone: DTR-7K3M9Q."""
from __future__ import annotations

import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from referral_service.extensions import db
from referral_service.models import Referral

# No 0/O or 1/I (misread), nor U/V (confused on a bad line): 30 symbols, 6 places, ~729 million.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZ"
PREFIX = "DTR-"
LENGTH = 6


_TAKEN = select(Referral.id).where(Referral.reference == bindparam("reference"))


def new_reference(*, check: bool = True) -> str:
    """A reference not yet used. The unique constraint is the final guard against a race.

    ``check=False`` skips the look-up (one round trip per referral): the caller then treats the
    unique constraint failing (``is_reference_taken``) by rolling back and trying again, which
    with ~729 million references is rare (1 in 729 after a million referrals)."""
    while True:
        reference = PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not check or db.session.scalar(_TAKEN, {"reference": reference}) is None:
            return reference


def is_reference_taken(error: IntegrityError) -> bool:
    """Whether ``error`` is the referral reference's unique constraint (PostgreSQL names the
    constraint; SQLite names the column)."""
    text = str(error.orig)
    return "uq_referrals_reference" in text or "referrals.reference" in text


def normalise_reference(text: str) -> str:
    """What a person typed or said, as stored: case, spaces and a missing prefix forgiven."""
    cleaned = "".join(text.split()).upper()
    if not cleaned.startswith(PREFIX):
        cleaned = PREFIX + cleaned.removeprefix("DTR")
    return cleaned
