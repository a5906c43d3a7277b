"""``/api/v1/webhook-subscriptions``: a partner's own endpoints, told of changes to the
referrals its organisation made (API.md §2; docs/webhooks.md).

Another organisation's subscriptions are 404, like its referrals. The signing secret is in the
answer to the POST only; it is stored sealed.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import func, select

from integrations import webhook_http
from notifications import webhook_delivery
from notifications.partner_webhooks import DELIVERED
from referral_service import clock, sealing
from referral_service.api.blueprint import Blueprint
from referral_service.auth import scopes
from referral_service.auth.bearer import current_client, current_organisation, require_scope
from referral_service.domain.errors import NotFound, ValidationFailed
from referral_service.extensions import db
from referral_service.models import SubscriptionStatus, WebhookDelivery, WebhookSubscription
from referral_service.schemas.fields import Email

blp = Blueprint("webhook_subscriptions", __name__, url_prefix="/api/v1/webhook-subscriptions",
                description="Your organisation's webhook endpoints: signed POSTs (Standard "
                            "Webhooks) when your referrals change.")

MAX_SUBSCRIPTIONS = 10
RECENT_DELIVERIES = 50


class SubscriptionInSchema(Schema):
    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "example": "https://partner.example/dtr-webhooks",
        "description": "HTTPS; must resolve to public addresses only."})
    event_types = fields.List(
        fields.String(validate=validate.OneOf(DELIVERED, error="Choose from: {choices}.")),
        load_default=list, metadata={"description": "Empty or left out: every type."})
    contact_email = Email(load_default=None, allow_none=True, metadata={
        "description": "Told if deliveries fail for 24 hours (else your partner accounts)."})


class SubscriptionSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    event_types = fields.List(fields.String(metadata={"enum": list(DELIVERED)}))
    contact_email = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["active", "failing"]})
    failing_since = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class CreatedSubscriptionSchema(SubscriptionSchema):
    secret = fields.String(metadata={
        "description": "The signing secret (whsec_…), shown this once: keep it.",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class SubscriptionListSchema(Schema):
    items = fields.List(fields.Nested(SubscriptionSchema))


class DeliverySchema(Schema):
    id = fields.UUID()
    event_id = fields.UUID(metadata={"description": "The webhook-id header."})
    event_type = fields.String()
    status = fields.String(metadata={"enum": ["pending", "delivered", "failed"]})
    attempts = fields.Integer()
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_response_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class DeliveryListSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))


def _own(subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.organisation_id != current_organisation().id:
        raise NotFound("No webhook subscription with that id belongs to your organisation.")
    return subscription


@blp.route("")
class Subscriptions(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.response(200, SubscriptionListSchema)
    def get(self) -> Any:
        """Your organisation's webhook subscriptions."""
        return {"items": db.session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.organisation_id == current_organisation().id)
            .order_by(WebhookSubscription.created_at))}

    @require_scope(scopes.REFERRALS_READ)
    @blp.arguments(SubscriptionInSchema)
    @blp.response(201, CreatedSubscriptionSchema)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Subscribe an HTTPS endpoint; the answer holds its signing secret, shown once."""
        try:
            webhook_delivery.client_for(current_app.config).check(data["url"])
        except webhook_http.Refused as refused:
            raise ValidationFailed({"url": [str(refused)]}) from refused
        organisation = current_organisation()
        existing = db.session.scalar(select(func.count()).select_from(WebhookSubscription)
                                     .where(WebhookSubscription.organisation_id
                                            == organisation.id))
        if (existing or 0) >= MAX_SUBSCRIPTIONS:
            raise ValidationFailed({"url": [f"Your organisation has {MAX_SUBSCRIPTIONS} "
                                            "subscriptions already: delete one first."]})
        secret = webhook_http.new_secret()
        subscription = WebhookSubscription(
            id=uuid.uuid4(), organisation_id=organisation.id, url=data["url"],
            event_types=sorted(set(data["event_types"])), contact_email=data["contact_email"],
            status=SubscriptionStatus.ACTIVE, created_by_client_id=current_client().client_id,
            created_at=clock.now())
        subscription.sealed_secret = sealing.seal(secret, str(subscription.id))
        db.session.add(subscription)  # committed by the request's unit of work
        shown = {name: getattr(subscription, name) for name in SubscriptionSchema().fields}
        return {**shown, "secret": secret}, 201, {
            "Location": f"/api/v1/webhook-subscriptions/{subscription.id}"}


@blp.route("/<uuid:subscription_id>")
class Subscription(MethodView):
    @require_scope(scopes.REFERRALS_READ)
    @blp.response(200, SubscriptionSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, subscription_id: uuid.UUID) -> Any:
        """One of your subscriptions."""
        return _own(subscription_id)

    @require_scope(scopes.REFERRALS_READ)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, subscription_id: uuid.UUID) -> Any:
        """Stop and delete a subscription (and its delivery history)."""
        db.session.delete(_own(subscription_id))
        return "", 204


@blp.route("/<uuid:subscription_id>/deliveries")
@require_scope(scopes.REFERRALS_READ)
@blp.response(200, DeliveryListSchema)
@blp.alt_response(404, response="NOT_FOUND")
def deliveries(subscription_id: uuid.UUID) -> Any:
    """The most recent deliveries (up to 50) and how each went."""
    subscription = _own(subscription_id)
    return {"items": db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.created_at.desc()).limit(RECENT_DELIVERIES))}
