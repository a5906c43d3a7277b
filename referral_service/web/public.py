"""The public front page: what this service is, and live counts without personal data."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from referral_service.auth.guards import public
from referral_service.extensions import db
from referral_service.models import Authority, Referral, ReferralStatus

bp = Blueprint("public", __name__)


@bp.get("/")
@public("the front page: counts only, no personal data")
def index() -> ResponseReturnValue:
    rows = db.session.execute(
        select(Authority.code, Authority.name, Referral.status, func.count(Referral.id))
        .join(Referral, Referral.authority_id == Authority.id, isouter=True)
        .where(Authority.participating.is_(True))
        .group_by(Authority.code, Authority.name, Referral.status)
        .order_by(Authority.name)
    ).all()
    authorities: dict[str, dict[str, object]] = {}
    for code, name, status, count in rows:
        entry = authorities.setdefault(code, {"code": code, "name": name, "counts": {}})
        if status is not None:
            entry["counts"][status.value] = count  # type: ignore[index]
    return render_template(
        "index.html", authorities=list(authorities.values()), statuses=list(ReferralStatus)
    )
