"""The OAuth scopes, defined once (API.md §1).

Below the domain (which checks the scopes a new client asks for) and auth (which checks a
token's): the domain must not import auth.
"""
from __future__ import annotations

REFERRALS_WRITE = "referrals:write"
REFERRALS_READ = "referrals:read"
CASES_SHARED = "cases:shared"

DESCRIPTIONS = {
    REFERRALS_WRITE: "Make and withdraw referrals, add notes to them.",
    REFERRALS_READ: "Read your own organisation's referrals, their timelines and notes.",
    CASES_SHARED: "MARAC and MAPPA panel systems: read cases shared with your panel.",
}
ALL = tuple(DESCRIPTIONS)
# Panels receive shared cases; referring bodies make referrals. Neither gets the other's scopes.
FOR_PANELS = frozenset({CASES_SHARED})
FOR_REFERRERS = frozenset({REFERRALS_WRITE, REFERRALS_READ})
