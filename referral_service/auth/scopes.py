"""The OAuth scopes, for the API and auth modules: defined in ``referral_service.scopes``, where
the domain reads them too."""
from __future__ import annotations

from referral_service.scopes import (
    ALL,
    CASES_SHARED,
    DESCRIPTIONS,
    FOR_PANELS,
    FOR_REFERRERS,
    REFERRALS_READ,
    REFERRALS_WRITE,
)

__all__ = [
    "ALL",
    "CASES_SHARED",
    "DESCRIPTIONS",
    "FOR_PANELS",
    "FOR_REFERRERS",
    "REFERRALS_READ",
    "REFERRALS_WRITE",
]
