"""The development outbox (``/dev/outbox``): every message the service kept instead of sending,
when no SMS or email provider is configured and ``DEV_OUTBOX=on`` (never in production; see
``referral_service.config.dev_outbox_enabled``). Administrators only, the demo included: the
rows name real people. One-time links are never shown (they are not in the rows either)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from notifications.one_time_links import for_showing
from referral_service.auth.guards import roles
from referral_service.extensions import db
from referral_service.models import OutboxMessage, Role

bp = Blueprint("dev", __name__, url_prefix="/dev")
SHOWN = 200


@bp.get("/outbox")
@roles(Role.ADMIN)
def outbox() -> ResponseReturnValue:
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(SHOWN)).all()
    return render_template("dev_outbox.html", messages=messages, shown=SHOWN,
                           readable=for_showing)
