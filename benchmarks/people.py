"""Referral bodies for load runs: a different person on every request of every run, so that
duplicate links stay as rare as in life (names are matched on letters only, so people differ by
letters, and phones differ by number)."""
from __future__ import annotations

import random
from typing import Any

RUN = random.SystemRandom().randrange(10**8)


def letters(n: int) -> str:
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(97 + digit) + out
        if n == 0:
            return out


def referral_body(n: int, prefix: str = "Load") -> dict[str, Any]:
    return {
        "authority_code": "E07000241",
        "referrer": {"name": "Sam Patel", "email": "sam.patel@probation.example"},
        "consent": {"given": True},
        "person": {"first_name": prefix + letters(RUN + n), "last_name": "Person",
                   "date_of_birth": "1990-04-01",
                   "phone": f"077{(RUN + n) % 10**8:08d}", "email": f"load{RUN + n}@example.org",
                   "preferred_contact_method": "sms", "safe_contact": {"sms": True}},
        "housing_situation": "threatened_with_homelessness",
        "reason": "Section 21 notice expires next month.",
        "support_needs": ["offending_history"],
    }
