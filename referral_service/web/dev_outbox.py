"""The development outbox (``/dev/outbox``): every message the service would have sent, when no
SMS or email provider is configured. Never registered when APP_ENV=production."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from referral_service.auth.guards import public
from referral_service.extensions import db
from referral_service.models import OutboxMessage

bp = Blueprint("dev", __name__, url_prefix="/dev")
SHOWN = 200


@bp.get("/outbox")
@public("development only: never registered when APP_ENV=production")
def outbox() -> ResponseReturnValue:
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(SHOWN)).all()
    return render_template("dev_outbox.html", messages=messages, shown=SHOWN)
