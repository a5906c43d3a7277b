"""The referrer's pages (role ``partner``): make a referral on GOV.UK question pages, and follow
their organisation's referrals, with the timeline, the outcome, notes and withdrawal.

``journey`` has the question pages, ``referrals`` the rest; both are thin: the schema, intake,
casework and messages modules do the work, exactly as for the partner API.
"""
from __future__ import annotations

from flask import Blueprint

from referral_service.models import Role
from referral_service.web import navigation

bp = Blueprint("referrer", __name__, url_prefix="/referrer")

navigation.add("Your referrals", "referrer.referrals", Role.PARTNER, order=10)
navigation.add("Make a referral", "referrer.start", Role.PARTNER, order=20)
navigation.set_home(Role.PARTNER, "referrer.referrals")

from referral_service.web.referrer import journey, referrals  # noqa: E402,F401  (routes)
