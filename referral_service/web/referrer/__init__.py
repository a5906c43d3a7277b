"""The referrer's pages (role ``partner``): make a referral on GOV.UK question pages, and follow
their organisation's referrals, with the timeline, the outcome, notes and withdrawal.

``journey`` has the question pages, ``referrals`` the rest; both are thin: the schema, intake,
casework and messages modules do the work, exactly as for the partner API.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("referrer", __name__, url_prefix="/referrer")

from referral_service.web.referrer import journey, referrals  # noqa: E402,F401  (routes)
