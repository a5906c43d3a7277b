"""``GET /api/v1/authorities``: the housing authorities a person can choose."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from referral_service.api.blueprint import Blueprint
from referral_service.api.schemas import AuthoritySchema
from referral_service.auth.bearer import ANY_TOKEN, require_scope
from referral_service.extensions import db
from referral_service.models import Authority

blp = Blueprint("authorities", __name__, url_prefix="/api/v1/authorities",
                description="Participating housing authorities.")


@blp.route("")
@require_scope(ANY_TOKEN)
@blp.response(200, AuthoritySchema(many=True))
def list_authorities() -> Any:
    return db.session.scalars(
        select(Authority).where(Authority.participating.is_(True)).order_by(Authority.name)
    ).all()
